"""The sync-facing side of the store: pages, outbox, push results, problems, purge, reset, sign-in."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest

import factories as f
from fieldapp import FieldStore
from fieldapp.clock import utc_now
from fieldapp.db import DB_FILENAME
from fieldapp.lazy_store import stored_datetime
from fieldapp.errors import NotFoundError, StoreError, ValidationError
from fieldapp.types import Hazard, ProblemAction, UserInfo, VisitState
from store_helpers import Filled, filled_store, make_jpeg
from fieldapp.search import CaseFilter


def queued(filled: Filled, tmp_path: Path | None = None, photos: int = 0) -> str:
    """A submitted (queued) visit, optionally with photos; returns its id."""
    visit = filled.complete()
    for n in range(photos):
        filled.store.add_photo(visit.id, make_jpeg(tmp_path / f"p{n}.jpg", n + 10))
    return filled.store.submit_visit(visit.id).id


def server_visit(filled: Filled, visit_id: str, version: int, status: str, **kw: Any) -> dict[str, Any]:
    """A pulled change of the officer's own visit."""
    w = filled.world
    return f.visit(filled.case_id, w.officer_id, w.template_id, id=visit_id, version=version, status=status, **kw)


# ---------------------------------------------------------------- pages


def test_a_page_and_its_cursor_commit_together(filled: Filled) -> None:
    """A page with an unreadable change applies nothing and keeps the cursor."""
    good = f.case(filled.world.property_id, filled.world.team_id, reference="NEW-1")
    bad = {"entity": "case", "id": "x", "version": 1, "seq": 1, "deleted": False, "data": {"reference": "B"}}
    with pytest.raises(StoreError, match="nothing from this sync was saved"):
        filled.store.apply_changes([good, bad], 999)
    assert filled.store.sync_state().cursor == 100
    assert filled.store.cases(CaseFilter("NEW")) == []
    filled.store.apply_changes([good], 999)
    assert filled.store.sync_state().cursor == 999 and len(filled.store.cases(CaseFilter("NEW"))) == 1


def test_unknown_entities_are_skipped(filled: Filled) -> None:
    """A newer portal's extra entity does not stop the page."""
    filled.store.apply_changes([f.change("gadget", {"x": 1})], 101)
    assert filled.store.sync_state().cursor == 101


def test_own_user_change_updates_the_signed_in_name(filled: Filled) -> None:
    """The officer's renamed user record shows as the current user's name."""
    w = filled.world
    filled.store.apply_changes([f.user("olivia", team_id=w.team_id, id=w.officer_id, version=2,
                                       display_name="Olivia Smith")], 101)
    assert filled.store.current_user().display_name == "Olivia Smith"


# ---------------------------------------------------------------- outbox and blobs


def test_outbox_is_fifo_within_limits(filled: Filled) -> None:
    """Oldest first, at most ``limit``, within ``max_bytes`` but never empty when something waits."""
    first, second, third = (queued(filled) for _ in range(3))
    assert [op.id for op in filled.store.outbox()] == [first, second, third]
    assert [op.id for op in filled.store.outbox(limit=2)] == [first, second]
    size = filled.store.outbox()[0].size
    assert [op.id for op in filled.store.outbox(max_bytes=size * 2 + 1)] == [first, second]
    assert [op.id for op in filled.store.outbox(max_bytes=1)] == [first]


def test_blobs_of_queued_visits_wait_until_confirmed(filled: Filled, tmp_path: Path) -> None:
    """Photos of queued visits are listed with their bytes until the portal confirms them."""
    draft = filled.draft()
    filled.store.add_photo(draft.id, make_jpeg(tmp_path / "draft.jpg", 99))
    queued(filled, tmp_path, photos=2)
    blobs = filled.store.blobs_to_upload()
    assert len(blobs) == 2 and all(b.path.stat().st_size == b.bytes for b in blobs)
    pending = filled.store.pending()
    assert (pending.visits, pending.photos, pending.bytes) == (1, 2, sum(b.bytes for b in blobs))
    filled.store.mark_blobs_uploaded([blobs[0].sha256])
    assert [b.sha256 for b in filled.store.blobs_to_upload()] == [blobs[1].sha256]


# ---------------------------------------------------------------- push results


@pytest.mark.parametrize("status", ["applied", "duplicate"])
def test_applied_or_duplicate_submits_the_visit(filled: Filled, tmp_path: Path, status: str) -> None:
    """The op leaves the outbox, the visit is SUBMITTED at the portal's version, its photos uploaded."""
    visit_id = queued(filled, tmp_path, photos=1)
    ops = filled.store.outbox()
    filled.store.record_results(ops, [f.pushed(ops[0], status, version=1, seq=7)])
    visit = filled.store.visit(visit_id)
    assert (visit.state, visit.server_version) == (VisitState.SUBMITTED, 1)
    assert filled.store.outbox() == [] and filled.store.pending().empty
    assert visit.photos[0].uploaded


def test_unanswered_ops_stay_queued(filled: Filled) -> None:
    """An op without a result (a short response) is pushed again next time."""
    queued(filled)
    ops = filled.store.outbox()
    filled.store.record_results(ops, [])
    assert filled.store.outbox() == ops


def test_conflict_keeps_the_content_and_offers_retry_or_discard(filled: Filled) -> None:
    """A stale base_version becomes a problem; the typed content stays; RETRY queues on the portal's version."""
    visit_id = queued(filled)
    ops = filled.store.outbox()
    current = {**server_visit(filled, visit_id, 3, "returned")["data"], "version": 3}
    filled.store.record_results(ops, [f.pushed(ops[0], "conflict", current=current,
                                             error={"code": "conflict", "message": "Stale"})])
    [problem] = filled.store.problems()
    assert (problem.kind, problem.entity, problem.record_id) == ("conflict", "visit", visit_id)
    assert problem.actions == (ProblemAction.RETRY, ProblemAction.DISCARD) and problem.message
    visit = filled.store.visit(visit_id)
    assert visit.answers == {"mould": True, "room": "Bathroom"} and visit.editable
    assert filled.store.outbox() == []
    retried = filled.store.resolve_problem(problem.id, ProblemAction.RETRY)
    assert retried.state == VisitState.QUEUED
    assert filled.store.outbox()[0].base_version == 3 and filled.store.problems() == []


def test_discard_takes_the_portals_version(filled: Filled) -> None:
    """DISCARD replaces the local content with the portal's current visit."""
    visit_id = queued(filled)
    ops = filled.store.outbox()
    current = {**server_visit(filled, visit_id, 2, "submitted", notes="Portal notes")["data"], "version": 2}
    filled.store.record_results(ops, [f.pushed(ops[0], "conflict", current=current)])
    [problem] = filled.store.problems()
    with pytest.raises(ValidationError, match="resolved by"):
        filled.store.resolve_problem(problem.id, ProblemAction.AMEND)
    visit = filled.store.resolve_problem(problem.id, ProblemAction.DISCARD)
    assert (visit.state, visit.notes) == (VisitState.SUBMITTED, "Portal notes")
    with pytest.raises(NotFoundError):
        filled.store.resolve_problem(problem.id, ProblemAction.DISCARD)


def test_visit_locked_offers_an_amendment_carrying_what_was_typed(filled: Filled, tmp_path: Path) -> None:
    """An edit that meets an approved visit becomes an AMEND problem; the amendment copies answers and photos."""
    visit = filled.complete(notes="My notes", hazards=[Hazard("Fire", "A")])
    photo = filled.store.add_photo(visit.id, make_jpeg(tmp_path / "x.jpg"), question_id="pics")
    filled.store.submit_visit(visit.id)
    ops = filled.store.outbox()
    filled.store.record_results(ops, [f.pushed(ops[0], "conflict", error={"code": "visit_locked", "message": "Locked"},
                                             current={"version": 4, "status": "approved"})])
    [problem] = filled.store.problems()
    assert (problem.kind, problem.actions) == ("visit_locked", (ProblemAction.AMEND,))
    # A pull of the approved visit meanwhile must not wipe what was typed.
    filled.store.apply_changes([server_visit(filled, visit.id, 4, "approved", notes="Old")], 400)
    assert filled.store.visit(visit.id).notes == "My notes"
    amendment = filled.store.resolve_problem(problem.id, ProblemAction.AMEND)
    assert amendment.amends == visit.id and amendment.state == VisitState.DRAFT and amendment.id != visit.id
    assert amendment.notes == "My notes" and amendment.hazards == (Hazard("Fire", "A"),)
    [copy] = amendment.photos
    assert copy.id != photo.id and copy.sha256 == photo.sha256 and copy.path == photo.path
    assert amendment.answers == {"mould": True, "room": "Bathroom", "pics": [copy.id]}
    filled.store.submit_visit(amendment.id)
    assert filled.store.outbox()[0].data["amends"] == visit.id


def test_blob_missing_requeues_with_a_new_op_id_then_becomes_a_problem(filled: Filled, tmp_path: Path) -> None:
    """blob_missing un-marks the blobs and requeues under a new op_id; the third time it is a problem."""
    visit_id = queued(filled, tmp_path, photos=1)
    sha = filled.store.blobs_to_upload()[0].sha256
    seen = set()
    for attempt in range(3):
        filled.store.mark_blobs_uploaded([sha])
        [op] = filled.store.outbox()
        assert op.op_id not in seen
        seen.add(op.op_id)
        queued_again = filled.store.record_results([op], [f.pushed(op, "rejected", error={
            "code": "blob_missing", "message": "Upload first", "details": {"hashes": [sha]}})])
        assert queued_again == (1 if attempt < 2 else 0)
        if attempt < 2:
            assert [b.sha256 for b in filled.store.blobs_to_upload()] == [sha]
            assert filled.store.problems() == []
    assert filled.store.outbox() == []
    [problem] = filled.store.problems()
    assert problem.kind == "blob_missing" and filled.store.visit(visit_id).editable


def test_other_rejections_become_problems_with_the_portals_message(filled: Filled) -> None:
    """A rejected op is dropped from the outbox, the visit editable again, the message kept."""
    visit_id = queued(filled)
    ops = filled.store.outbox()
    filled.store.record_results(ops, [f.pushed(ops[0], "rejected", error={
        "code": "invalid_answers", "message": "Question rh: enter a number.", "details": {"rh": "bad"}})])
    [problem] = filled.store.problems()
    assert problem.kind == "rejected" and "enter a number" in problem.message
    assert filled.store.visit(visit_id).state == VisitState.DRAFT and filled.store.outbox() == []
    filled.store.submit_visit(visit_id)  # correcting and resubmitting clears the problem
    assert filled.store.problems() == []


def test_a_result_for_a_replaced_op_does_not_touch_the_visit(filled: Filled) -> None:
    """Work done while a push ran (the op replaced) stays pending; the old op's result is ignored."""
    visit_id = queued(filled)
    old = filled.store.outbox()
    ops = filled.store.outbox()
    filled.store.record_results(ops, [f.pushed(ops[0], "conflict", current={"version": 1, "status": "submitted"})])
    [problem] = filled.store.problems()
    filled.store.resolve_problem(problem.id, ProblemAction.RETRY)   # new op while the old result arrives late
    filled.store.record_results(old, [f.pushed(old[0], "applied", version=1)])
    assert filled.store.visit(visit_id).state == VisitState.QUEUED and len(filled.store.outbox()) == 1


def _stored(filled: Filled) -> dict[str, list[tuple[Any, ...]]]:
    with sqlite3.connect(filled.store.data_dir / "fieldapp.db") as conn:
        return {"visits": conn.execute("SELECT id, state, server_version, op_id, local_edits FROM visits ORDER BY id").fetchall(),
                "outbox": conn.execute("SELECT op_id FROM outbox ORDER BY seq").fetchall(),
                "blobs": conn.execute("SELECT sha256, uploaded FROM blobs ORDER BY sha256").fetchall()}


def test_a_batch_of_accepted_submits_is_recorded_as_one_by_one_and_a_replay_changes_nothing(
        tmp_path: Path) -> None:
    """The set-based recording of a batch that is all accepted submits leaves the store as the per-op rules do."""
    stores = [filled_store(tmp_path / name) for name in ("batch", "single")]
    try:
        for filled in stores:
            for n in range(3):
                visit = filled.store.start_visit(filled.world.case_ids[n], filled.world.template_id)
                filled.store.update_visit(visit.id, answers={"mould": True, "room": "Bathroom"}, outcome="completed")
                filled.store.add_photo(visit.id, make_jpeg(tmp_path / f"p{n}.jpg", n + 10))
                filled.store.submit_visit(visit.id)
        batch, single = stores
        ops = batch.store.outbox()
        results = [f.pushed(op, "applied" if n else "duplicate", version=n + 1, seq=10 + n) for n, op in enumerate(ops)]
        assert batch.store.record_results(ops, results) == 0
        batch.store.record_results(ops, results)   # a replayed batch: everything is recorded already
        for n, op in enumerate(single.store.outbox()):
            # One op with a result and one without: the per-op rules, not the batch's.
            rest = single.store.outbox()
            single.store.record_results(rest, [f.pushed(op, "applied" if n else "duplicate", version=n + 1, seq=10 + n)])
        assert sorted(v[1:] for v in _stored(batch)["visits"]) == sorted(v[1:] for v in _stored(single)["visits"])
        assert sorted(v[1:] for v in _stored(batch)["visits"]) == [
            (VisitState.SUBMITTED.value, version, None, 0) for version in (1, 2, 3)]
        assert _stored(batch)["outbox"] == _stored(single)["outbox"] == []
        assert _stored(batch)["blobs"] == _stored(single)["blobs"] and all(up for _h, up in _stored(batch)["blobs"])
        assert batch.store.pending().empty
    finally:
        for filled in stores:
            filled.store.close()


def test_a_group_of_pages_holding_records_twice_keeps_their_later_versions(filled: Filled) -> None:
    """Pages applied as one group (sync.page_feed) may hold a record once each: new then changed, or changed then
    gone; the later version wins, as when the pages are applied one by one."""
    w = filled.world
    prop = f.property_(postcode="E1 1AA")
    resident = f.resident(prop["id"], "Sam Bloggs")
    first = f.case(prop["id"], w.team_id, reference="GRP-1", resident_ids=[resident["id"]], officer_id=w.officer_id)
    later = f.case(prop["id"], w.team_id, reference="GRP-1", resident_ids=[], officer_id=w.officer_id,
                   summary="Leak under the sink", id=first["id"], version=2)
    moved = f.property_(postcode="E1 1AB", id=prop["id"], version=2)
    visit_id = f.new_id()
    new_visit = server_visit(filled, visit_id, 1, "submitted", notes="first")
    returned = server_visit(filled, visit_id, 2, "returned", notes="first", review={
        "decision": "return", "comment": "Which room?", "lead_id": w.lead_id, "decided_at": "2025-11-21T09:00:00Z"})
    filled.store.apply_changes([prop, resident, first, new_visit, later, moved, returned], 700)
    [found] = filled.store.cases(CaseFilter("GRP-1"))
    assert found.summary == "Leak under the sink"
    case = filled.store.case(found.id)
    assert case.residents == () and case.property.postcode == "E1 1AB" and found.postcode == "E1 1AB"
    visit = filled.store.visit(visit_id)
    assert (visit.state, visit.server_version) == (VisitState.RETURNED, 2)
    assert _history(filled, visit_id) == [(1, "submitted"), (2, "returned")]
    assert filled.store.sync_state().cursor == 700


# ---------------------------------------------------------------- pulled own visits


def test_pulled_own_visit_with_unsent_work_keeps_local_content(filled: Filled) -> None:
    """While a submit is queued, a pulled version does not overwrite it."""
    visit_id = queued(filled)
    filled.store.apply_changes([server_visit(filled, visit_id, 1, "submitted", notes="server")], 500)
    visit = filled.store.visit(visit_id)
    assert visit.state == VisitState.QUEUED and visit.notes == ""
    assert len(filled.store.outbox()) == 1


def _history(filled: Filled, visit_id: str) -> list[tuple[int, str]]:
    with sqlite3.connect(filled.store.data_dir / "fieldapp.db") as conn:
        return conn.execute("SELECT version, status FROM visit_history WHERE visit_id = ? ORDER BY version",
                            (visit_id,)).fetchall()


def test_the_echo_of_a_push_is_skipped_and_what_follows_it_applied(filled: Filled) -> None:
    """The pull after a push brings the visit back at the version its result gave: nothing is re-applied or kept
    again; a later version in the same page (a lead returned it) is applied as usual."""
    visit_id = queued(filled)
    ops = filled.store.outbox()
    filled.store.record_results(ops, [f.pushed(ops[0], "applied", version=1, seq=7)])
    before = filled.store.visit(visit_id)
    # Different notes would show if the echo were applied: the portal's version 1 is what this laptop sent.
    filled.store.apply_changes([server_visit(filled, visit_id, 1, "submitted", notes="as the portal has it")], 501)
    assert filled.store.visit(visit_id) == before and _history(filled, visit_id) == []
    returned = server_visit(filled, visit_id, 2, "returned", notes="as the portal has it",
                            review={"decision": "return", "comment": "Add the bathroom photo",
                                    "lead_id": filled.world.lead_id, "decided_at": "2025-11-21T09:00:00Z"})
    filled.store.apply_changes([server_visit(filled, visit_id, 1, "submitted"), returned], 502)
    visit = filled.store.visit(visit_id)
    assert (visit.state, visit.server_version, visit.notes) == (VisitState.RETURNED, 2, "as the portal has it")
    assert _history(filled, visit_id) == [(2, "returned")]


@pytest.mark.parametrize("alone", [True, False], ids=["set-based", "per-op"])
def test_a_return_pulled_while_the_push_answer_was_lost_is_kept_when_the_replay_answers(filled: Filled, alone: bool) -> None:
    """A push applied whose answer was lost, a lead's return pulled while the op is still queued, then the replay's
    `duplicate` (the old version): the visit is returned, with the comment, at the return's version; never submitted."""
    visit_id = queued(filled)
    others = [] if alone else [queued(filled)]
    ops = filled.store.outbox()
    review = {"decision": "return", "comment": "Add the bathroom photo", "lead_id": filled.world.lead_id,
              "decided_at": "2025-11-21T09:00:00Z"}
    filled.store.apply_changes([server_visit(filled, visit_id, 2, "returned", review=review)], 500)
    assert filled.store.visit(visit_id).state == VisitState.QUEUED   # the op is unsent: the return waits
    results = [f.pushed(ops[0], "duplicate", version=1, seq=7)]
    results += [f.pushed(op, "rejected", error={"code": "invalid_answers", "message": "Bad."}) for op in ops[1:]]
    assert filled.store.record_results(ops, results) == 0
    visit = filled.store.visit(visit_id)
    assert (visit.state, visit.server_version) == (VisitState.RETURNED, 2) and visit.editable
    assert visit.review is not None and visit.review.comment == "Add the bathroom photo"
    assert filled.store.outbox() == [] and all(filled.store.visit(o).state == VisitState.DRAFT for o in others)


@pytest.mark.parametrize("status", ["returned", "approved", "submitted"])
def test_the_later_state_taken_at_the_replay_is_dated_as_a_pull_dates_it(filled: Filled, status: str) -> None:
    """The replay's `duplicate` takes the pulled later version's state as the pull takes one: the visit changed now,
    and one that is submitted waits in the review queue from now."""
    visit_id = queued(filled)
    ops = filled.store.outbox()
    filled.store.apply_changes([server_visit(filled, visit_id, 2, status)], 500)
    long_ago = "2000-01-01 00:00:00.000000"
    conn = sqlite3.connect(filled.store.data_dir / DB_FILENAME)
    try:
        with conn:
            conn.execute("UPDATE visits SET updated_at = ?, received_at = ? WHERE id = ?", (long_ago, long_ago, visit_id))
        before = stored_datetime(utc_now())
        assert filled.store.record_results(ops, [f.pushed(ops[0], "duplicate", version=1, seq=7)]) == 0
        updated, received = conn.execute("SELECT updated_at, received_at FROM visits WHERE id = ?", (visit_id,)).fetchone()
    finally:
        conn.close()
    assert filled.store.visit(visit_id).state == VisitState(status)
    assert updated >= before
    assert (received >= before) == (status == "submitted") and (received == long_ago) == (status != "submitted")


def test_a_pulled_version_of_a_visit_still_queued_here_is_no_echo(filled: Filled) -> None:
    """A visit submitted again here after its push (queued anew) keeps what was typed when its old version comes back."""
    visit_id = queued(filled)
    ops = filled.store.outbox()
    filled.store.record_results(ops, [f.pushed(ops[0], "applied", version=1, seq=7)])
    filled.store.apply_changes([server_visit(filled, visit_id, 2, "returned", review={
        "decision": "return", "comment": "More", "lead_id": filled.world.lead_id, "decided_at": "2025-11-21T09:00:00Z"})], 501)
    filled.store.update_visit(visit_id, notes="typed after the return")
    filled.store.submit_visit(visit_id)
    filled.store.apply_changes([server_visit(filled, visit_id, 2, "submitted", notes="portal")], 502)
    visit = filled.store.visit(visit_id)
    assert visit.state == VisitState.QUEUED and visit.notes == "typed after the return"
    assert len(filled.store.outbox()) == 1


def test_pulled_own_visits_from_another_laptop_are_stored(filled: Filled) -> None:
    """The officer's visits from the portal (e.g. after a reinstall) are theirs, read-only until returned."""
    change = server_visit(filled, f.new_id(), 1, "approved")
    filled.store.apply_changes([change], 500)
    visit = filled.store.visit(change["id"])
    assert visit.state == VisitState.APPROVED and visit.server_version == 1
    assert filled.store.review_queue() == []


# ---------------------------------------------------------------- scope


def test_purge_waits_for_unsent_work(filled: Filled, tmp_path: Path) -> None:
    """A tombstoned case with a draft stays (with its people) until the work is sent, then goes with its photos."""
    w = filled.world
    draft = filled.draft()
    photo = filled.store.add_photo(draft.id, make_jpeg(tmp_path / "d.jpg"))
    other = w.case_ids[1]
    filled.store.apply_changes([f.tombstone("case", filled.case_id), f.tombstone("case", other),
                                f.tombstone("property", w.property_id),
                                *(f.tombstone("resident", r) for r in w.resident_ids)], 600)
    assert filled.store.purge_out_of_scope() == 1       # only the case without work
    assert filled.case_id in [c.id for c in filled.store.cases()]   # its draft stays reachable
    detail = filled.store.case(filled.case_id)
    assert detail.property.postcode == "SE1 4AB" and len(detail.residents) == 2
    with pytest.raises(NotFoundError):
        filled.store.case(other)
    filled.store.update_visit(draft.id, answers={"mould": True, "room": "Kitchen"}, outcome="completed")
    filled.store.submit_visit(draft.id)
    assert filled.store.purge_out_of_scope() == 0       # queued is still unsent
    [op] = filled.store.outbox()
    filled.store.record_results([op], [f.pushed(op, "applied", version=1)])
    assert filled.store.purge_out_of_scope() == 1       # now the draft's case goes too
    assert [c.id for c in filled.store.cases()] == [w.case_ids[2]]
    # The tombstoned property stays while the third case (still in scope) names it.
    assert filled.store.case(w.case_ids[2]).property.postcode == "SE1 4AB"
    with pytest.raises(NotFoundError):
        filled.store.visit(draft.id)
    assert not photo.path.exists()


def test_reset_keeps_unsent_work_and_restarts_from_zero(filled: Filled) -> None:
    """After resync_required: portal data gone, drafts and queued visits and their cases kept, cursor 0."""
    draft = filled.draft(notes="keep me")
    submitted = queued(filled)
    pulled = server_visit(filled, f.new_id(), 1, "approved")
    filled.store.apply_changes([pulled], 700)
    filled.store.reset_portal_data()
    assert filled.store.sync_state().cursor == 0
    assert filled.store.visit(draft.id).notes == "keep me" and filled.store.visit(submitted).state == "queued"
    with pytest.raises(NotFoundError):
        filled.store.visit(pulled["id"])
    # Kept as tombstones for the work, and still listed so the draft stays reachable.
    assert {c.id for c in filled.store.cases()} == {filled.case_id}
    assert filled.store.case(filled.case_id).reference == "DM-2025-00001"
    filled.store.apply_changes(filled.world.changes, 10)  # the pull from 0 brings the scope back
    assert len(filled.store.cases()) == 3 and filled.store.templates_for(filled.case_id)


# ---------------------------------------------------------------- sign-in and sync state


def test_another_user_is_refused_while_work_is_unsent(filled: Filled) -> None:
    """Signing in as someone else with unsent work here is refused with who must sync first."""
    filled.draft()
    other = UserInfo(id=f.new_id(), username="sam", display_name="Sam", role="officer")
    with pytest.raises(ValidationError, match="Sign in as olivia, submit or discard the drafts of cases DM-2025-00001"):
        filled.store.sign_in(other, "https://portal.example.gov.uk")


def test_another_user_starts_from_empty(filled: Filled) -> None:
    """With nothing unsent, a different user's sign-in removes the previous user's portal data."""
    other = UserInfo(id=f.new_id(), username="sam", display_name="Sam", role="officer")
    filled.store.sign_in(other, "https://portal.example.gov.uk/")
    assert filled.store.cases() == [] and filled.store.sync_state().cursor == 0
    assert filled.store.current_user() == other


def test_mark_synced_and_blobs(filled: Filled, tmp_path: Path) -> None:
    """Last sync time is kept in UTC; a downloaded blob is verified, stored and found by hash."""
    from datetime import datetime, timezone

    filled.store.mark_synced(datetime(2025, 11, 20, 12, 0, tzinfo=timezone.utc))
    assert filled.store.sync_state().last_sync_at == datetime(2025, 11, 20, 12, 0, tzinfo=timezone.utc)
    data = make_jpeg(tmp_path / "blob.jpg").read_bytes()
    import hashlib

    sha = hashlib.sha256(data).hexdigest()
    assert filled.store.photo_file(sha) is None
    path = filled.store.save_blob(sha, data)
    assert path.read_bytes() == data and filled.store.photo_file(sha) == path


def test_two_threads_write_at_once_without_locking_errors(filled: Filled) -> None:
    """The UI worker editing and the sync thread applying pages at the same time both succeed."""
    visit = filled.draft()
    errors: list[BaseException] = []

    def edit() -> None:
        try:
            for n in range(40):
                filled.store.update_visit(visit.id, notes=f"edit {n}")
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    def pull() -> None:
        try:
            for n in range(40):
                filled.store.apply_changes([f.case(filled.world.property_id, filled.world.team_id,
                                                   reference=f"T-{n}")], 1000 + n)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=edit), threading.Thread(target=pull)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert filled.store.visit(visit.id).notes == "edit 39" and filled.store.sync_state().cursor == 1039


def test_a_case_before_its_property_and_residents_is_completed_by_later_pages(tmp_path: Path) -> None:
    """Pages follow the portal's change order: a case may come first; its line fills in as the rest arrives."""
    store = FieldStore.open(tmp_path)
    prop = f.property_("BS5 6XY", lines=("4 Elm Grove",), town="Bristol")
    person = f.resident(prop["id"], "Kwame Mensah", warnings=["Lone worker risk"])
    case = f.case(prop["id"], f.new_id(), reference="AS-1", resident_ids=[person["id"]])
    store.apply_changes([case], 1)
    [row] = store.cases(CaseFilter("AS-1"))
    assert row.address == "" and not row.has_warnings
    assert store.case(case["id"]).property.address_lines == ("Address not synced yet",)
    store.apply_changes([prop], 2)
    store.apply_changes([person], 3)
    [row] = store.cases(CaseFilter("mensah"))
    assert (row.address, row.postcode, row.has_warnings) == ("4 Elm Grove, Bristol", "BS5 6XY", True)
    store.close()


def test_the_same_record_twice_in_one_page_keeps_the_newer(filled: Filled) -> None:
    """A repeated id in one page neither fails nor goes back to the older version."""
    prop = f.property_("SE1 1AA")
    newer = f.property_("SE1 2BB", id=prop["id"], version=2)
    filled.store.apply_changes([prop, newer, f.property_("SE1 3CC", id=prop["id"], version=1)], 101)
    case = f.case(prop["id"], filled.world.team_id, reference="TWICE-1")
    filled.store.apply_changes([case], 102)
    assert filled.store.case(case["id"]).property.postcode == "SE1 2BB"


def test_a_visit_refused_because_its_case_left_scope_can_be_discarded(filled: Filled, tmp_path: Path) -> None:
    """not_found offers DISCARD, which removes the never-sent visit and its photo, so the case can be purged."""
    visit = filled.complete()
    photo = filled.store.add_photo(visit.id, make_jpeg(tmp_path / "gone.jpg", 5))
    filled.store.submit_visit(visit.id)
    [op] = filled.store.outbox()
    filled.store.record_results([op], [f.pushed(op, "rejected", error={"code": "not_found", "message": "No such case."})])
    filled.store.apply_changes([f.tombstone("case", filled.case_id)], 900)
    assert filled.store.purge_out_of_scope() == 0        # the refused visit still holds its case
    [problem] = filled.store.problems()
    assert ProblemAction.DISCARD in problem.actions and "reassigned" in problem.message
    assert filled.store.resolve_problem(problem.id, ProblemAction.DISCARD) is None
    with pytest.raises(NotFoundError):
        filled.store.visit(visit.id)
    assert not photo.path.exists()
    assert filled.store.purge_out_of_scope() == 1


def test_an_amendment_renames_photo_ids_inside_repeated_sections() -> None:
    """Room-by-room answers are lists of lists: photo ids are renamed at every depth, other values kept."""
    from fieldapp.amendments import _with_photo_ids_renamed

    renamed = {"p1": "n1", "p2": "n2"}
    assert _with_photo_ids_renamed([["p1"], ["p2", "p3"]], renamed) == [["n1"], ["n2", "p3"]]
    assert _with_photo_ids_renamed(["Bathroom", "Kitchen"], renamed) == ["Bathroom", "Kitchen"]
    assert _with_photo_ids_renamed([{"hazard": "Fire"}, True], renamed) == [{"hazard": "Fire"}, True]
    assert _with_photo_ids_renamed("p1", renamed) == "p1"


def test_sending_photos_loads_no_pillow(filled: Filled, tmp_path: Path) -> None:
    """What `fieldapp sync` asks of the store to send a visit with photos needs their paths, not Pillow."""
    import subprocess
    import sys
    import textwrap

    queued(filled, tmp_path, photos=2)
    filled.store.close()
    script = textwrap.dedent(f"""
        import sys
        from fieldapp import FieldStore
        store = FieldStore.open({str(tmp_path / 'data')!r})
        refs = store.blobs_to_upload()
        [op] = store.outbox()
        assert len(refs) == 2 and all(ref.path.is_file() for ref in refs), refs
        store.close()
        print("PIL" in sys.modules)
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[2])
    assert out.stdout.strip() == "False", out.stderr
    filled.store = FieldStore.open(tmp_path / "data")  # the fixture closes it
