"""Push: visit submit and review decide rules, idempotency, batch limits."""

from __future__ import annotations

import hashlib
import uuid

import pytest
from sqlalchemy import select

from portal.models import OpRow, VisitRow
from tests.portal.conftest import Portal, World, jpeg_bytes


def _one(world: World, who: str, op: dict) -> dict:
    [result] = world.portal.push(world.auth[who], [op])
    assert result["op_id"] == op["op_id"]
    return result


def _visit_state(portal: Portal, visit_id: str) -> tuple:
    with portal.db.plain() as session:
        visit = session.get(VisitRow, visit_id)
        return None if visit is None else (visit.version, visit.seq, visit.status, visit.document, visit.review)


def test_submit_applies_and_officer_pulls_it(world: World) -> None:
    """A valid first submit is applied with version 1 and its seq, and comes back in the officer's pull."""
    op = world.visit_op("officer1", "case1")
    result = _one(world, "officer1", op)
    assert result["status"] == "applied" and result["version"] == 1 and result["seq"] > 0
    changes, _ = world.portal.pull_all(world.auth["officer1"])
    visit = [c for c in changes if c["entity"] == "visit" and c["id"] == op["id"]]
    assert visit and visit[0]["data"]["status"] == "submitted" and visit[0]["data"]["review"] is None
    assert visit[0]["data"]["answers"] == {"mould": True, "rh": 71}


@pytest.mark.parametrize("replays", [1, 2, 3])
def test_replayed_batch_leaves_the_same_state(any_world: World, replays: int) -> None:
    """Replaying a batch 1–3 times returns duplicates with the stored results and changes nothing."""
    first = any_world.visit_op("officer1", "case1")
    second = any_world.visit_op("officer1", "case1")
    batch = [first, second, any_world.decide_op(first["id"], "return", "Add photos of the bathroom")]
    original = any_world.portal.push(any_world.auth["officer1"], batch[:2]) + any_world.portal.push(any_world.auth["lead_a"], batch[2:])
    assert [r["status"] for r in original] == ["applied", "applied", "applied"]
    state = [_visit_state(any_world.portal, op["id"]) for op in batch[:2]]
    for _ in range(replays):
        again = any_world.portal.push(any_world.auth["officer1"], batch[:2]) + any_world.portal.push(any_world.auth["lead_a"], batch[2:])
        assert [r["status"] for r in again] == ["duplicate"] * 3
        assert [(r["version"], r["seq"]) for r in again] == [(r["version"], r["seq"]) for r in original]
    assert [_visit_state(any_world.portal, op["id"]) for op in batch[:2]] == state


def test_other_officers_case_is_not_found(world: World) -> None:
    """Submitting into another officer's case, or as another officer, is rejected not_found and stores nothing."""
    into_other = world.visit_op("officer2", "case1")
    as_other = world.visit_op("officer2", "case1", officer_id=world.ids["officer1"])
    for op in (into_other, as_other):
        result = _one(world, "officer2", op)
        assert result["status"] == "rejected" and result["error"]["code"] == "not_found"
        assert _visit_state(world.portal, op["id"]) is None


def test_officer_cannot_overwrite_another_officers_visit(world: World) -> None:
    """Reusing another officer's visit id is rejected not_found."""
    op = world.visit_op("officer1", "case1")
    _one(world, "officer1", op)
    world.case("case2", "officer2")
    stolen = world.visit_op("officer2", "case2", visit_id=op["id"], base_version=1)
    result = _one(world, "officer2", stolen)
    assert result["error"]["code"] == "not_found"
    assert _visit_state(world.portal, op["id"])[0] == 1


def test_invalid_answers_name_each_question(any_world: World) -> None:
    """Answers that break the template are rejected invalid_answers naming every bad question."""
    op = any_world.visit_op("officer1", "case1", answers={"rh": 140, "rooms": ["Attic"], "nope": 1, "hz": {"hazard": "Dragons", "band": "A"}})
    result = _one(any_world, "officer1", op)
    assert result["status"] == "rejected" and result["error"]["code"] == "invalid_answers"
    assert set(result["error"]["details"]["questions"]) == {"rh", "rooms", "nope", "hz", "mould"}
    assert _visit_state(any_world.portal, op["id"]) is None


def test_no_access_visit_need_not_answer_required_questions(world: World) -> None:
    """A visit with outcome no_access is accepted without answers."""
    result = _one(world, "officer1", world.visit_op("officer1", "case1", outcome="no_access", answers={}))
    assert result["status"] == "applied"


def test_missing_blob_is_rejected_with_hashes(world: World) -> None:
    """A photo whose blob is not complete is rejected blob_missing listing the hash."""
    sha = hashlib.sha256(b"never uploaded " + uuid.uuid4().bytes).hexdigest()
    photo = {"id": str(uuid.uuid4()), "sha256": sha, "content_type": "image/jpeg", "bytes": 10, "width": 4, "height": 3, "caption": "wall"}
    result = _one(world, "officer1", world.visit_op("officer1", "case1", photos=[photo], answers={"mould": True, "pics": [photo["id"]]}))
    assert result["status"] == "rejected" and result["error"]["code"] == "blob_missing"
    assert result["error"]["details"]["hashes"] == [sha]


def test_submit_with_uploaded_photo_applies(any_world: World) -> None:
    """A photo uploaded first lets the visit apply, and the lead may then download it."""
    data = jpeg_bytes(colour=(1, 2, 3))
    sha = hashlib.sha256(data).hexdigest()
    put = any_world.portal.call("PUT", f"/blobs/{sha}", headers={**any_world.auth["officer1"], "Content-Range": f"bytes 0-{len(data) - 1}/{len(data)}"}, content=data)
    assert put.status_code == 201
    photo = {"id": str(uuid.uuid4()), "sha256": sha, "content_type": "image/jpeg", "bytes": len(data), "width": 64, "height": 48, "caption": "wall"}
    result = _one(any_world, "officer1", any_world.visit_op("officer1", "case1", photos=[photo], answers={"mould": True, "pics": [photo["id"]]}))
    assert result["status"] == "applied"
    assert any_world.portal.call("GET", f"/blobs/{sha}", headers=any_world.auth["lead_a"]).content == data


def test_base_version_mismatch_is_conflict_with_current(world: World) -> None:
    """A resubmit from a stale base_version is a conflict carrying the portal's current record."""
    op = world.visit_op("officer1", "case1")
    _one(world, "officer1", op)
    stale = world.visit_op("officer1", "case1", visit_id=op["id"], base_version=0, notes="again")
    result = _one(world, "officer1", stale)
    assert result["status"] == "conflict" and result["error"]["code"] == "conflict"
    assert result["current"]["id"] == op["id"] and result["current"]["version"] == 1 and result["current"]["status"] == "submitted"


def test_returned_visit_resubmitted_becomes_submitted(any_world: World) -> None:
    """A returned visit resubmitted with the right base_version is submitted again with a new version."""
    op = any_world.visit_op("officer1", "case1")
    _one(any_world, "officer1", op)
    returned = _one(any_world, "lead_a", any_world.decide_op(op["id"], "return", "Measure the humidity in every room"))
    assert returned["status"] == "applied" and returned["version"] == 2
    changes, _ = any_world.portal.pull_all(any_world.auth["officer1"])
    [visit] = [c for c in changes if c["id"] == op["id"]]
    assert visit["data"]["status"] == "returned" and visit["data"]["review"]["comment"] == "Measure the humidity in every room"
    assert visit["data"]["review"]["lead_id"] == any_world.ids["lead_a"] and visit["data"]["review"]["decision"] == "return"
    again = _one(any_world, "officer1", any_world.visit_op("officer1", "case1", visit_id=op["id"], base_version=2, notes="all rooms measured"))
    assert again["status"] == "applied" and again["version"] == 3
    assert _visit_state(any_world.portal, op["id"])[2] == "submitted"


def test_approved_visit_is_locked(any_world: World) -> None:
    """Any change to an approved visit is a conflict visit_locked with the current record."""
    op = any_world.visit_op("officer1", "case1")
    _one(any_world, "officer1", op)
    _one(any_world, "lead_a", any_world.decide_op(op["id"], "approve"))
    result = _one(any_world, "officer1", any_world.visit_op("officer1", "case1", visit_id=op["id"], base_version=2, notes="late edit"))
    assert result["status"] == "conflict" and result["error"]["code"] == "visit_locked"
    assert result["current"]["status"] == "approved" and result["current"]["version"] == 2
    amendment = _one(any_world, "officer1", any_world.visit_op("officer1", "case1", amends=op["id"], notes="late edit"))
    assert amendment["status"] == "applied"


def test_decide_rules(world: World) -> None:
    """Only the lead of the visit's team decides; return needs a comment; a decided visit is a conflict."""
    op = world.visit_op("officer1", "case1")
    _one(world, "officer1", op)
    for who in ("lead_b", "officer2", "officer1"):
        assert _one(world, who, world.decide_op(op["id"]))["error"]["code"] == "not_found"
    no_comment = _one(world, "lead_a", world.decide_op(op["id"], "return", "  "))
    assert no_comment["status"] == "rejected" and no_comment["error"]["code"] == "invalid_request"
    assert _one(world, "lead_a", world.decide_op(op["id"]))["status"] == "applied"
    late = _one(world, "lead_a", world.decide_op(op["id"], "return", "Wait"))
    assert late["status"] == "conflict" and late["current"]["status"] == "approved"
    unknown = _one(world, "lead_a", world.decide_op(str(uuid.uuid4())))
    assert unknown["error"]["code"] == "not_found"


def test_malformed_op_is_rejected_alone(world: World) -> None:
    """A malformed op is rejected invalid_request while the rest of the batch applies."""
    good = world.visit_op("officer1", "case1")
    bad_data = world.visit_op("officer1", "case1", outcome="brilliant", started_at=5)
    bad_envelope = {"op_id": str(uuid.uuid4()), "entity": "visit", "id": "not-a-uuid", "kind": "submit", "base_version": -1, "data": {}}
    wrong_kind = {**world.visit_op("officer1", "case1"), "kind": "decide"}
    results = world.portal.push(world.auth["officer1"], [bad_data, bad_envelope, wrong_kind, good])
    assert [r["status"] for r in results] == ["rejected", "rejected", "rejected", "applied"]
    assert {"outcome", "started_at"} <= set(results[0]["error"]["details"]["fields"])
    assert {"id", "base_version"} <= set(results[1]["error"]["details"]["fields"])
    assert all(r["error"]["code"] == "invalid_request" for r in results[:3])


def test_push_limits_are_413(pg_portal: Portal, world: World) -> None:
    """More ops than max_push_ops, or more bytes than max_push_bytes, answers 413 and applies nothing."""
    ops = [world.visit_op("officer1", "case1") for _ in range(pg_portal.settings.max_push_ops + 1)]
    too_many = pg_portal.call("POST", "/sync/push", headers=world.auth["officer1"], json={"device_id": "d", "ops": ops})
    assert too_many.status_code == 413 and too_many.json()["error"]["code"] == "payload_too_large"
    big = [world.visit_op("officer1", "case1", notes="x" * (pg_portal.settings.max_push_bytes + 1))]
    too_big = pg_portal.call("POST", "/sync/push", headers=world.auth["officer1"], json={"device_id": "d", "ops": big})
    assert too_big.status_code == 413 and too_big.json()["error"]["code"] == "payload_too_large"
    with pg_portal.db.plain() as session:
        ids = {op["op_id"] for op in ops + big}
        assert not session.scalars(select(OpRow.op_id).where(OpRow.op_id.in_(ids))).all()


def test_push_envelope_errors_are_422(world: World) -> None:
    """A push without device_id or with ops not a list answers 422 invalid_request."""
    for body in ({"ops": []}, {"device_id": "d", "ops": {}}, {"device_id": "d", "ops": [], "extra": 1}):
        response = world.portal.call("POST", "/sync/push", headers=world.auth["officer1"], json=body)
        assert response.status_code == 422 and response.json()["error"]["code"] == "invalid_request"


def test_admin_push_is_not_found(world: World) -> None:
    """An admin has no field scope: a submit is rejected not_found."""
    op = world.visit_op("officer1", "case1")
    [result] = world.portal.push(world.portal.admin, [op])
    assert result["error"]["code"] == "not_found"


def test_same_op_pushed_concurrently_applies_once(pg_portal: Portal, world: World) -> None:
    """Two devices pushing the same op at once: one applied, one duplicate, version 1."""
    import threading

    op = world.visit_op("officer1", "case1")
    barrier = threading.Barrier(4)
    results: list[dict] = []

    def device() -> None:
        barrier.wait()
        results.extend(pg_portal.push(world.auth["officer1"], [op]))

    threads = [threading.Thread(target=device) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(r["status"] for r in results) == ["applied", "duplicate", "duplicate", "duplicate"]
    assert {(r["version"], r["seq"]) for r in results} == {(1, results[0]["seq"])}
    assert _visit_state(pg_portal, op["id"])[0] == 1


def test_lead_may_not_decide_own_visit_or_its_amendment(any_world: World) -> None:
    """A lead's own visit, and an officer's amendment of it, are rejected own_visit; the other lead's visits decide fine."""
    lead_case = any_world.case("lead_case", "lead_a")
    own = any_world.visit_op("lead_a", "lead_case")
    assert _one(any_world, "lead_a", own)["status"] == "applied"
    [result] = any_world.portal.push(any_world.auth["lead_a"], [any_world.decide_op(own["id"], "approve")])
    assert result["status"] == "rejected" and result["error"]["code"] == "own_visit"
    assert _visit_state(any_world.portal, own["id"])[2] == "submitted"
    officer_visit = any_world.visit_op("officer1", "case1")
    assert _one(any_world, "officer1", officer_visit)["status"] == "applied"
    assert _one(any_world, "lead_a", any_world.decide_op(officer_visit["id"]))["status"] == "applied"
    # The lead amends the officer's approved visit: deciding the amendment is deciding their own.
    amendment = any_world.visit_op("lead_a", "lead_case", amends=officer_visit["id"])
    assert _one(any_world, "lead_a", amendment)["status"] == "applied"
    [result] = any_world.portal.push(any_world.auth["lead_a"], [any_world.decide_op(amendment["id"], "approve")])
    assert result["error"]["code"] == "own_visit"
    assert lead_case


def test_hazards_may_leave_the_band_null_but_need_a_hazard(world: World) -> None:
    """Revision 2: a hazards entry with band null is applied; one without an HHSRS hazard is rejected naming it."""
    banded = {"hazard": "Damp and mould growth", "band": "C", "location": "Bathroom", "notes": ""}
    unbanded = {"hazard": "Excess cold", "band": None, "location": "Hall", "notes": "No heating"}
    applied = _one(world, "officer1", world.visit_op("officer1", "case1", hazards=[banded, unbanded]))
    assert applied["status"] == "applied"
    nameless = _one(world, "officer1", world.visit_op("officer1", "case1", hazards=[banded, {**unbanded, "hazard": ""}]))
    assert nameless["status"] == "rejected" and nameless["error"]["code"] == "invalid_answers"
    assert set(nameless["error"]["details"]["questions"]) == {"hazards.1"}
