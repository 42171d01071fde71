"""Where the portal's commands find their database, and that its password stays out of command lines and logs."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from portal.cli import main
from portal.core.db import Database
from portal.server import free_port, wait_healthy
from tests.conftest import fresh_pg_database

SECRET = "hunter2-Zq9"
WARNING = "holds a password"
#: The documented name (portal/README.md), pinned here.
DATABASE_URL_ENV = "FIELDAPP_PORTAL_DATABASE_URL"


@pytest.fixture(autouse=True)
def _no_variable(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Neither the tester's environment nor the default database file in the working copy."""
    monkeypatch.delenv(DATABASE_URL_ENV, raising=False)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def pg_with_password() -> Iterator[str]:
    """A fresh PostgreSQL database's URL with a password in it (the test server trusts 127.0.0.1, so any password is let in)."""
    with fresh_pg_database("fieldapp_dburl") as url:
        yield url.replace("postgres@", f"postgres:{SECRET}@", 1)


def _tidy(*options: str) -> int:
    return main(["housekeeping", "--blob-dir", "blobs", *options])


def test_variable_is_used_without_the_option(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The variable stands in for a required --database-url, and for the default of a command that has one."""
    monkeypatch.setenv(DATABASE_URL_ENV, f"sqlite:///{tmp_path / 'env.db'}")
    assert main(["seed", "--cases", "3"]) == 0
    assert (tmp_path / "env.db").exists()
    (tmp_path / "env.db").unlink()
    assert _tidy() == 0
    assert (tmp_path / "env.db").exists() and not (tmp_path / "fieldapp-portal.db").exists()


def test_option_beats_variable_and_default_stays(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """--database-url wins over the variable; with neither, a command keeps its default file."""
    assert _tidy() == 0
    assert (tmp_path / "fieldapp-portal.db").exists()
    monkeypatch.setenv(DATABASE_URL_ENV, f"sqlite:///{tmp_path / 'env.db'}")
    assert _tidy("--database-url", f"sqlite:///{tmp_path / 'option.db'}") == 0
    assert (tmp_path / "option.db").exists() and not (tmp_path / "env.db").exists()


@pytest.mark.parametrize("command", [["seed"], ["add-user", "--username", "root", "--role", "admin", "--password-stdin"]])
def test_required_database_says_both_ways(command: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    """Without the option or the variable a command that needs a database stops and names both."""
    with pytest.raises(SystemExit) as stopped:
        main(command)
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert DATABASE_URL_ENV in err and "--database-url" in err


def test_unreadable_url_is_not_echoed(capsys: pytest.CaptureFixture[str]) -> None:
    """A URL SQLAlchemy cannot parse is refused without repeating it (it may hold a password)."""
    with pytest.raises(SystemExit):
        _tidy("--database-url", f"postgresql://portal:{SECRET}@db:port/portal")
    err = capsys.readouterr().err
    assert "cannot be read" in err and SECRET not in err


@pytest.mark.parametrize("where", ["argv", "query"])
def test_password_on_the_command_line_warns_once(
    where: str, pg_with_password: str, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    """A password in --database-url (user:password@ or ?password=) is one warning that says what to do, never the password."""
    url = pg_with_password if where == "argv" else pg_with_password.replace(f":{SECRET}@", "@") + f"?password={SECRET}"
    with caplog.at_level(logging.DEBUG):
        assert _tidy("--database-url", url) == 0
    warnings = [r for r in caplog.records if WARNING in r.getMessage()]
    assert len(warnings) == 1 and warnings[0].levelno == logging.WARNING
    assert DATABASE_URL_ENV in warnings[0].getMessage() and "pgpass" in warnings[0].getMessage()
    out = capsys.readouterr()
    assert SECRET not in caplog.text + out.out + out.err


def test_no_warning_without_a_password_in_argv(
    pg_with_password: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """No warning for a URL without a password, nor for a password given in the variable."""
    with caplog.at_level(logging.DEBUG):
        assert _tidy("--database-url", pg_with_password.replace(f":{SECRET}@", "@")) == 0
        monkeypatch.setenv(DATABASE_URL_ENV, pg_with_password)
        assert _tidy() == 0
    assert not [r for r in caplog.records if WARNING in r.getMessage()]
    assert SECRET not in caplog.text


def test_serve_logs_never_show_the_password(pg_with_password: str, tmp_path: Path) -> None:
    """``serve`` with a password in argv: the warning once in its output, the password nowhere in it (workers too)."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "portal.cli", "serve", "--database-url", pg_with_password, "--blob-dir", str(tmp_path / "b"),
         "--port", str(port), "--workers", "2"],
        env={**os.environ, "FIELDAPP_PORTAL_KDF_N": "16"}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        wait_healthy(f"http://127.0.0.1:{port}", lambda: process.poll() is None)
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=30)
    assert output.count(WARNING) == 1, output
    assert "Uvicorn running" in output and SECRET not in output


def test_connection_failure_does_not_show_the_password() -> None:
    """A database that cannot be reached: the traceback and error name no password."""
    url = f"postgresql://postgres:{SECRET}@127.0.0.1:{free_port()}/none"
    result = subprocess.run([sys.executable, "-m", "portal.cli", "seed", "--cases", "1"], capture_output=True, text=True,
                            timeout=60, env={**os.environ, DATABASE_URL_ENV: url})
    assert result.returncode != 0 and "Connection refused" in result.stderr
    assert SECRET not in result.stdout + result.stderr


@pytest.mark.parametrize(("mode", "read"), [(0o600, True), (0o644, False)])
def test_pgpass_file_gives_the_password(mode: int, read: bool, pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A URL without a password and a pgpass file: libpq takes the file's password (a file others can read, it ignores).

    The test server trusts 127.0.0.1, so a connection proves nothing; libpq's PQpass (psycopg's
    ``info.password``) tells which password it would have sent.
    """
    passfile = tmp_path / "pgpass"
    passfile.write_text(f"127.0.0.1:5432:*:postgres:{SECRET}\n")
    passfile.chmod(mode)
    monkeypatch.setenv("PGPASSFILE", str(passfile))
    monkeypatch.delenv("PGPASSWORD", raising=False)
    db = Database(pg_url)
    try:
        with db.read_once_connection() as connection:
            assert connection.execute(text("SELECT 1")).scalar() == 1
            info = connection.connection.driver_connection.info  # type: ignore[union-attr]
            assert (info.password == SECRET) is read
    finally:
        db.dispose()
