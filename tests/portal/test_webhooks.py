"""Webhooks for the CRM on PostgreSQL and SQLite: registration, each event from its real cause, signed delivery, retries.

Deliveries go to a real loopback receiver (``webhook_receiver.py``) that verifies every
signature with the Standard Webhooks library and fails on purpose. Backoff is short
(a fraction of a second) through the worker's injectable ``RetryPolicy``.
"""

from __future__ import annotations

import base64
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from portal.models_webhooks import WebhookEventRow
from portal.services import webhook_outbox
from portal.services.sequence import utcnow
from portal.services.webhook_outbox import RetryPolicy
from portal.webhook_http import UnsafeTarget, check_url
from portal.webhook_worker import WebhookWorker
from sync.protocol import format_timestamp, parse_timestamp, utc_now
from tests.portal.conftest import Portal, World, build_world
from tests.portal.webhook_receiver import Receiver

ALL_BUT_CLOCKS = ["visit.submitted", "visit.approved", "visit.returned", "case.created"]
FAST = RetryPolicy(delays=(0.2, 0.4, 0.6), give_up_after=timedelta(seconds=30), jitter=0.1)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A loopback receiver, stopped after the test."""
    server = Receiver().start()
    yield server
    server.stop()


class Hooks:
    """Webhooks a test registers (deleted afterwards, so no later test's worker sends to them)."""

    def __init__(self, portal: Portal) -> None:
        self.portal = portal
        self.ids: list[str] = []

    def add(self, receiver: Receiver, events: list[str]) -> str:
        response = self.portal.call("POST", "/admin/webhooks", headers=self.portal.admin, json={"url": receiver.url, "events": events})
        assert response.status_code == 201, response.text
        receiver.secret = response.json()["secret"]
        self.ids.append(response.json()["id"])
        return str(response.json()["id"])

    def deliveries(self, webhook_id: str, **query: Any) -> dict[str, Any]:
        response = self.portal.call("GET", f"/admin/webhooks/{webhook_id}/deliveries", headers=self.portal.admin, params=query)
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]


@pytest.fixture
def hooks_on() -> Iterator[Callable[[Portal], Hooks]]:
    """Registers the test's webhooks on a portal, and deletes them afterwards."""
    made: list[Hooks] = []

    def on(portal: Portal) -> Hooks:
        made.append(Hooks(portal))
        return made[-1]

    yield on
    for registered in made:
        for webhook_id in registered.ids:
            registered.portal.call("DELETE", f"/admin/webhooks/{webhook_id}", headers=registered.portal.admin)


@pytest.fixture
def sqlite_world(sqlite_portal: Portal) -> World:
    """A fresh small world on SQLite."""
    return build_world(sqlite_portal)


def worker(portal: Portal, **options: Any) -> WebhookWorker:
    """A worker on the test portal's database with short timings."""
    options = {"policy": FAST, "timeout": 0.5, "poll_seconds": 0.02, "clock_check_seconds": 3600.0, **options}
    return WebhookWorker(portal.db, **options)


def drain(work: WebhookWorker, until: Any, timeout: float = 20.0) -> None:
    """Run worker rounds until ``until()`` holds."""
    deadline = time.monotonic() + timeout
    while not until():
        assert time.monotonic() < deadline, "the worker did not get there in time"
        if not work.run_once():
            time.sleep(0.02)


def _hazard_report(world: World) -> dict[str, Any]:
    return {"op_id": str(uuid.uuid4()), "entity": "hazard_report", "id": str(uuid.uuid4()), "kind": "create", "base_version": 0,
            "data": {"property_id": world.ids["prop1"], "hazards": ["Damp and mould growth"], "description": "Mould in the hall",
                     "observed_at": format_timestamp(utc_now())}}


def test_register_list_and_delete(any_portal: Portal, receiver: Receiver) -> None:
    """201 with a whsec_ secret shown once; listed without it; admins only; audited; deleted 204 then 404."""
    portal = any_portal
    created = portal.call("POST", "/admin/webhooks", headers=portal.admin, json={"url": receiver.url, "events": ["visit.submitted", "clock.amber"]})
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["secret"].startswith("whsec_") and len(base64.b64decode(body["secret"].removeprefix("whsec_"))) == 32
    listed = portal.call("GET", "/admin/webhooks", headers=portal.admin).json()["webhooks"]
    mine = [w for w in listed if w["id"] == body["id"]]
    assert mine and mine[0]["events"] == ["clock.amber", "visit.submitted"] and mine[0]["url"] == receiver.url
    assert body["secret"] not in str(listed)
    assert portal.call("GET", f"/admin/webhooks/{body['id']}/deliveries", headers=portal.admin).json() == {
        "deliveries": [], "next_before": None, "has_more": False}
    world_officer = portal.call("GET", "/admin/webhooks", headers={"Authorization": "Bearer nope"})
    assert world_officer.status_code == 401
    assert portal.call("DELETE", f"/admin/webhooks/{body['id']}", headers=portal.admin).status_code == 204
    assert portal.call("DELETE", f"/admin/webhooks/{body['id']}", headers=portal.admin).status_code == 404
    assert portal.call("GET", f"/admin/webhooks/{body['id']}/deliveries", headers=portal.admin).status_code == 404
    audit = portal.call("GET", "/admin/audit?limit=1000&since=0", headers=portal.admin).json()
    while audit["has_more"]:
        audit = portal.call("GET", f"/admin/audit?limit=1000&since={audit['next_since']}", headers=portal.admin).json()
    actions = [(e["action"], e["entity_id"]) for e in audit["events"] if e["entity"] == "webhook"]
    assert ("admin.create", body["id"]) in actions and ("admin.delete", body["id"]) in actions
    assert body["secret"] not in str(audit)


def test_officers_may_not_register(world: World, receiver: Receiver) -> None:
    """A lead or officer is refused 403 forbidden."""
    response = world.portal.call("POST", "/admin/webhooks", headers=world.auth["lead_a"], json={"url": receiver.url, "events": ["case.created"]})
    assert response.status_code == 403 and response.json()["error"]["code"] == "forbidden"


@pytest.mark.parametrize(("url", "says"), [
    ("ftp://127.0.0.1/x", "https://"),
    ("http://10.1.2.3/hook", "only to this machine"),
    ("http://93.184.215.14/hook", "only to this machine"),
    ("https://user:pw@127.0.0.1/hook", "no user name or password"),
    ("https://169.254.169.254/latest", "link-local"),
    ("https://no-such-host.invalid/hook", "cannot be resolved"),
    ("https:///hook", "no host"),
])
def test_unusable_addresses_are_422(sqlite_portal: Portal, url: str, says: str) -> None:
    """Anything but https, or http to a loopback address, is 422 invalid_request with a sentence saying what to use."""
    response = sqlite_portal.call("POST", "/admin/webhooks", headers=sqlite_portal.admin, json={"url": url, "events": ["case.created"]})
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_request" and says in error["details"]["fields"]["url"] and says in error["message"]


def test_unknown_or_no_events_are_422(sqlite_portal: Portal, receiver: Receiver) -> None:
    """The events must be a non-empty list of the six types."""
    for events in ([], ["visit.deleted"], "case.created"):
        response = sqlite_portal.call("POST", "/admin/webhooks", headers=sqlite_portal.admin, json={"url": receiver.url, "events": events})
        assert response.status_code == 422 and "events" in str(response.json()["error"]["details"]), response.text


def test_loopback_http_and_any_https_pass_the_check() -> None:
    """http to 127.0.0.1, ::1 or localhost is allowed; https to a resolvable name too, pinned to the address checked."""
    assert check_url("http://127.0.0.1:9000/h").address == "127.0.0.1"
    assert check_url("http://localhost:9000/h?x=1").path == "/h?x=1"
    assert check_url("http://[::1]:9000/").address == "::1"
    assert check_url("https://localhost/h").port == 443
    with pytest.raises(UnsafeTarget):
        check_url("http://0.0.0.0:9000/")


def test_each_event_comes_from_its_real_cause(any_world: World, hooks_on: Callable[[Portal], Hooks], receiver: Receiver) -> None:
    """Submit, approve, return (through push) and a hazard report each deliver one signed event; refused ops and replays none."""
    hooks = hooks_on(any_world.portal)
    world = any_world
    webhook_id = hooks.add(receiver, ALL_BUT_CLOCKS)
    officer, lead = world.auth["officer1"], world.auth["lead_a"]
    first, second = world.visit_op("officer1", "case1"), world.visit_op("officer1", "case1")
    assert [r["status"] for r in world.portal.push(officer, [first, second])] == ["applied", "applied"]
    assert world.portal.push(officer, [first])[0]["status"] == "duplicate"  # a replay is no new event
    approve, give_back = world.decide_op(first["id"]), world.decide_op(second["id"], "return", "Add the humidity reading.")
    assert [r["status"] for r in world.portal.push(lead, [approve, give_back])] == ["applied", "applied"]
    # Refused: deciding an approved visit again (conflict), and a return without a comment (rejected).
    refused = world.portal.push(lead, [world.decide_op(first["id"]), world.decide_op(second["id"], "return", "")])
    assert [r["status"] for r in refused] == ["conflict", "rejected"]
    report = _hazard_report(world)
    assert world.portal.push(officer, [report])[0]["status"] == "applied"
    work = worker(world.portal)
    drain(work, lambda: len(receiver.delivered()) >= 5)
    for _ in range(3):
        work.run_once()
    got = receiver.delivered()
    assert all(r.verified for r in receiver.received) and len(receiver.received) == 5
    kinds = sorted((r.payload["type"], r.payload["data"].get("visit_id") or r.payload["data"]["case_id"]) for r in got)
    assert kinds == sorted([
        ("visit.submitted", first["id"]), ("visit.submitted", second["id"]), ("visit.approved", first["id"]),
        ("visit.returned", second["id"]), ("case.created", report["id"]),
    ])
    by_type = {r.payload["type"]: r.payload for r in got}
    assert set(by_type["visit.approved"]["data"]) >= {"visit_id", "case_id", "external_ref", "review_id", "lead_id", "version"}
    assert by_type["visit.approved"]["data"]["case_id"] == world.ids["case1"]
    assert by_type["visit.approved"]["data"]["review_id"] == approve["id"]
    created = by_type["case.created"]["data"]
    assert created["case_id"] == report["id"] and created["source"] == "officer" and created["external_ref"] is None
    assert created["reported_by_id"] == world.ids["officer1"] and created["reference"].startswith("HR-")
    assert all(set(p) == {"type", "timestamp", "data"} for p in by_type.values())
    assert len({r.headers["webhook-id"] for r in got}) == 5
    page = hooks.deliveries(webhook_id)
    assert [d["status"] for d in page["deliveries"]] == ["delivered"] * 5
    assert [d["id"] for d in page["deliveries"]] == sorted((d["id"] for d in page["deliveries"]), reverse=True)
    assert all(len(d["attempts"]) == 1 and d["attempts"][0]["status_code"] == 204 for d in page["deliveries"])


def test_failures_are_retried_with_backoff_until_a_2xx(any_world: World, hooks_on: Callable[[Portal], Hooks], receiver: Receiver) -> None:
    """500, 500, a timeout and a dropped connection are retried after growing waits; the same signed message each time."""
    hooks = hooks_on(any_world.portal)
    world = any_world
    receiver.script = ["500", "500", "timeout", "drop", "ok"]
    webhook_id = hooks.add(receiver, ["case.created"])
    assert world.portal.push(world.auth["officer1"], [_hazard_report(world)])[0]["status"] == "applied"
    work = worker(world.portal)
    drain(work, lambda: receiver.delivered())
    assert [r.behaviour for r in receiver.received] == ["500", "500", "timeout", "drop", "ok"]
    assert len({r.headers["webhook-id"] for r in receiver.received}) == 1 and len({r.body for r in receiver.received}) == 1
    gaps = [b.at - a.at for a, b in zip(receiver.received, receiver.received[1:])]
    # Waits of 0.2, 0.4, 0.6, 0.6 s (±10 %), plus the 0.5 s the timed-out attempt waited.
    assert gaps[0] >= 0.17 and gaps[1] >= 0.35 and gaps[2] >= 0.5 + 0.5 and gaps[3] >= 0.5, gaps
    delivery = hooks.deliveries(webhook_id)["deliveries"][0]
    assert delivery["status"] == "delivered" and delivery["finished_at"] is not None
    attempts = delivery["attempts"]  # newest first
    assert [a["status_code"] for a in attempts] == [204, None, None, 500, 500]
    assert "timeout" in attempts[2]["error"] and "closed the connection" in attempts[1]["error"]
    assert attempts[3]["error"] == "HTTP 500" and all(a["duration_ms"] >= 0 for a in attempts)
    assert attempts[2]["duration_ms"] >= 450


def test_a_redirect_is_not_followed(sqlite_world: World, hooks_on: Callable[[Portal], Hooks], receiver: Receiver) -> None:
    """A 3xx is a failed attempt: the portal never requests the address it points to."""
    hooks = hooks_on(sqlite_world.portal)
    receiver.script = ["redirect"]
    webhook_id = hooks.add(receiver, ["case.created"])
    sqlite_world.portal.push(sqlite_world.auth["officer1"], [_hazard_report(sqlite_world)])
    work = worker(sqlite_world.portal)
    drain(work, lambda: receiver.delivered())
    assert [r.path for r in receiver.received] == ["/hooks/fieldapp", "/hooks/fieldapp"]
    attempts = hooks.deliveries(webhook_id)["deliveries"][0]["attempts"]
    assert [a["status_code"] for a in attempts] == [204, 302] and attempts[1]["error"] == "HTTP 302"


def test_gives_up_after_the_retry_window(sqlite_world: World, hooks_on: Callable[[Portal], Hooks], receiver: Receiver) -> None:
    """A receiver that always fails: retried until the window (here 1.5 s) ends, then failed and never tried again."""
    hooks = hooks_on(sqlite_world.portal)
    receiver.script = ["500"] * 1000
    webhook_id = hooks.add(receiver, ["case.created"])
    sqlite_world.portal.push(sqlite_world.auth["officer1"], [_hazard_report(sqlite_world)])
    work = worker(sqlite_world.portal, policy=RetryPolicy(delays=(0.1, 0.2), give_up_after=timedelta(seconds=1.5), jitter=0.0))
    drain(work, lambda: hooks.deliveries(webhook_id, status="failed")["deliveries"])
    tries = len(receiver.received)
    delivery = hooks.deliveries(webhook_id)["deliveries"][0]
    times = sorted(parse_timestamp(a["at"]) for a in delivery["attempts"])
    # Retried through the window: on a busy machine fewer tries fit in it, but the last one
    # is never more than a delay (0.2 s) and some scheduling slack short of its end.
    assert 3 <= tries <= 9 and (times[-1] - times[0]).total_seconds() >= 1.0, (tries, times)
    time.sleep(0.3)
    for _ in range(3):
        work.run_once()
    assert len(receiver.received) == tries
    delivery = hooks.deliveries(webhook_id)["deliveries"][0]
    assert delivery["status"] == "failed" and delivery["next_attempt_at"] is None and len(delivery["attempts"]) == tries
    assert hooks.deliveries(webhook_id, status="pending")["deliveries"] == []


def test_deliveries_are_paged_newest_first(sqlite_world: World, hooks_on: Callable[[Portal], Hooks], receiver: Receiver) -> None:
    """limit and before page through every delivery once, newest first."""
    hooks = hooks_on(sqlite_world.portal)
    webhook_id = hooks.add(receiver, ["case.created"])
    sqlite_world.portal.push(sqlite_world.auth["officer1"], [_hazard_report(sqlite_world) for _ in range(5)])
    drain(worker(sqlite_world.portal), lambda: len(receiver.delivered()) == 5)
    seen: list[int] = []
    page = hooks.deliveries(webhook_id, limit=2)
    while True:
        seen += [d["id"] for d in page["deliveries"]]
        if not page["has_more"]:
            break
        page = hooks.deliveries(webhook_id, limit=2, before=page["next_before"])
    assert len(seen) == 5 and seen == sorted(seen, reverse=True)


def test_two_workers_deliver_each_event_once(world: World, hooks_on: Callable[[Portal], Hooks], receiver: Receiver) -> None:
    """Two workers on one PostgreSQL outbox at once share the work: every event arrives exactly once."""
    hooks = hooks_on(world.portal)
    hooks.add(receiver, ["visit.submitted"])
    ops = [world.visit_op("officer1", "case1") for _ in range(30)]
    assert {r["status"] for r in world.portal.push(world.auth["officer1"], ops)} == {"applied"}
    workers = [worker(world.portal, poll_seconds=0.01).start() for _ in range(2)]
    try:
        receiver.wait_for(lambda r: len(r.delivered()) >= 30)
        time.sleep(0.5)
    finally:
        for each in workers:
            each.stop()
    ids = [r.headers["webhook-id"] for r in receiver.received]
    assert len(ids) == 30 and len(set(ids)) == 30
    assert sorted(r.payload["data"]["visit_id"] for r in receiver.received) == sorted(op["id"] for op in ops)


def test_clock_events_once_each(any_world: World, hooks_on: Callable[[Portal], Hooks], receiver: Receiver) -> None:
    """An emergency clock is amber with under a day left and breached after 24 h: one event each, also after a restart."""
    hooks = hooks_on(any_world.portal)
    world = any_world
    aware = utc_now() - timedelta(hours=1)
    case_id = world.case("tri", "officer1", priority="emergency", reported_hazards=["Fire"], opened_at=format_timestamp(aware),
                         aware_at=format_timestamp(aware))
    webhook_id = hooks.add(receiver, ["clock.amber", "clock.breached"])

    def mine() -> list[dict[str, Any]]:
        return [r.payload for r in receiver.delivered() if r.payload["data"]["case_id"] == case_id]

    now = utc_now()
    first = worker(world.portal, clock=lambda: now)
    drain(first, lambda: len(mine()) == 1)
    drain(first, lambda: True)
    assert [(p["type"], p["data"]["stage"]) for p in mine()] == [("clock.amber", "investigate")]
    later = now + timedelta(hours=24)
    # A new worker (as after a restart), checking at once: amber is not sent again; breached is, once.
    for _ in range(2):
        again = worker(world.portal, clock=lambda: later, clock_check_seconds=0.0)
        drain(again, lambda: len(mine()) >= 2)
        for _ in range(3):
            again.run_once()
    assert [p["type"] for p in mine()] == ["clock.amber", "clock.breached"]
    breached = mine()[1]["data"]
    assert abs(parse_timestamp(breached["due_at"]) - (aware + timedelta(hours=24))) < timedelta(seconds=1)
    assert breached["reference"] and "external_ref" in breached
    assert hooks.deliveries(webhook_id)["deliveries"]


def test_worker_thread_delivers_while_served(any_world: World, hooks_on: Callable[[Portal], Hooks], receiver: Receiver) -> None:
    """The worker's own thread picks new events up within its poll interval and stops cleanly."""
    hooks = hooks_on(any_world.portal)
    world = any_world
    hooks.add(receiver, ["case.created"])
    running = worker(world.portal, poll_seconds=0.05).start()
    try:
        world.portal.push(world.auth["officer1"], [_hazard_report(world)])
        receiver.wait_for(lambda r: len(r.delivered()) == 1, timeout=10)
    finally:
        stopper = threading.Thread(target=running.stop)
        stopper.start()
        stopper.join(10)
        assert not stopper.is_alive()


def test_housekeeping_removes_old_finished_deliveries(sqlite_world: World, hooks_on: Callable[[Portal], Hooks], receiver: Receiver) -> None:
    """Finished deliveries past the retention go with their attempts and events; pending ones stay."""
    hooks = hooks_on(sqlite_world.portal)
    webhook_id = hooks.add(receiver, ["case.created"])
    sqlite_world.portal.push(sqlite_world.auth["officer1"], [_hazard_report(sqlite_world)])
    drain(worker(sqlite_world.portal), lambda: len(receiver.delivered()) == 1)
    receiver.script = ["500"] * 100
    sqlite_world.portal.push(sqlite_world.auth["officer1"], [_hazard_report(sqlite_world)])
    drain(worker(sqlite_world.portal), lambda: len(receiver.received) == 2)
    with sqlite_world.portal.db.plain(writes=True) as session:
        assert webhook_outbox.purge(session, utcnow() + timedelta(days=1)) >= 1
    left = hooks.deliveries(webhook_id)["deliveries"]
    assert [d["status"] for d in left] == ["pending"]
    with sqlite_world.portal.db.read() as session:
        assert session.get(WebhookEventRow, left[0]["event_id"]) is not None


def test_a_decision_on_the_web_pages_writes_the_same_event(sqlite_world: World) -> None:
    """Approving on /web goes through the push service, so the outbox gets visit.approved in the decision's transaction."""
    from tests.portal.test_web_pages import csrf_of, sign_in

    op = sqlite_world.visit_op("officer1", "case1", outcome="no_access", answers={})
    assert sqlite_world.portal.push(sqlite_world.auth["officer1"], [op])[0]["status"] == "applied"
    client = sign_in(sqlite_world, "lead_a")
    sent = client.post(f"/web/visits/{op['id']}/decision", data={"csrf": csrf_of(client, f"/web/visits/{op['id']}"), "decision": "approve"})
    assert sent.status_code == 303, sent.text
    with sqlite_world.portal.db.read() as session:
        events = session.scalars(select(WebhookEventRow).where(WebhookEventRow.type.in_(["visit.submitted", "visit.approved"]))).all()
    mine = sorted(e.type for e in events if e.data.get("visit_id") == op["id"])
    assert mine == ["visit.approved", "visit.submitted"]


def test_events_carry_the_crms_external_ref_and_imports_emit_nothing(any_world: World, hooks_on: Callable[[Portal], Hooks], receiver: Receiver) -> None:
    """A visit to a case the CRM created with its external_ref says so; importing cases writes no case.created."""
    world = any_world
    hooks = hooks_on(world.portal)
    hooks.add(receiver, ["visit.submitted", "case.created"])
    ref = f"CRM-{uuid.uuid4().hex[:12]}"
    world.case("crm_case", "officer1", external_ref=ref)
    imported: dict[str, Any] = {"reference": f"T-{uuid.uuid4().hex[:10]}", "external_ref": f"CRM-{uuid.uuid4().hex[:12]}", "case_type": "repair",
                "priority": "routine", "summary": "Leak", "opened_at": "2026-03-02T09:00:00Z", "property_id": world.ids["prop1"],
                "resident_ids": [], "assigned_officer_id": None, "team_id": world.ids["team_a"]}
    answer = world.portal.call("POST", "/admin/cases/import", headers=world.portal.admin, json=[imported])
    assert answer.status_code == 200 and answer.json()["results"][0]["status"] == "created", answer.text
    op = world.visit_op("officer1", "crm_case")
    assert world.portal.push(world.auth["officer1"], [op])[0]["status"] == "applied"
    work = worker(world.portal)
    drain(work, lambda: receiver.delivered())
    for _ in range(3):
        work.run_once()
    assert [(r.payload["type"], r.payload["data"]["visit_id"], r.payload["data"]["external_ref"]) for r in receiver.delivered()] == [
        ("visit.submitted", op["id"], ref)]
