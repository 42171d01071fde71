"""Tests of the outcome's rule for required answers and of the form's progress (one rule, laptop and portal)."""

from __future__ import annotations

import pytest

from fieldapp.domain_progress import form_progress
from fieldapp.domain_required import answer_problems, answers_required, assessment_required
from sync import protocol
from test_domain_forms import FORM, GOOD


def test_the_rule_is_the_protocols() -> None:
    """sync.protocol re-exports the very functions the laptop uses, so the portal applies the same rule."""
    assert protocol.answers_required is answers_required
    assert protocol.assessment_required is assessment_required
    assert protocol.answer_problems is answer_problems


@pytest.mark.parametrize(("outcome", "required"), [
    ("completed", True), (None, True), ("no_access", False), ("refused", False), ("rescheduled", False)])
def test_required_answers_follow_the_outcome(outcome: str | None, required: bool) -> None:
    """Only an inspection (or an outcome not chosen yet) needs the required answers and the Awaab assessment."""
    assert answers_required(outcome) is required
    assert assessment_required(True, outcome) is required
    assert assessment_required(False, outcome) is False
    missing = answer_problems(FORM, {}, [], outcome)
    assert (set(missing) == {"fan", "room", "rh"}) is required and (missing == {}) is not required


def test_given_answers_are_checked_whatever_the_outcome() -> None:
    """A wrong answer is reported for a no-access visit too."""
    assert set(answer_problems(FORM, {"fan": "maybe"}, [], "no_access")) == {"fan"}


def test_progress_counts_only_what_applies() -> None:
    """Hidden questions do not count; a repeat section counts each room; sections complete when their required ones are."""
    empty = form_progress(FORM, {}, None)
    assert (empty.required_answered, empty.required_total) == (0, 3)
    assert (empty.sections_complete, empty.sections_total) == (0, 2)
    assert empty.unanswered == ("fan", "room", "rh")
    partial = form_progress(FORM, {"fan": True, "room": ["Kitchen", "Bathroom"], "rh": [55, None]}, "completed")
    # fan_works now applies; two rooms each need room and rh.
    assert (partial.required_answered, partial.required_total) == (4, 6)
    assert partial.unanswered == ("fan_works", "rh")
    full = form_progress(FORM, GOOD, "completed")
    assert full.done and (full.sections_complete, full.sections_total) == (2, 2) and full.unanswered == ()
    assert form_progress(FORM, {}, "no_access").required_total == 0


def test_next_unanswered_goes_on_from_the_current_question_and_wraps() -> None:
    """Next unanswered after a question is the next one below it, then the first again."""
    progress = form_progress(FORM, {}, None)
    order = ("fan", "fan_works", "fan_fault", "causes", "leak_where", "room", "rh", "mould", "mould_m2")
    assert progress.next_unanswered(None, order) == "fan"
    assert progress.next_unanswered("fan", order) == "room"
    assert progress.next_unanswered("rh", order) == "fan"
