"""Team leads' review queue and decisions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import factories as f
from fieldapp.errors import NotFoundError, ValidationError
from fieldapp.types import ProblemAction
from store_helpers import Filled, filled_store


@pytest.fixture()
def lead(tmp_path: Path) -> Filled:
    """A lead's store with three cases of the team."""
    filled = filled_store(tmp_path, lead=True)
    yield filled
    filled.store.close()


def team_visit(lead: Filled, *, version: int = 1, status: str = "submitted", hazards: list | None = None,
               id: str | None = None, **kw: Any) -> dict[str, Any]:
    """A pulled visit of the team's officer."""
    w = lead.world
    return f.visit(lead.case_id, w.officer_id, w.template_id, id=id, version=version, status=status,
                   hazards=hazards or [], **kw)


def test_queue_puts_category_1_first_then_oldest_received(lead: Filled) -> None:
    """Category 1 hazards (bands A–C, listed or answered) first, then in the order they arrived."""
    first = team_visit(lead)
    lead.store.apply_changes([first], 1)
    second = team_visit(lead)
    lead.store.apply_changes([second], 2)
    urgent = team_visit(lead, hazards=[{"hazard": "Fire", "band": "B", "location": "", "notes": ""}])
    answered = team_visit(lead, answers={"mould": True, "room": "Kitchen",
                                         "hz": {"hazard": "Excess cold", "band": "C"}})
    lead.store.apply_changes([urgent, answered], 3)
    queue = lead.store.review_queue()
    assert {i.visit_id for i in queue[:2]} == {urgent["id"], answered["id"]}
    assert [i.visit_id for i in queue[2:]] == [first["id"], second["id"]]
    item = queue[0]
    assert item.category_1 and item.officer_name == "Olivia Officer" and item.case_reference == "DM-2025-00001"
    assert item.address.endswith("London") and not item.resubmitted


def test_queue_leaves_out_decided_own_and_not_submitted(lead: Filled) -> None:
    """Approved or returned visits, the lead's own, and ones decided here are not in the queue."""
    w = lead.world
    decided = team_visit(lead)
    lead.store.apply_changes([team_visit(lead, status="approved"), team_visit(lead, status="returned"),
                              f.visit(lead.case_id, w.lead_id, w.template_id), decided], 1)
    assert [i.visit_id for i in lead.store.review_queue()] == [decided["id"]]
    lead.store.decide(decided["id"], "approve")
    assert lead.store.review_queue() == []


def test_decide_queues_a_review_op(lead: Filled) -> None:
    """A decision is a review/decide op with a new id, base_version 0 and the protocol's data."""
    visit = team_visit(lead)
    lead.store.apply_changes([visit], 1)
    lead.store.decide(visit["id"], "return", "  Add the humidity reading.  ")
    [op] = lead.store.outbox()
    assert (op.entity, op.kind, op.base_version) == ("review", "decide", 0) and op.id != visit["id"]
    assert dict(op.data) == {"visit_id": visit["id"], "decision": "return", "comment": "Add the humidity reading."}
    assert lead.store.pending().reviews == 1


def test_decide_rules(lead: Filled) -> None:
    """Return needs a comment; the decision must be approve/return; the visit must wait for review."""
    visit = team_visit(lead)
    lead.store.apply_changes([visit, approved := team_visit(lead, status="approved")], 1)
    with pytest.raises(ValidationError) as no_comment:
        lead.store.decide(visit["id"], "return", "   ")
    assert "comment" in no_comment.value.problems
    with pytest.raises(ValidationError):
        lead.store.decide(visit["id"], "maybe")
    with pytest.raises(ValidationError, match="no longer waiting"):
        lead.store.decide(approved["id"], "approve")
    with pytest.raises(NotFoundError):
        lead.store.decide(f.new_id(), "approve")
    assert lead.store.outbox() == []


def test_resubmitted_visit_comes_back_with_what_changed(lead: Filled) -> None:
    """After a return and a resubmission the visit is queued again, marked resubmitted, with its changes."""
    visit_id = f.new_id()
    lead.store.apply_changes([team_visit(lead, id=visit_id, answers={"mould": True, "room": "Kitchen"})], 1)
    lead.store.decide(visit_id, "return", "Which room?")
    [op] = lead.store.outbox()
    lead.store.record_results([op], [f.pushed(op, "applied", version=1)])
    lead.store.apply_changes([team_visit(lead, id=visit_id, version=2, status="returned",
                                         answers={"mould": True, "room": "Kitchen"})], 2)
    assert lead.store.review_queue() == []
    lead.store.apply_changes([team_visit(lead, id=visit_id, version=3, notes="Bathroom too",
                                         answers={"mould": True, "room": "Bathroom", "rh": 80})], 3)
    [item] = lead.store.review_queue()
    assert item.visit_id == visit_id and item.resubmitted
    changes = lead.store.visit_changes(visit_id)
    assert changes.answers_changed == ("room",) and changes.answers_added == ("rh",) and changes.notes_changed


def test_a_decision_that_meets_a_decided_visit_is_a_problem(lead: Filled) -> None:
    """A review conflict becomes a problem with the lead's comment kept, not an error."""
    visit = team_visit(lead)
    lead.store.apply_changes([visit], 1)
    lead.store.decide(visit["id"], "return", "Needs the boiler photo.")
    [op] = lead.store.outbox()
    lead.store.record_results([op], [f.pushed(op, "conflict", current={"status": "approved"})])
    [problem] = lead.store.problems()
    assert (problem.kind, problem.entity) == ("conflict", "review")
    assert problem.details["comment"] == "Needs the boiler photo." and problem.actions == (ProblemAction.DISMISS,)
    lead.store.apply_changes([team_visit(lead, id=visit["id"], version=2, status="approved")], 2)
    assert lead.store.review_queue() == []
    assert lead.store.resolve_problem(problem.id, ProblemAction.DISMISS) is None
    assert lead.store.problems() == []


def test_amendment_of_the_leads_own_visit_is_not_offered(lead: Filled) -> None:
    """An officer's amendment of the lead's approved visit stays out of the queue and cannot be decided here."""
    w = lead.world
    own = f.visit(lead.case_id, w.lead_id, w.template_id, status="approved")
    amendment = team_visit(lead, amends=own["id"])
    other = team_visit(lead)
    lead.store.apply_changes([own, amendment, other], 1)
    assert [i.visit_id for i in lead.store.review_queue()] == [other["id"]]
    with pytest.raises(ValidationError, match="another lead"):
        lead.store.decide(amendment["id"], "approve")
    assert lead.store.outbox() == []
