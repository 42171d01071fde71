"""kill -9 of a served portal in the middle of a push: nothing of the push stays, and the replay applies each op once.

On PostgreSQL the portal is stopped at a known point: every op decided and written, the
push's last statement (the audit counter, which the test holds locked) not yet through,
so only its COMMIT was missing. On SQLite, whose one writer cannot be held from outside,
the kill comes halfway through a push timed just before; either way the push is all or
nothing.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import create_engine, func, select

from portal.models import OpRow, VisitRow
from portal.models_security import AuditEventRow
from portal.models_webhooks import WebhookEventRow
from tests.portal.conftest import PASSWORD, TEMPLATE
from tests.portal.killable import KillablePortal

pytestmark = pytest.mark.slow


class _Served(KillablePortal):
    """The portal under test, with an admin ``root`` to set it up."""

    def login(self, username: str) -> dict[str, str]:
        return self.sign_in(username, PASSWORD, "crash")

    def post(self, path: str, auth: dict[str, str], body: Any) -> Any:
        answer = requests.post(f"{self.url}{path}", json=body, headers=auth, timeout=60)
        assert answer.status_code in (200, 201), answer.text
        return answer.json()


@pytest.fixture
def served(database_url: str, tmp_path: Path) -> Iterator[_Served]:
    with _Served(database_url, tmp_path / "blobs") as portal:
        portal.add_user("root", PASSWORD, "--role", "admin")
        yield portal


def _visit_ops(portal: _Served, cases: int) -> tuple[dict[str, str], Any]:
    """An officer with ``cases`` cases; returns their sign-in and a maker of one submit op per case."""
    admin = portal.login("root")
    team = portal.post("/admin/teams", admin, {"name": "North"})["id"]
    officer = portal.post("/admin/users", admin, {"username": "olive", "display_name": "Olive", "role": "officer", "team_id": team,
                                                  "password": PASSWORD})["id"]
    prop = portal.post("/admin/properties", admin, {"uprn": "100012345678", "address_lines": ["1 Mill Lane"], "town": "Harrowmere",
                                                    "postcode": "HM1 2AB", "property_type": "house", "bedrooms": 2})["id"]
    template = portal.post("/admin/templates", admin, TEMPLATE)["id"]
    case_ids = [portal.post("/admin/cases", admin, {
        "reference": f"C-{n}", "case_type": "damp_mould", "priority": "routine", "summary": "Mould", "opened_at": "2026-03-02T09:00:00Z",
        "property_id": prop, "resident_ids": [], "assigned_officer_id": officer, "team_id": team})["id"] for n in range(cases)]

    def ops() -> list[dict[str, Any]]:
        return [{"op_id": str(uuid.uuid4()), "entity": "visit", "id": str(uuid.uuid4()), "kind": "submit", "base_version": 0, "data": {
            "case_id": case, "officer_id": officer, "template_id": template, "template_version": 1, "started_at": "2026-03-03T10:00:00Z",
            "completed_at": "2026-03-03T10:40:00Z", "outcome": "completed", "answers": {"mould": True, "rh": 71}, "notes": "",
            "hazards": [], "photos": []}} for case in case_ids]

    return portal.login("olive"), ops


def _kept(database_url: str, ops: list[dict[str, Any]]) -> tuple[int, int, int, int]:
    """How many of the ops' visits, stored results, submitted events and audit events the database holds."""
    engine = create_engine(database_url)
    visit_ids, op_ids = [op["id"] for op in ops], [op["op_id"] for op in ops]
    try:
        with engine.connect() as connection:
            visits = connection.scalar(select(func.count()).select_from(VisitRow).where(VisitRow.id.in_(visit_ids)))
            stored = connection.scalar(select(func.count()).select_from(OpRow).where(OpRow.op_id.in_(op_ids)))
            events = sum(1 for data in connection.scalars(select(WebhookEventRow.data).where(WebhookEventRow.type == "visit.submitted"))
                         if data.get("visit_id") in visit_ids)
            audited = sum(1 for details in connection.scalars(select(AuditEventRow.details).where(AuditEventRow.action == "op.applied"))
                          if details.get("op_id") in op_ids)
    finally:
        engine.dispose()
    return int(visits or 0), int(stored or 0), events, audited


def _push_in_background(portal: _Served, auth: dict[str, str], ops: list[dict[str, Any]]) -> threading.Thread:
    def push() -> None:
        try:
            requests.post(f"{portal.url}/sync/push", json={"device_id": "crash", "ops": ops}, headers=auth, timeout=60)
        except requests.ConnectionError:
            pass  # the portal died under it: the laptop is told nothing

    thread = threading.Thread(target=push)
    thread.start()
    return thread


def _kill_before_the_commit_pg(portal: _Served, auth: dict[str, str], ops: list[dict[str, Any]]) -> None:
    import psycopg

    dsn = portal.database_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn) as holder, psycopg.connect(dsn, autocommit=True) as peek:
        holder.execute("SELECT value FROM counters WHERE name = 'audit_seq' FOR UPDATE")
        thread = _push_in_background(portal, auth, ops)
        deadline = time.monotonic() + 60
        waiting: list[int] = []
        while not waiting and time.monotonic() < deadline:
            time.sleep(0.05)
            # (Autocommit: a transaction would see one cached snapshot of the activity view.)
            waiting = [row[0] for row in peek.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%counters%'")]
        assert waiting, "the push never reached its audit events"
        # Every op is written by now, in the push's open transaction.
        writing = peek.execute("SELECT count(*) FROM pg_locks WHERE pid = %s AND mode = 'RowExclusiveLock'", (waiting[0],)).fetchone()
        assert writing is not None and writing[0] > 0
        portal.kill()
        holder.rollback()
    thread.join(60)
    # The backend rolls back when it finds its client gone; wait for it to end.
    with psycopg.connect(dsn, autocommit=True) as watcher:
        deadline = time.monotonic() + 60
        while watcher.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", (waiting[0],)).fetchone() != (0,):
            assert time.monotonic() < deadline
            time.sleep(0.05)


def _kill_halfway_sqlite(portal: _Served, auth: dict[str, str], ops: list[dict[str, Any]], warmup: list[dict[str, Any]]) -> None:
    started = time.perf_counter()
    portal.post("/sync/push", auth, {"device_id": "crash", "ops": warmup})
    took = time.perf_counter() - started
    thread = _push_in_background(portal, auth, ops)
    time.sleep(took / 2)
    portal.kill()
    thread.join(60)


def test_kill_9_mid_push_keeps_nothing_and_the_replay_applies_each_op_once(served: _Served, database_url: str) -> None:
    """Killed mid-push, the portal holds none of it (or, on SQLite, all of it); restarted, the replay leaves each op applied once."""
    served.start()
    auth, make_ops = _visit_ops(served, 30)
    ops = make_ops() + make_ops()
    if database_url.startswith("postgresql"):
        _kill_before_the_commit_pg(served, auth, ops)
        assert _kept(database_url, ops) == (0, 0, 0, 0)
    else:
        _kill_halfway_sqlite(served, auth, ops, make_ops() + make_ops())
        assert _kept(database_url, ops) in {(0, 0, 0, 0), (len(ops),) * 4}
    served.start()
    auth = served.login("olive")
    replay = served.post("/sync/push", auth, {"device_id": "crash", "ops": ops})["results"]
    assert {r["status"] for r in replay} <= {"applied", "duplicate"} and len({r["status"] for r in replay}) == 1
    again = served.post("/sync/push", auth, {"device_id": "crash", "ops": ops})["results"]
    assert [r["status"] for r in again] == ["duplicate"] * len(ops) and [r["seq"] for r in again] == [r["seq"] for r in replay]
    assert _kept(database_url, ops) == (len(ops),) * 4
