"""Revision 2 on the laptop: case clock fields, vocabularies, the schedule, deadlines, assessment and hazard reports."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

import factories as f
from fieldapp.errors import ValidationError
from fieldapp.types import ProblemAction
from fieldapp.vocabulary import BUNDLED
from store_helpers import Filled, filled_store, make_jpeg

NOW = datetime.now(timezone.utc)


def iso(moment: datetime) -> str:
    """A protocol timestamp."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def clock(stage: str, due: datetime, met: datetime | None = None) -> dict[str, Any]:
    """A clock as the portal serves it."""
    return {"stage": stage, "due_at": iso(due), "met_at": iso(met) if met else None, "basis": f"{stage} rule"}


def pull_case(filled: Filled, case_id: str, version: int, **data: Any) -> None:
    """Apply a new version of one of the world's cases."""
    w = filled.world
    filled.store.apply_changes([f.case(w.property_id, w.team_id, id=case_id, version=version,
                                       officer_id=w.officer_id, **data)], 200 + version)


def vocabulary_change(key: str, hazards: list[str], effective_from: str = "2020-01-01", version: int = 1) -> dict[str, Any]:
    """A pulled hazard vocabulary."""
    return f.change("hazard_vocabulary", {
        "key": key, "name": key.upper(), "effective_from": effective_from,
        "hazards": [{"name": h, "group": "Test group"} for h in hazards],
        "bands": [{"band": "X", "category_1": True}, {"band": "Y", "category_1": False}]}, version=version)


# ---------------------------------------------------------------- case fields


def test_revision_2_case_fields_are_stored_and_shown(filled: Filled) -> None:
    """aware_at, reported hazards, source, awaab and every clock come through to the case record."""
    case_id = filled.case_id
    investigate = clock("investigate", NOW + timedelta(days=3), met=NOW - timedelta(hours=1))
    summary = clock("summary", NOW + timedelta(days=2))
    pull_case(filled, case_id, 2, aware_at="2026-12-01T08:30:00Z", reported_hazards=["Excess cold"],
              source="officer", awaab=True, clocks=[investigate, summary])
    case = filled.store.case(case_id)
    assert case.aware_at == datetime(2026, 12, 1, 8, 30, tzinfo=timezone.utc)
    assert case.reported_hazards == ("Excess cold",) and case.source == "officer" and case.awaab
    assert [c.stage for c in case.clocks] == ["investigate", "summary"]
    assert case.clocks[0].met and not case.clocks[1].met
    assert case.clocks[1].basis == "summary rule"
    assert filled.store.nearest_clocks()[case_id].stage == "summary"


def test_a_revision_1_case_reads_as_aware_when_opened_with_no_clocks(filled: Filled) -> None:
    """A case without the revision-2 fields: aware_at is opened_at, source crm, not under the regulations."""
    case = filled.store.case(filled.case_id)
    assert case.aware_at == case.opened_at
    assert case.source == "crm" and not case.awaab and case.clocks == () and case.reported_hazards == ()
    assert filled.store.nearest_clocks() == {}


def test_a_bad_clock_time_refuses_the_page(filled: Filled) -> None:
    """A clock whose due_at cannot be read fails the whole page (nothing half-applied)."""
    from fieldapp.errors import StoreError

    with pytest.raises(StoreError):
        pull_case(filled, filled.case_id, 2, clocks=[{"stage": "investigate", "due_at": "soon", "met_at": None}])
    assert filled.store.case(filled.case_id).clocks == ()


def test_deadlines_order_cases_by_their_nearest_unmet_clock(filled: Filled) -> None:
    """The Deadlines rows: one per case with an unmet clock, nearest first; met and closed cases left out."""
    first, second, third = filled.world.case_ids
    pull_case(filled, first, 2, reference="A", clocks=[clock("investigate", NOW + timedelta(days=9))])
    pull_case(filled, second, 2, reference="B", clocks=[clock("investigate", NOW - timedelta(days=1), met=NOW),
                                                         clock("safety_work", NOW + timedelta(days=2)),
                                                         clock("summary", NOW + timedelta(days=4))])
    pull_case(filled, third, 2, reference="C", status="closed", clocks=[clock("investigate", NOW)])
    rows = filled.store.deadlines()
    assert [(r.reference, r.clock.stage, r.other_unmet) for r in rows] == [("B", "safety_work", 1),
                                                                          ("A", "investigate", 0)]
    assert rows[0].officer_name == "Olivia Officer"


def test_the_review_queue_puts_the_nearest_clock_first(tmp_path: Path) -> None:
    """A lead's queue: the visit whose case's clock runs out first leads, ahead of a Category 1 without a clock."""
    filled = filled_store(tmp_path, lead=True)
    w = filled.world
    first, second, _ = w.case_ids
    filled.store.apply_changes([
        f.case(w.property_id, w.team_id, id=second, version=2, officer_id=w.officer_id,
               clocks=[clock("investigate", NOW + timedelta(days=1))]),
        f.visit(first, w.officer_id, w.template_id, hazards=[{"hazard": "Excess cold", "band": "A"}]),
        f.visit(second, w.officer_id, w.template_id),
    ], 300)
    queue = filled.store.review_queue()
    assert [item.case_id for item in queue] == [second, first]
    assert queue[0].clock is not None and queue[0].clock.stage == "investigate" and queue[1].clock is None
    filled.store.close()


# ---------------------------------------------------------------- vocabularies and the schedule


def test_the_bundled_vocabulary_serves_until_the_first_pull(filled: Filled) -> None:
    """Before any vocabulary is pulled, hhsrs-2006 of the bundle: 29 hazards in four groups, A–C Category 1."""
    vocabulary = filled.store.hazard_vocabulary()
    assert vocabulary is BUNDLED and vocabulary.key == "hhsrs-2006"
    assert len(vocabulary.names) == 29 and len({h.group for h in vocabulary.hazards}) == 4
    assert vocabulary.is_category_1("C") and not vocabulary.is_category_1("D")
    assert filled.draft().vocabulary == "hhsrs-2006"


def test_a_pulled_vocabulary_is_used_and_a_visit_keeps_its_own(filled: Filled) -> None:
    """New visits take the newest vocabulary in force; an older draft keeps the one it was started under."""
    old_draft = filled.draft()
    filled.store.apply_changes([vocabulary_change("hhsrs-2006", ["Damp and mould growth"]),
                                vocabulary_change("hhsrs-2030", ["Overheating"], "2026-01-01"),
                                vocabulary_change("future", ["Later"], "2999-01-01")], 300)
    assert filled.store.hazard_vocabulary().key == "hhsrs-2030"
    assert filled.store.hazard_vocabulary("hhsrs-2006").names == ("Damp and mould growth",)
    assert filled.store.hazard_vocabulary("hhsrs-2030").is_category_1("X")
    assert filled.draft().vocabulary == "hhsrs-2030"
    assert filled.store.visit(old_draft.id).vocabulary == "hhsrs-2006"


def test_a_pulled_visit_keeps_the_vocabulary_its_hazards_name(filled: Filled) -> None:
    """A visit document whose hazards name a vocabulary is stored under it, with its assessment."""
    w = filled.world
    assessment = {"finding": "significant", "hazards": ["Overheating"], "reasons": "Baby in the home",
                  "household_factors": ["Children"], "make_safe_done": False, "safety_work": "Blinds",
                  "supplementary_work": None, "alternative_accommodation": False}
    change = f.visit(filled.case_id, w.officer_id, w.template_id, assessment=assessment,
                     hazards=[{"hazard": "Overheating", "band": None, "vocabulary": "hhsrs-2030"}])
    filled.store.apply_changes([change], 300)
    visit = filled.store.visit(change["id"])
    assert visit.vocabulary == "hhsrs-2030" and visit.assessment == assessment


def test_the_schedule_is_stored_and_replaced(filled: Filled) -> None:
    """awaab_schedule is one record, replaced by a newer version."""
    from fieldapp.models import AwaabScheduleRow

    schedule_id = f.new_id()
    phases = [{"phase": 1, "from": "2025-10-27", "significant_hazards": ["Damp and mould growth"], "emergency": "all"}]
    filled.store.apply_changes([f.change("awaab_schedule", {"phases": phases}, id=schedule_id)], 300)
    later = phases + [{"phase": 2, "from": "2026-11-30", "significant_hazards": ["Excess cold"], "emergency": "all"}]
    filled.store.apply_changes([f.change("awaab_schedule", {"phases": later}, id=schedule_id, version=2)], 301)
    with filled.store._read() as session:
        rows = session.query(AwaabScheduleRow).all()
        assert len(rows) == 1 and rows[0].version == 2 and [p["phase"] for p in rows[0].phases] == [1, 2]


# ---------------------------------------------------------------- assessment


def test_the_assessment_is_saved_field_by_field_and_sent_as_answered(filled: Filled) -> None:
    """Assessment edits merge (None removes a field); the submitted document carries what was answered."""
    visit = filled.complete(assessment={"finding": "significant", "reasons": "Mould over the cot"})
    visit = filled.store.update_visit(visit.id, assessment={"household_factors": ["Children"], "reasons": None})
    assert visit.assessment == {"finding": "significant", "household_factors": ["Children"]}
    visit = filled.store.update_visit(visit.id, assessment={"reasons": "Mould over the cot", "make_safe_done": False,
                                                            "hazards": ["Damp and mould growth"],
                                                            "safety_work": "Mould wash", "alternative_accommodation": False})
    filled.store.submit_visit(visit.id)
    op = filled.store.outbox()[0]
    assert op.data["assessment"]["finding"] == "significant"
    assert op.data["assessment"]["make_safe_done"] is False
    assert "supplementary_work" not in op.data["assessment"]


def test_a_visit_without_an_assessment_sends_none(filled: Filled) -> None:
    """An untouched assessment is absent from the visit document (revision-1 shape)."""
    filled.store.submit_visit(filled.complete().id)
    assert "assessment" not in filled.store.outbox()[0].data


# ---------------------------------------------------------------- hazard reports


def test_a_hazard_report_is_queued_as_its_op(filled: Filled) -> None:
    """Reporting from a case queues hazard_report/create with the new case's id and the protocol's fields."""
    seen = (NOW - timedelta(hours=2)).replace(microsecond=0)
    report = filled.store.report_hazard(case_id=filled.case_id, hazards=["Excess cold", "Excess cold"],
                                        description="  No heating in the flat upstairs  ", observed_at=seen)
    op = filled.store.outbox()[0]
    assert (op.entity, op.kind, op.id, op.base_version) == ("hazard_report", "create", report.id, 0)
    assert op.data == {"property_id": filled.world.property_id, "from_case_id": filled.case_id,
                       "hazards": ["Excess cold"], "description": "No heating in the flat upstairs",
                       "observed_at": iso(seen), "priority": "urgent"}
    assert filled.store.pending().reports == 1 and not filled.store.pending().empty
    assert report.state == "queued" and filled.store.hazard_reports()[0].id == report.id


def test_a_bad_report_is_refused_with_every_reason_and_nothing_queued(filled: Filled) -> None:
    """No hazard, no description, a future time and an unknown priority are each named; nothing is saved."""
    with pytest.raises(ValidationError) as caught:
        filled.store.report_hazard(case_id=filled.case_id, hazards=["Not a hazard"], description=" ",
                                   observed_at=NOW + timedelta(days=1), priority="whenever")
    assert set(caught.value.problems) == {"hazards", "description", "observed_at", "priority"}
    assert filled.store.outbox() == [] and filled.store.hazard_reports() == []


def test_photos_go_with_a_report_only_from_a_submitted_visit(filled: Filled, tmp_path: Path) -> None:
    """A draft's photos are refused (the portal would not know them); once submitted, they go."""
    visit = filled.complete()
    photo = filled.store.add_photo(visit.id, make_jpeg(tmp_path / "p.jpg"))
    with pytest.raises(ValidationError) as caught:
        filled.store.report_hazard(visit_id=visit.id, hazards=["Fire"], description="Smoke alarm missing",
                                   photo_ids=[photo.id])
    assert "photo_ids" in caught.value.problems
    filled.store.submit_visit(visit.id)
    report = filled.store.report_hazard(visit_id=visit.id, hazards=["Fire"], description="Smoke alarm missing",
                                        photo_ids=[photo.id], priority="emergency")
    op = filled.store.outbox()[-1]
    assert op.data["visit_id"] == visit.id and op.data["from_case_id"] == filled.case_id
    assert op.data["photo_ids"] == [photo.id] and op.data["priority"] == "emergency"
    assert report.vocabulary == "hhsrs-2006"


def test_an_applied_report_is_sent_and_a_rejected_one_becomes_a_problem(filled: Filled) -> None:
    """applied: sent, op gone. rejected: a problem offering to send again or discard; both work."""
    sent = filled.store.report_hazard(case_id=filled.case_id, hazards=["Fire"], description="Burnt socket")
    refused = filled.store.report_hazard(case_id=filled.case_id, hazards=["Lead"], description="Old pipes")
    ops = filled.store.outbox()
    filled.store.record_results(ops, [
        f.pushed(ops[0], "applied", version=1, seq=9),
        f.pushed(ops[1], "rejected", error={"code": "not_found", "message": "That home is not in your scope.", "details": {}})])
    states = {r.id: r.state for r in filled.store.hazard_reports()}
    assert states == {sent.id: "sent", refused.id: "rejected"} and filled.store.outbox() == []
    (problem,) = filled.store.problems()
    assert problem.entity == "hazard_report" and problem.record_id == refused.id
    assert "not in your scope" in problem.message
    assert set(problem.actions) == {ProblemAction.RETRY, ProblemAction.DISCARD}
    filled.store.resolve_problem(problem.id, ProblemAction.RETRY)
    (again,) = filled.store.outbox()
    assert again.id == refused.id and again.op_id != ops[1].op_id and again.data == ops[1].data
    filled.store.record_results([again], [f.pushed(again, "rejected", error={"code": "invalid_request", "message": "No."})])
    filled.store.resolve_problem(filled.store.problems()[0].id, ProblemAction.DISCARD)
    assert [r.id for r in filled.store.hazard_reports()] == [sent.id] and filled.store.problems() == []


# ---------------------------------------------------------------- the shared rules, on the laptop

SHOW_IF_QUESTIONS: list[dict[str, Any]] = [
    {"id": "mould", "label": "Mould present?", "kind": "yes_no", "required": True},
    {"id": "where", "label": "Where is the mould?", "kind": "text", "required": True,
     "show_if": {"question_id": "mould", "equals": True}},
    {"id": "hz", "label": "Main hazard", "kind": "hazard"},
]


def test_an_awaab_case_needs_the_assessment_to_submit(filled: Filled) -> None:
    """Completed visit of a case under the regulations: no assessment, no submit (key assessment); with one, it goes."""
    pull_case(filled, filled.case_id, 2, awaab=True)
    visit = filled.complete()
    assert "assessment" not in visit.problems   # a draft is not nagged while being typed
    with pytest.raises(ValidationError) as caught:
        filled.store.submit_visit(visit.id)
    assert "Awaab" in caught.value.problems["assessment"]
    filled.store.update_visit(visit.id, assessment={"finding": "significant"})
    with pytest.raises(ValidationError) as caught:
        filled.store.submit_visit(visit.id)
    assert "hazard" in caught.value.problems["assessment"]
    filled.store.update_visit(visit.id, assessment={"hazards": ["Damp and mould growth"],
                                                    "reasons": "Asthmatic child sleeps in the room"})
    assert filled.store.submit_visit(visit.id).state == "queued"


def test_no_access_on_an_awaab_case_needs_no_assessment(filled: Filled) -> None:
    """The assessment is required only when the visit is completed."""
    pull_case(filled, filled.case_id, 2, awaab=True)
    visit = filled.draft(outcome="no_access")
    assert filled.store.submit_visit(visit.id).state == "queued"


def test_a_hidden_answer_stays_in_the_draft_and_is_dropped_on_submit(filled: Filled) -> None:
    """Answering 'no' hides 'where': the typed text stays in the draft (nothing lost) but is not sent."""
    tpl = f.template("Show-if form", questions=SHOW_IF_QUESTIONS)
    filled.store.apply_changes([tpl], 300)
    visit = filled.store.start_visit(filled.case_id, tpl["id"])
    filled.store.update_visit(visit.id, answers={"mould": True, "where": "Behind the wardrobe",
                                                 "hz": {"hazard": "Damp and mould growth", "band": "D"}},
                              outcome="completed")
    visit = filled.store.update_visit(visit.id, answers={"mould": False})
    assert visit.answers["where"] == "Behind the wardrobe" and visit.problems == {}
    filled.store.submit_visit(visit.id)
    data = filled.store.outbox()[0].data
    assert "where" not in data["answers"] and data["answers"]["mould"] is False
    assert data["answers"]["hz"] == {"hazard": "Damp and mould growth", "band": "D", "vocabulary": "hhsrs-2006"}


def test_hazard_answers_are_checked_against_the_visits_own_vocabulary(filled: Filled) -> None:
    """A visit under a pulled vocabulary takes its hazards and bands, and refuses HHSRS names it lacks."""
    tpl = f.template("Show-if form", questions=SHOW_IF_QUESTIONS)
    filled.store.apply_changes([tpl, vocabulary_change("hhsrs-2030", ["Overheating"], "2026-01-01")], 300)
    visit = filled.store.start_visit(filled.case_id, tpl["id"])
    assert visit.vocabulary == "hhsrs-2030"
    visit = filled.store.update_visit(visit.id, answers={"hz": {"hazard": "Overheating", "band": "X"}})
    assert "hz" not in visit.problems
    visit = filled.store.update_visit(visit.id, answers={"hz": {"hazard": "Damp and mould growth", "band": "X"}})
    assert "hhsrs-2030" in visit.problems["hz"]
