"""The ``fieldapp`` command: version, subcommand registration, global options, errors."""

from __future__ import annotations

import argparse
import subprocess
import sys
import types
from pathlib import Path
from typing import Any

import pytest

import fieldapp
from app import cli
from fieldapp.errors import ConfigError
from fieldapp.logs import stop_logging


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Every folder the command touches (data, logs, config, site) is inside tmp_path."""
    for name, sub in (("FIELDAPP_DATA_DIR", "data"), ("FIELDAPP_CONFIG_DIR", "user"), ("FIELDAPP_SITE_CONFIG", "site")):
        monkeypatch.setenv(name, str(tmp_path / sub))
    monkeypatch.delenv("FIELDAPP_LOG_DIR", raising=False)
    yield
    stop_logging()


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    """`fieldapp --version` prints the package version and exits 0."""
    with pytest.raises(SystemExit) as caught:
        cli.main(["--version"])
    assert caught.value.code == 0
    assert capsys.readouterr().out.strip() == f"fieldapp {fieldapp.__version__}"


def test_missing_subcommand_module_is_skipped(monkeypatch: pytest.MonkeyPatch) -> None:
    """A listed subcommand module that does not exist yet is skipped, the others still register."""
    monkeypatch.setattr(cli, "SUBCOMMANDS", ("app.cli.not_written_yet", "app.cli.sync_cmd"))
    parser = cli.build_parser()
    assert "sync" in parser.format_help() and "not_written_yet" not in parser.format_help()


def test_broken_subcommand_module_is_not_hidden(monkeypatch: pytest.MonkeyPatch) -> None:
    """A subcommand whose own import fails (missing dependency) raises instead of vanishing."""
    monkeypatch.setattr(cli, "SUBCOMMANDS", ("app.cli.uses_missing",))

    def fake_import(name: str) -> Any:
        raise ModuleNotFoundError("No module named 'some_dependency'", name="some_dependency")

    monkeypatch.setattr(cli.importlib, "import_module", fake_import)
    with pytest.raises(ModuleNotFoundError, match="some_dependency"):
        cli.build_parser()


def test_subcommand_func_is_called_with_data_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A registered subcommand runs with its args; --data-dir reaches it through FIELDAPP_DATA_DIR."""
    seen: dict[str, str] = {}

    def register(subparsers: Any) -> None:
        parser = subparsers.add_parser("probe")
        parser.set_defaults(func=lambda args: seen.update(data=cli.os.environ["FIELDAPP_DATA_DIR"]) or 7)

    module = types.ModuleType("app.cli.probe")
    module.register = register  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "app.cli.probe", module)
    monkeypatch.setattr(cli, "SUBCOMMANDS", ("app.cli.probe",))
    assert cli.main(["--data-dir", str(tmp_path / "d"), "probe"]) == 7
    assert seen["data"] == str((tmp_path / "d").resolve())
    assert (tmp_path / "d" / "logs").is_dir()  # the log follows the data folder


def test_fieldapp_error_becomes_message_and_status_2(monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    """A FieldappError from a command is printed as one line (no traceback) with exit status 2."""
    def register(subparsers: Any) -> None:
        def fail(args: argparse.Namespace) -> int:
            raise ConfigError("C:/x/fieldapp.toml, line 3: broken")
        subparsers.add_parser("fail").set_defaults(func=fail)

    module = types.ModuleType("app.cli.fail")
    module.register = register  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "app.cli.fail", module)
    monkeypatch.setattr(cli, "SUBCOMMANDS", ("app.cli.fail",))
    assert cli.main(["fail"]) == 2
    assert capsys.readouterr().err.strip() == "fieldapp: C:/x/fieldapp.toml, line 3: broken"


def test_no_subcommand_opens_the_app(monkeypatch: pytest.MonkeyPatch) -> None:
    """With no subcommand, ui.app.run_app is called (imported only then)."""
    calls: list[Any] = []
    fake = types.ModuleType("ui.app")
    fake.run_app = lambda argv=None: calls.append(argv) or 0  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "ui.app", fake)
    assert cli.main([]) == 0
    assert len(calls) == 1


def test_cli_import_stays_light() -> None:
    """Importing the CLI and building the parser does not import Qt, SQLAlchemy, Pillow or requests."""
    code = ("import sys, app.cli as c; c.build_parser(); "
            "print(sorted(m for m in ('PySide6', 'sqlalchemy', 'PIL', 'requests') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_a_sync_loads_no_qt_pillow_or_reportlab(tmp_path: Path) -> None:
    """What `fieldapp sync` imports and opens (settings, store, engine, sign-in) loads no Qt, Pillow or reportlab."""
    code = ("import sys; from app.cli import sync_cmd; from fieldapp import FieldStore; "
            "import sync.engine, sync.session; sync_cmd._settings(); "
            f"FieldStore.open(r'{tmp_path}').close(); "
            "print(sorted(m for m in ('PySide6', 'PIL', 'reportlab', 'alembic') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          env={**cli.os.environ, "FIELDAPP_DATA_DIR": str(tmp_path)})
    # A new store is migrated (alembic) once; the folder is opened again below, as every later sync opens it.
    again = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                           env={**cli.os.environ, "FIELDAPP_DATA_DIR": str(tmp_path)})
    assert done.stdout.strip() == "['alembic']" and again.stdout.strip() == "[]"


def test_smoke_test_passes_offscreen(tmp_path: Path) -> None:
    """`fieldapp --smoke-test` (in a fresh process, offscreen) migrates a store, shows the window, imports a photo."""
    shot = Path(__file__).resolve().parents[1] / "artifacts" / "smoke-test.png"
    shot.unlink(missing_ok=True)
    env = {**cli.os.environ, "QT_QPA_PLATFORM": "offscreen"}
    code = "from app.cli import main; raise SystemExit(main(['--smoke-test', '--screenshot', r'%s']))" % shot
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=240)
    assert done.returncode == 0, done.stdout + done.stderr
    for step in ("store opened and migrated", "main window shown", "screenshot saved", "photo imported",
                 "SMOKE TEST PASSED"):
        assert step in done.stdout
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 5000


def test_smoke_test_reports_failure(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """When a step fails the smoke test says so and exits 1 (here: migrations missing from the bundle)."""
    from app.cli import smoke

    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")  # the smoke test sets it; keep that inside this test
    monkeypatch.setattr("fieldapp.resources.package_path", lambda package, *parts: Path("/nonexistent"))
    assert smoke.run_smoke_test(None) == 1
    out = capsys.readouterr()
    assert "SMOKE TEST FAILED" in out.out and "migrations are missing" in out.err
