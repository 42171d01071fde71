"""One push, one transaction: each op applies whole or not at all, later ops see earlier ones, a crash keeps nothing."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import func, select

from portal.models import CaseRow, OpRow, ReviewRow, VisitBlobRow, VisitRow
from portal.models_security import AuditEventRow
from portal.models_webhooks import WebhookEventRow
from portal.services import audit, push
from portal.services.push_outcomes import rejected
from tests.portal.conftest import Portal, World


def _kept(portal: Portal, ops: list[dict[str, Any]]) -> dict[str, Any]:
    """What the portal holds of the ops: visits (version, status), stored op ids, submitted events, audit events."""
    visit_ids = [op["id"] for op in ops if op["kind"] == "submit"]
    op_ids = [op["op_id"] for op in ops]
    with portal.db.plain() as session:
        visits = {v.id: (v.version, v.status) for v in session.scalars(select(VisitRow).where(VisitRow.id.in_(visit_ids)))}
        stored = set(session.scalars(select(OpRow.op_id).where(OpRow.op_id.in_(op_ids))))
        events = [e.data["visit_id"] for e in session.scalars(select(WebhookEventRow).where(WebhookEventRow.type == "visit.submitted"))
                  if e.data.get("visit_id") in visit_ids]
        audited = [e.details["op_id"] for e in session.scalars(select(AuditEventRow).where(AuditEventRow.action == "op.applied"))
                   if e.details.get("op_id") in op_ids]
    return {"visits": visits, "stored": stored, "events": sorted(events), "audited": sorted(audited)}


def _case(portal: Portal, case_id: str) -> tuple[int, int, str]:
    with portal.db.plain() as session:
        case = session.get(CaseRow, case_id)
        assert case is not None
        return case.version, case.seq, case.status


def test_refused_ops_among_accepted_leave_the_others_applied(any_world: World) -> None:
    """Refused ops in the middle of a push keep nothing of themselves; the ops around them apply, with their events."""
    world = any_world
    first = world.visit_op("officer1", "case1")
    bad_answers = world.visit_op("officer1", "case1", answers={"rh": 140})
    # Stale: the push's first op made this visit version 1.
    stale = world.visit_op("officer1", "case1", visit_id=first["id"], base_version=0, notes="again")
    not_theirs = world.decide_op(first["id"])  # an officer does not decide: not_found
    last = world.visit_op("officer1", "case1")
    ops = [first, bad_answers, stale, not_theirs, last]
    results = world.portal.push(world.auth["officer1"], ops)
    assert [r["status"] for r in results] == ["applied", "rejected", "conflict", "rejected", "applied"]
    assert results[2]["current"]["version"] == 1 and results[2]["current"]["seq"] == results[0]["seq"]
    assert results[0]["seq"] < results[4]["seq"]
    kept = _kept(world.portal, ops)
    assert kept["visits"] == {first["id"]: (1, "submitted"), last["id"]: (1, "submitted")}
    assert kept["stored"] == {first["op_id"], last["op_id"]}
    assert kept["events"] == sorted([first["id"], last["id"]]) and kept["audited"] == sorted([first["op_id"], last["op_id"]])
    # The case became visited once, with the seq before the first visit's.
    version, seq, status = _case(world.portal, world.ids["case1"])
    assert (version, status) == (2, "visited") and seq == results[0]["seq"] - 1


def test_an_op_refused_after_it_wrote_keeps_nothing(any_world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """A decision that wrote its review and then was refused is rolled back to its savepoint alone."""
    world = any_world
    visit = world.visit_op("officer1", "case1")
    world.portal.push(world.auth["officer1"], [visit])
    decide = push._HANDLERS[("review", "decide")]

    def decide_then_refuse(session: Any, caller: Any, op: Any) -> dict[str, Any]:
        decide(session, caller, op)
        raise rejected(op.op_id, "invalid_request", "Refused after writing.")

    monkeypatch.setitem(push._HANDLERS, ("review", "decide"), decide_then_refuse)
    refused = world.decide_op(visit["id"])
    world.case("case2", "lead_a")
    after = world.visit_op("lead_a", "case2")
    results = world.portal.push(world.auth["lead_a"], [refused, after])
    assert [r["status"] for r in results] == ["rejected", "applied"]
    with world.portal.db.plain() as session:
        assert session.get(ReviewRow, refused["id"]) is None
        assert (session.get(VisitRow, visit["id"]).status, session.get(VisitRow, visit["id"]).version) == ("submitted", 1)
        assert session.get(OpRow, refused["op_id"]) is None
        decided = session.scalars(select(WebhookEventRow).where(WebhookEventRow.type == "visit.approved")).all()
        assert not [e for e in decided if e.data["visit_id"] == visit["id"]]
    assert _kept(world.portal, [after])["visits"] == {after["id"]: (1, "submitted")}


def test_later_ops_of_a_push_see_the_earlier_ones(any_world: World) -> None:
    """A visit submitted, resubmitted and its summary recorded in one push; the first op again is its duplicate."""
    world = any_world
    first = world.visit_op("officer1", "case1")
    again = world.visit_op("officer1", "case1", visit_id=first["id"], base_version=1, notes="rooms measured")
    issued = {"op_id": str(uuid.uuid4()), "entity": "visit", "id": first["id"], "kind": "summary_issued", "base_version": 2,
              "data": {"method": "hand", "issued_at": "2026-03-03T11:00:00Z"}}
    later = world.visit_op("officer1", "case1", visit_id=first["id"], base_version=3, notes="and the loft")
    results = world.portal.push(world.auth["officer1"], [first, again, issued, first, later])
    assert [r["status"] for r in results] == ["applied", "applied", "applied", "duplicate", "applied"]
    assert [r["version"] for r in results] == [1, 2, 3, 1, 4]
    assert results[3]["seq"] == results[0]["seq"]
    seqs = [results[i]["seq"] for i in (0, 1, 2, 4)]
    assert seqs == sorted(seqs) and len(set(seqs)) == 4
    with world.portal.db.plain() as session:
        row = session.get(VisitRow, first["id"])
        assert (row.version, row.seq, row.document["notes"]) == (4, results[4]["seq"], "and the loft")
        assert row.summary_issued["method"] == "hand"
        assert session.scalar(select(func.count()).select_from(VisitBlobRow).where(VisitBlobRow.visit_id == first["id"])) == 0
    changes, _ = world.portal.pull_all(world.auth["officer1"])
    [pulled] = [c for c in changes if c["id"] == first["id"]]
    assert pulled["version"] == 4 and pulled["data"]["summary_issued"]["method"] == "hand"


def test_a_crash_before_the_commit_keeps_nothing_and_the_replay_applies_all_once(any_world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """The push fails after every op was written but before its commit: nothing stays; pushed again, each op applies once."""
    world = any_world
    world.case("case2", "officer1")
    ops = [world.visit_op("officer1", case) for case in ("case1", "case2", "case1")]
    before = {case: _case(world.portal, world.ids[case]) for case in ("case1", "case2")}
    real_add = audit.add

    def crash(*_args: Any, **_kwargs: Any) -> None:
        raise RuntimeError("the portal died here")

    # The audit events are the push's last writes, just before its commit.
    monkeypatch.setattr(audit, "add", crash)
    with pytest.raises(RuntimeError):
        world.portal.push(world.auth["officer1"], ops)
    assert _kept(world.portal, ops) == {"visits": {}, "stored": set(), "events": [], "audited": []}
    assert {case: _case(world.portal, world.ids[case]) for case in before} == before
    monkeypatch.setattr(audit, "add", real_add)
    results = world.portal.push(world.auth["officer1"], ops)
    assert [r["status"] for r in results] == ["applied"] * 3
    again = world.portal.push(world.auth["officer1"], ops)
    assert [r["status"] for r in again] == ["duplicate"] * 3 and [r["seq"] for r in again] == [r["seq"] for r in results]
    kept = _kept(world.portal, ops)
    assert kept["visits"] == {op["id"]: (1, "submitted") for op in ops}
    assert kept["events"] == sorted(op["id"] for op in ops) and kept["audited"] == sorted(op["op_id"] for op in ops)


def test_pushes_of_the_same_cases_in_opposite_orders_all_apply(world: World) -> None:
    """Two people push visits of the same two cases at once, in opposite orders: no deadlock, every op applied once."""
    import threading

    world.case("case2", "officer1")
    batches = {
        "officer1": [world.visit_op("officer1", case) for _ in range(5) for case in ("case1", "case2")],
        "lead_a": [world.visit_op("lead_a", case) for _ in range(5) for case in ("case2", "case1")],
    }
    barrier = threading.Barrier(2)
    results: dict[str, list[dict[str, Any]]] = {}

    def device(who: str) -> None:
        barrier.wait()
        results[who] = world.portal.push(world.auth[who], batches[who])

    threads = [threading.Thread(target=device, args=(who,)) for who in batches]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert {who: {r["status"] for r in found} for who, found in results.items()} == {"officer1": {"applied"}, "lead_a": {"applied"}}
    every = [r["seq"] for found in results.values() for r in found]
    assert len(set(every)) == len(every)
    # Each case became visited once; the later push found it visited already.
    assert [_case(world.portal, world.ids[case])[0] for case in ("case1", "case2")] == [2, 2]
