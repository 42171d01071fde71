"""Visits: drafts saved on every edit, validation per kind, submit freezes and queues in one transaction."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import factories as f
from fieldapp import FieldStore
from fieldapp import outbox as outbox_rules
from fieldapp.errors import NotFoundError, ValidationError, VisitLockedError
from fieldapp.types import Hazard, VisitState
from store_helpers import Filled, make_jpeg

Z_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


def test_start_visit_makes_a_draft_by_the_signed_in_officer(filled: Filled) -> None:
    """The draft names the officer, the template and its version, and shows in the case."""
    visit = filled.draft()
    assert visit.state == VisitState.DRAFT and visit.editable
    assert (visit.officer_id, visit.template_id, visit.template_version) == (
        filled.world.officer_id, filled.world.template_id, 1)
    assert visit.server_version == 0 and visit.answers == {} and visit.problems == {}
    assert [v.id for v in filled.store.case(filled.case_id).visits] == [visit.id]


def test_start_visit_needs_a_user_a_case_and_a_fitting_template(tmp_path: Path, filled: Filled) -> None:
    """Not signed in, unknown case, unknown template or a template of another case type are refused."""
    empty = FieldStore.open(tmp_path / "empty")
    with pytest.raises(ValidationError, match="Sign in"):
        empty.start_visit("c", "t")
    empty.close()
    with pytest.raises(NotFoundError):
        filled.store.start_visit("no-case", filled.world.template_id)
    with pytest.raises(NotFoundError):
        filled.store.start_visit(filled.case_id, "no-template")
    repair = f.template("Repairs", case_types=("repair",))
    filled.store.apply_changes([repair], 101)
    with pytest.raises(ValidationError, match="not for damp_mould"):
        filled.store.start_visit(filled.case_id, repair["id"])


def test_every_edit_is_saved_and_answers_merge(filled: Filled) -> None:
    """Answers merge key by key, None removes one, notes/outcome/hazards save, all read back from disk."""
    visit = filled.draft(answers={"mould": True, "cause": "Leak"})
    filled.store.update_visit(visit.id, answers={"room": "Kitchen", "cause": None}, notes="Ceiling",
                              outcome="no_access", hazards=[Hazard("Excess cold", "E", "Hall", "Draught")])
    again = filled.store.visit(visit.id)
    assert again.answers == {"mould": True, "room": "Kitchen"}
    assert (again.notes, again.outcome) == ("Ceiling", "no_access")
    assert again.hazards == (Hazard("Excess cold", "E", "Hall", "Draught"),)
    assert filled.store.update_visit(visit.id, outcome="").outcome is None


@pytest.mark.parametrize("answers, question, message", [
    ({"mould": "yes"}, "mould", "yes or no"),
    ({"room": "Attic"}, "room", "Choose one of"),
    ({"rh": 101}, "rh", "at most 100"),
    ({"rh": "wet"}, "rh", "number"),
    ({"cause": 7}, "cause", "text"),
    ({"hz": {"hazard": "Ghosts", "band": "A"}}, "hz", "HHSRS"),
    ({"pics": ["not-a-photo-of-this-visit"]}, "pics", "not part of this visit"),
    ({"nope": 1}, "nope", "not part of the template"),
])
def test_invalid_answers_are_saved_and_reported(filled: Filled, answers: dict, question: str, message: str) -> None:
    """A wrong value is kept (nothing typed is lost) and its question shows a message."""
    visit = filled.draft(answers=answers)
    assert visit.answers[question] == answers[question]
    assert message in visit.problems[question]


def test_draft_does_not_nag_about_unanswered_required_questions(filled: Filled) -> None:
    """Required questions are reported only when submitting."""
    assert filled.draft(answers={"rh": 50}).problems == {}


def test_hazards_and_outcome_are_checked(filled: Filled) -> None:
    """Hazards must be HHSRS names with bands A–J or none; the outcome one of the four."""
    visit = filled.draft(hazards=[Hazard("Damp and mould growth", "B"), Hazard("Bad vibes", "C"),
                                  Hazard("Fire", "Z")], outcome="went home")
    assert set(visit.problems) == {"hazards.1", "hazards.2", "outcome"}
    assert "Choose a hazard from" in visit.problems["hazards.1"] and "A, B, C" in visit.problems["hazards.2"]


def test_submit_needs_an_outcome_and_required_answers(filled: Filled) -> None:
    """The first submit lists everything at once: the outcome and the required questions (an unchosen outcome is an inspection)."""
    visit = filled.draft(answers={"rh": 50})
    with pytest.raises(ValidationError) as first_try:
        filled.store.submit_visit(visit.id)
    assert set(first_try.value.problems) == {"outcome", "mould", "room"}
    filled.store.update_visit(visit.id, outcome="completed", hazards=[Hazard("Fire", "Q")])
    with pytest.raises(ValidationError) as missing:
        filled.store.submit_visit(visit.id)
    assert set(missing.value.problems) == {"mould", "room", "hazards.0"}
    assert "3 things to fix" in str(missing.value)
    assert filled.store.visit(visit.id).state == VisitState.DRAFT and filled.store.outbox() == []


@pytest.mark.parametrize("outcome", ["no_access", "refused", "rescheduled"])
def test_no_access_outcomes_do_not_need_required_answers(filled: Filled, outcome: str) -> None:
    """An officer who could not get in submits without the inspection answers (given ones are still checked)."""
    visit = filled.draft(outcome=outcome, notes="Nobody home")
    assert filled.store.submit_visit(visit.id).state == VisitState.QUEUED
    bad = filled.draft(outcome=outcome, answers={"rh": 500})
    with pytest.raises(ValidationError) as error:
        filled.store.submit_visit(bad.id)
    assert set(error.value.problems) == {"rh"}


def test_submit_freezes_and_queues_the_protocol_document(filled: Filled, tmp_path: Path) -> None:
    """The op carries the visit document exactly: Z timestamps, blank answers absent, photos described."""
    visit = filled.complete(answers={"cause": "", "rh": 61.5}, notes="Bathroom",
                            hazards=[Hazard("Damp and mould growth", "C", "Bathroom")])
    photo = filled.store.add_photo(visit.id, make_jpeg(tmp_path / "a.jpg"), caption="Ceiling", question_id="pics")
    submitted = filled.store.submit_visit(visit.id)
    assert submitted.state == VisitState.QUEUED and not submitted.editable and submitted.completed_at
    [op] = filled.store.outbox()
    assert (op.entity, op.id, op.kind, op.base_version) == ("visit", visit.id, "submit", 0)
    data = dict(op.data)
    assert set(data) == {"case_id", "officer_id", "template_id", "template_version", "started_at", "completed_at",
                         "outcome", "answers", "notes", "hazards", "photos"}
    assert data["answers"] == {"mould": True, "room": "Bathroom", "rh": 61.5, "pics": [photo.id]}
    assert Z_TIME.match(data["started_at"]) and Z_TIME.match(data["completed_at"])
    assert data["hazards"] == [{"hazard": "Damp and mould growth", "band": "C", "location": "Bathroom", "notes": "",
                                "vocabulary": "hhsrs-2006"}]
    [entry] = data["photos"]
    assert entry == {"id": photo.id, "sha256": photo.sha256, "content_type": "image/jpeg", "bytes": photo.bytes,
                     "width": photo.width, "height": photo.height, "caption": "Ceiling", "question_id": "pics"}
    assert op.size == len(json.dumps(op.to_wire(), separators=(",", ":")).encode())
    assert filled.store.pending().visits == 1


def test_submit_and_its_op_commit_together(filled: Filled, monkeypatch: pytest.MonkeyPatch) -> None:
    """A failure while writing the op leaves the visit a draft and the outbox empty."""
    visit = filled.complete()

    def broken(*args: object, **kwargs: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(outbox_rules, "enqueue", broken)
    with pytest.raises(OSError):
        filled.store.submit_visit(visit.id)
    monkeypatch.undo()
    assert filled.store.visit(visit.id).state == VisitState.DRAFT
    assert filled.store.outbox() == [] and filled.store.pending().visits == 0


@pytest.mark.parametrize("state, words", [
    ("queued", "waiting to sync"), ("submitted", "team lead for review"), ("approved", "file an amendment")])
def test_frozen_visits_refuse_edits_with_a_helpful_message(filled: Filled, state: str, words: str) -> None:
    """Edits, photo changes and resubmits of a queued, submitted or approved visit raise VisitLockedError."""
    visit = filled.store.submit_visit(filled.complete().id)
    ops = filled.store.outbox()
    if state != "queued":
        filled.store.record_results(ops, [f.pushed(ops[0], "applied", version=1, seq=5)])
    if state == "approved":
        filled.store.apply_changes([f.visit(filled.case_id, filled.world.officer_id, filled.world.template_id,
                                            id=visit.id, version=2, status="approved")], 200)
    assert filled.store.visit(visit.id).state == state
    with pytest.raises(VisitLockedError, match=words):
        filled.store.update_visit(visit.id, notes="late change")
    with pytest.raises(VisitLockedError):
        filled.store.submit_visit(visit.id)


def test_returned_visit_is_edited_and_resubmitted_on_the_server_version(filled: Filled) -> None:
    """A returned visit shows the lead's comment, is editable, and resubmits with base_version = its version."""
    visit = filled.store.submit_visit(filled.complete().id)
    ops = filled.store.outbox()
    filled.store.record_results(ops, [f.pushed(ops[0], "applied", version=1, seq=5)])
    review = {"decision": "return", "comment": "Add the humidity", "lead_id": filled.world.lead_id,
              "decided_at": "2025-11-21T09:00:00Z"}
    w = filled.world
    filled.store.apply_changes([f.visit(filled.case_id, w.officer_id, w.template_id, id=visit.id, version=2,
                                        status="returned", review=review,
                                        answers={"mould": True, "room": "Bathroom"})], 300)
    returned = filled.store.visit(visit.id)
    assert returned.state == VisitState.RETURNED and returned.editable
    assert returned.review.comment == "Add the humidity" and returned.server_version == 2
    filled.store.update_visit(visit.id, answers={"rh": 70})
    changes = filled.store.visit_changes(visit.id)
    assert changes.answers_added == ("rh",) and not changes.notes_changed and not changes.empty
    filled.store.submit_visit(visit.id)
    [op] = filled.store.outbox()
    assert op.base_version == 2 and op.data["answers"]["rh"] == 70


def test_visit_changes_is_none_before_any_return(filled: Filled) -> None:
    """A visit never returned has no 'changes since return'."""
    assert filled.store.visit_changes(filled.draft().id) is None


def test_removing_a_photo_takes_it_out_of_answers_that_name_it(filled: Filled, tmp_path: Path) -> None:
    """A photo put into a photo answer directly (no question_id) leaves that answer when removed."""
    visit = filled.draft()
    photo = filled.store.add_photo(visit.id, make_jpeg(tmp_path / "1.jpg", 1))
    filled.store.update_visit(visit.id, answers={"pics": [photo.id]})
    filled.store.remove_photo(photo.id)
    assert "pics" not in filled.store.visit(visit.id).answers


def test_photos_attach_to_questions_and_leave_cleanly(filled: Filled, tmp_path: Path) -> None:
    """A photo for a photo question joins its answer; moving or removing it updates the answer and files."""
    visit = filled.draft()
    first = filled.store.add_photo(visit.id, make_jpeg(tmp_path / "1.jpg", 1), question_id="pics")
    second = filled.store.add_photo(visit.id, make_jpeg(tmp_path / "2.jpg", 2), caption="Hall")
    assert first.path.is_file() and first.thumbnail_path.is_file() and not first.uploaded
    assert filled.store.visit(visit.id).answers == {"pics": [first.id]}
    filled.store.update_photo(second.id, question_id="pics", caption="Hall ceiling")
    assert filled.store.visit(visit.id).answers == {"pics": [first.id, second.id]}
    filled.store.update_photo(first.id, question_id="")
    assert filled.store.visit(visit.id).answers == {"pics": [second.id]}
    filled.store.remove_photo(second.id)
    again = filled.store.visit(visit.id)
    assert again.answers == {} and [p.id for p in again.photos] == [first.id]
    assert not second.path.exists() and first.path.exists()
    with pytest.raises(ValidationError, match="not part of this visit's form"):
        filled.store.add_photo(visit.id, make_jpeg(tmp_path / "3.jpg", 3), question_id="nope")


def test_the_same_file_in_two_visits_is_kept_while_either_uses_it(filled: Filled, tmp_path: Path) -> None:
    """Content-addressed: removing the photo from one visit keeps the file for the other."""
    source = make_jpeg(tmp_path / "same.jpg", 9)
    a = filled.store.add_photo(filled.draft().id, source)
    b = filled.store.add_photo(filled.draft().id, source)
    assert a.sha256 == b.sha256 and a.id != b.id
    filled.store.remove_photo(a.id)
    assert b.path.exists()
    assert filled.store.photo_file(b.sha256) == b.path


def test_answers_are_stored_as_json_would_send_them(filled: Filled) -> None:
    """A tuple answer is kept as a list; a value JSON cannot hold is refused before anything is saved."""
    from datetime import date

    visit = filled.draft(answers={"rh": 40})
    saved = filled.store.update_visit(visit.id, answers={"room": ("Kitchen",)}, hazards=[{"hazard": "Fire", "band": "D"}])
    assert saved.answers["room"] == ["Kitchen"] and saved.hazards == (Hazard("Fire", "D"),)
    with pytest.raises(ValidationError) as error:
        filled.store.update_visit(visit.id, answers={"cause": date(2025, 1, 1)}, notes="lost?")
    assert "cause" in error.value.problems
    assert filled.store.visit(visit.id).notes == "" and filled.store.visit(visit.id).started_at.tzinfo is not None
