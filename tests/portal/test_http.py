"""Real HTTP: seeded background portals, health, the CLI, and two server processes on one database."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
import requests
from fastapi.testclient import TestClient

from portal.core.config import PortalSettings
from portal.main import create_app
from portal.server import free_port, wait_healthy
from tests.conftest import create_pg_database, drop_pg_database

API = "/api/v1"


def _sign_in(url: str, username: str, password: str) -> dict[str, str]:
    response = requests.post(f"{url}{API}/auth/login", json={"username": username, "password": password, "device_id": "http-test"}, timeout=10)
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


@pytest.mark.parametrize("fixture", ["portal_pg", "portal_sqlite"])
def test_seeded_portal_serves_the_demo_council(request: pytest.FixtureRequest, fixture: str) -> None:
    """Every demo account signs in over HTTP; the seeded council has the teams, roles and data the demo needs."""
    portal = request.getfixturevalue(fixture)
    roles = Counter((a.role, a.team) for a in portal.accounts)
    teams = {a.team for a in portal.accounts if a.team}
    assert roles[("admin", None)] == 1 and len(teams) == 2
    assert all(roles[("lead", t)] >= 1 and roles[("officer", t)] >= 1 for t in teams)
    assert max(roles[("officer", t)] for t in teams) >= 2
    lead = next(a for a in portal.accounts if a.role == "lead")
    changes = requests.get(f"{portal.url}{API}/sync/pull?limit=1000", headers=_sign_in(portal.url, lead.username, lead.password), timeout=10).json()["changes"]
    by_entity: dict[str, list[dict]] = {}
    for change in changes:
        by_entity.setdefault(change["entity"], []).append(change["data"])
    assert all(re.fullmatch(r"\d{12}", p["uprn"]) for p in by_entity["property"])
    assert all(re.fullmatch(r"[A-Z]{1,2}\d[A-Z\d]? \d[A-Z]{2}", p["postcode"]) for p in by_entity["property"])
    assert any(r["warnings"] for r in by_entity["resident"]) and any(r["vulnerabilities"] for r in by_entity["resident"])
    kinds = {q["kind"] for t in by_entity["template"] for s in t["sections"] for q in s["questions"]}
    assert kinds == {"yes_no", "choice", "multi_choice", "text", "number", "date", "rating", "hazard", "photo"}
    assert {"damp_mould", "repair", "tenancy_audit", "void"} <= {ct for t in by_entity["template"] for ct in t["case_types"]}
    assert any(c["priority"] == "emergency" for c in by_entity["case"])
    for account in portal.accounts:
        _sign_in(portal.url, account.username, account.password)


def test_seed_is_idempotent_and_covers_every_case_type(portal_pg: object) -> None:
    """Seeding the seeded database again returns the same accounts; the cases span every type, some overdue."""
    from portal.seed import seed
    from sync.protocol import parse_timestamp, utc_now

    again = seed(portal_pg.database_url, 60)  # type: ignore[attr-defined]
    assert again.accounts == portal_pg.accounts  # type: ignore[attr-defined]
    admin = next(a for a in again.accounts if a.role == "admin")
    headers = _sign_in(portal_pg.url, admin.username, admin.password)  # type: ignore[attr-defined]
    pulled = requests.get(f"{portal_pg.url}{API}/sync/pull", headers=headers, timeout=10).json()["changes"]  # type: ignore[attr-defined]
    assert {c["entity"] for c in pulled} == {"user", "hazard_vocabulary", "awaab_schedule"}
    from sqlalchemy import create_engine, text

    engine = create_engine(portal_pg.database_url)  # type: ignore[attr-defined]
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT case_type, due_at, status FROM cases")).all()
    engine.dispose()
    assert {r[0] for r in rows} == {"damp_mould", "repair", "tenancy_audit", "void", "asb", "estate"}
    assert any(parse_timestamp(r[1]) < utc_now() and r[2] != "closed" for r in rows)


def test_health_ok_and_503_without_database(tmp_path: Path, portal_sqlite: object) -> None:
    """/health answers ok with a database and 503 with the error envelope when the database is unreachable."""
    ok = requests.get(f"{portal_sqlite.url}/health", timeout=10)  # type: ignore[attr-defined]
    assert ok.status_code == 200 and ok.json() == {"status": "ok", "database": "ok"}
    assert requests.get(f"{portal_sqlite.url}{API}/health", timeout=10).json()["database"] == "ok"  # type: ignore[attr-defined]
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        dead_port = sock.getsockname()[1]
    settings = PortalSettings(database_url=f"postgresql://postgres@127.0.0.1:{dead_port}/none", blob_dir=tmp_path)
    down = TestClient(create_app(settings)).get(f"{API}/health")
    assert down.status_code == 503 and down.json()["database"] == "unreachable" and down.json()["error"]["code"]


def _cli(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "portal.cli", *args], input=stdin, capture_output=True, text=True, timeout=60, env={**os.environ})


def test_add_user_reads_password_from_stdin(tmp_path: Path) -> None:
    """add-user creates an account whose password came on stdin; without --password-stdin it refuses."""
    url = f"sqlite:///{tmp_path / 'p.db'}"
    refused = _cli("add-user", "--database-url", url, "--username", "root", "--role", "admin")
    assert refused.returncode == 2 and "--password-stdin" in refused.stderr
    made = _cli("add-user", "--database-url", url, "--username", "root", "--role", "admin", "--password-stdin", stdin="a long passphrase\n")
    assert made.returncode == 0, made.stderr
    officer = _cli("add-user", "--database-url", url, "--username", "o1", "--role", "officer", "--team", "North", "--display-name", "Olu", "--password-stdin", stdin="another passphrase\n")
    assert officer.returncode == 0, officer.stderr
    again = _cli("add-user", "--database-url", url, "--username", "root", "--role", "admin", "--password-stdin", stdin="a long passphrase\n")
    assert again.returncode == 1 and "taken" in again.stderr
    settings = PortalSettings.from_env(database_url=url, blob_dir=tmp_path / "b")
    client = TestClient(create_app(settings))
    response = client.post(f"{API}/auth/login", json={"username": "o1", "password": "another passphrase", "device_id": "d"})
    assert response.status_code == 200 and response.json()["user"]["display_name"] == "Olu"


def test_seed_command_prints_accounts(tmp_path: Path) -> None:
    """fieldapp-portal seed prints the demo accounts with their passwords."""
    result = _cli("seed", "--database-url", f"sqlite:///{tmp_path / 'p.db'}", "--cases", "12")
    assert result.returncode == 0, result.stderr
    assert "admin" in result.stdout and "helen.okafor" in result.stdout and "officer" in result.stdout


def test_two_server_processes_share_one_database(tmp_path: Path) -> None:
    """Two `fieldapp-portal serve` processes started together migrate one fresh PostgreSQL database once and serve it alike."""
    url = create_pg_database("fieldapp_t2p")
    processes = []
    try:
        ports = [free_port(), free_port()]
        for port in ports:
            processes.append(subprocess.Popen(
                [sys.executable, "-m", "portal.cli", "serve", "--database-url", url, "--blob-dir", str(tmp_path / "blobs"), "--port", str(port)],
                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            ))
        urls = [f"http://127.0.0.1:{port}" for port in ports]
        for base, process in zip(urls, processes):
            wait_healthy(base, lambda p=process: p.poll() is None)
        add = _cli("add-user", "--database-url", url, "--username", "boss", "--role", "admin", "--password-stdin", stdin="a long passphrase\n")
        assert add.returncode == 0, add.stderr
        headers = _sign_in(urls[0], "boss", "a long passphrase")
        team = requests.post(f"{urls[1]}{API}/admin/teams", headers=headers, json={"name": "Shared"}, timeout=10)
        assert team.status_code == 201
        changes = requests.get(f"{urls[0]}{API}/admin/visits", headers=headers, timeout=10)
        assert changes.status_code == 200 and changes.json() == {"visits": [], "next_since": 0, "has_more": False}
    finally:
        for process in processes:
            process.terminate()
            process.wait(15)
        drop_pg_database(url)
