"""``fieldapp doctor``: each check reports what it found, failures make the exit status non-zero."""

from __future__ import annotations

import io
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "sync"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fieldapp"))  # store_helpers, factories
from httpstub import Reply, StubServer, server_tls  # noqa: E402
from test_transport_tls import ca_and_cert  # noqa: E402,F401  (the private CA fixture, reused)

from fieldapp import FieldStore  # noqa: E402
from app.cli import doctor, main  # noqa: E402
from fieldapp.logs import stop_logging  # noqa: E402

HEALTHY = {"status": "ok", "database": "ok"}


@pytest.fixture
def machine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Data, config and site folders redirected into tmp_path; returns the site folder."""
    site = tmp_path / "site"
    site.mkdir()
    monkeypatch.setenv("FIELDAPP_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("FIELDAPP_CONFIG_DIR", str(tmp_path / "user"))
    monkeypatch.setenv("FIELDAPP_SITE_CONFIG", str(site))
    monkeypatch.delenv("FIELDAPP_LOG_DIR", raising=False)
    yield site
    stop_logging()  # `main` installs the rotating file handler into tmp_path


def run_doctor(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    status = doctor.run(doctor_args(*args), out=out)
    return status, out.getvalue()


def doctor_args(*args: str) -> object:
    import argparse

    parser = argparse.ArgumentParser()
    doctor.register(parser.add_subparsers())
    return parser.parse_args(["doctor", *args])


def line(report: str, name: str) -> str:
    return next(text for text in report.splitlines() if f"] {name}" in text)


@pytest.fixture
def http_portal() -> Iterator[StubServer]:
    """A plain-http portal on 127.0.0.1 answering its health check."""
    server = StubServer(lambda request: Reply(200, HEALTHY) if request.path == "/api/v1/health" else Reply(404, {}))
    yield server
    server.close()


@pytest.fixture
def https_portal(ca_and_cert: tuple[Path, Path, Path]) -> Iterator[StubServer]:  # noqa: F811
    """An https portal whose certificate comes from a private (council proxy) CA."""
    _, cert, key = ca_and_cert
    server = StubServer(lambda request: Reply(200, HEALTHY), ssl_context=server_tls(cert, key))
    yield server
    server.close()


def test_fresh_machine_offline_is_fine(machine: Path) -> None:
    """On a new laptop (no database yet) every local check passes; the report names the folders."""
    status, report = run_doctor("--offline")
    assert status == 0, report
    assert "[  ok   ] Configuration" in report and "[  ok   ] Data folder" in report
    assert "not created yet" in line(report, "Database") and "skipped" in line(report, "Portal")
    assert str(machine.parent / "data" / "logs") in report
    assert "Result:" in report


def test_broken_config_fails_naming_file_and_line(machine: Path) -> None:
    """A broken site file makes doctor fail, with the file and line in the report."""
    (machine / "fieldapp.toml").write_text('portal_url = "https://x.example"\nsync_interval_minutes = "soon"\n')
    status, report = run_doctor("--offline")
    assert status == 1
    assert f"{machine / 'fieldapp.toml'}, line 2" in line(report, "Configuration")


def test_database_integrity_and_pending(machine: Path) -> None:
    """An existing store is checked read-only: integrity ok and nothing waiting means safe to wipe."""
    store = FieldStore.open(machine.parent / "data")
    store.close()
    status, report = run_doctor("--offline")
    assert status == 0, report
    assert "integrity ok" in line(report, "Database")
    assert "safe to wipe" in line(report, "Unsent work")


def test_a_draft_is_named_and_never_safe_to_wipe(machine: Path) -> None:
    """A half-done visit makes the unsent-work line a warning naming its case and start; no "safe to wipe"."""
    from store_helpers import filled_store

    filled = filled_store(machine.parent / "data")
    visit = filled.draft(answers={"cause": "Leak"})
    filled.store.close()
    status, report = run_doctor("--offline")
    assert status == 0, report
    unsent = report[report.index("] Unsent work"):]
    assert unsent.startswith("] Unsent work") and "[warning] Unsent work" in report
    assert "safe to wipe" not in report.lower().replace("not safe to wipe", "")
    assert "1 draft" in unsent and "DM-2025-00001" in unsent
    assert f"started {visit.started_at:%Y-%m-%d %H:%M} UTC" in unsent and "1 answer" in unsent


def test_a_queued_hazard_report_is_named_and_not_safe_to_wipe(machine: Path) -> None:
    """Queued work of any kind (here a hazard report) is said by name: never "0 visits" nor "safe to wipe"."""
    from store_helpers import filled_store

    filled = filled_store(machine.parent / "data")
    filled.store.report_hazard(case_id=filled.case_id, hazards=["Excess cold"], description="No heating")
    filled.store.close()
    _status, report = run_doctor("--offline")
    unsent = line(report, "Unsent work")
    assert "[warning]" in unsent and "1 hazard report waiting to be sent" in unsent and "0 visits" not in unsent
    assert "safe to wipe" not in report.lower().replace("not safe to wipe", "")


def test_needs_attention_is_not_safe_to_wipe(machine: Path) -> None:
    """An unresolved problem (a decision the portal refused) is unsent work too: doctor says so."""
    import factories as f
    from store_helpers import filled_store

    lead = filled_store(machine.parent / "data", lead=True)
    w = lead.world
    visit = f.visit(lead.case_id, w.officer_id, w.template_id)
    lead.store.apply_changes([visit], 1)
    lead.store.decide(visit["id"], "approve")
    [op] = lead.store.outbox()
    lead.store.record_results([op], [f.pushed(op, "conflict", error={"code": "conflict", "message": "Decided already."})])
    assert lead.store.pending().empty and lead.store.problems()
    lead.store.close()
    _status, report = run_doctor("--offline")
    unsent = line(report, "Unsent work")
    assert "[warning]" in unsent and "Needs attention" in unsent
    assert "safe to wipe" not in report.lower().replace("not safe to wipe", "")


def test_damaged_database_fails(machine: Path) -> None:
    """A database file that is not SQLite is reported as damaged, with what to do (not delete it)."""
    data = machine.parent / "data"
    data.mkdir()
    (data / "fieldapp.db").write_bytes(b"this is not a database" * 200)
    status, report = run_doctor("--offline")
    assert status == 1
    assert "damaged" in line(report, "Database") and "Do not delete" in report


def test_data_folder_not_writable_fails(machine: Path) -> None:
    """A data folder that cannot be created or written fails the check with the path."""
    (machine.parent / "data").write_text("a file where the folder should be")
    status, report = run_doctor("--offline")
    assert status == 1
    assert "not writable" in line(report, "Data folder")


def test_reachable_portal_over_local_http(machine: Path, http_portal: StubServer) -> None:
    """With the site's portal answering /health, the portal check passes (plain http only as a warning)."""
    (machine / "fieldapp.toml").write_text(f'portal_url = "{http_portal.url}"\n')
    status, report = run_doctor()
    assert status == 0, report
    assert "status ok, database ok" in line(report, "Portal")
    assert "plain http" in line(report, "TLS")


def test_unreachable_portal_fails(machine: Path, http_portal: StubServer) -> None:
    """A portal nobody answers for fails the check, naming the host and what to check."""
    url = http_portal.url
    http_portal.close()
    (machine / "fieldapp.toml").write_text(f'portal_url = "{url}"\n')
    status, report = run_doctor("--timeout", "2")
    assert status == 1
    assert "cannot connect" in line(report, "Portal")


def test_untrusted_tls_fails_and_ca_bundle_fixes_it(machine: Path, https_portal: StubServer,
                                                    ca_and_cert: tuple[Path, Path, Path]) -> None:  # noqa: F811
    """A certificate from an unknown CA fails with advice about ca_bundle; with the CA bundle it passes."""
    site_file = machine / "fieldapp.toml"
    site_file.write_text(f'portal_url = "{https_portal.url}"\n')
    status, report = run_doctor()
    assert status == 1
    assert "not trusted" in line(report, "TLS") and "ca_bundle" in line(report, "TLS")
    site_file.write_text(f'portal_url = "{https_portal.url}"\nca_bundle = "{ca_and_cert[0].as_posix()}"\n')
    status, report = run_doctor()
    assert status == 0, report
    assert "Test Council CA" in line(report, "TLS") and "expires in" in line(report, "TLS")


def test_doctor_through_the_command(machine: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`fieldapp doctor --offline` is registered on the command and prints the report."""
    assert main(["doctor", "--offline"]) == 0
    assert "Fieldapp doctor report" in capsys.readouterr().out
