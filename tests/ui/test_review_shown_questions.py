"""The lead's view of a visit lists the questions the officer's form showed, not those its show_if hid."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone
from typing import Any

from fieldapp.types import Question, Section, Template, Visit, VisitState
from ui.review.review_data import ReviewData
from ui.review.visit_view import VisitReviewWidget

NOW = datetime(2026, 12, 3, 9, 0, tzinfo=timezone.utc)

TEMPLATE = Template(
    id="tpl-repair", name="Repair inspection", version=2, case_types=("repair",),
    sections=(
        Section("repair", "The repair", (
            Question("element", "Building component", "choice", required=True,
                     options=("Windows", "Boiler or heating source")),
            Question("heat", "The home has working heating and hot water", "yes_no", required=True,
                     show_if={"question_id": "element", "equals": "Boiler or heating source"}),
            Question("safe", "Safe to leave until the repair is done", "yes_no", required=True),
            Question("make_safe", "What was done to make it safe", "text",
                     show_if={"question_id": "safe", "equals": False}),
        )),
        Section("household", "Household members", (
            Question("member_name", "Full name", "text", required=True),
            Question("member_age", "Age group", "choice", options=("Under 18", "18 or over")),
        ), repeat=True),
    ))


def _visit(answers: dict[str, Any]) -> Visit:
    return Visit(id="v1", case_id="c1", officer_id="o1", template_id=TEMPLATE.id, template_version=2,
                 started_at=NOW, completed_at=NOW, outcome="completed", answers=answers, notes="", hazards=(),
                 photos=(), state=VisitState.SUBMITTED, server_version=1, review=None, amends=None)


def _rows(view: VisitReviewWidget) -> list[str]:
    return [label.text() for label in view.scroll.widget().findChildren(type(view.meta_label))]


def test_questions_hidden_by_show_if_are_not_listed_as_not_answered(qtbot: Any) -> None:
    """Windows, safe: the heating and make-safe questions were never asked, so the lead does not see them."""
    view = VisitReviewWidget()
    qtbot.addWidget(view)
    view.show_review(ReviewData(_visit({"element": "Windows", "safe": True}), TEMPLATE, None, None))
    rows = _rows(view)
    assert "Building component" in rows and "Safe to leave until the repair is done" in rows
    assert "The home has working heating and hot water" not in rows
    assert "What was done to make it safe" not in rows
    view.show_review(ReviewData(_visit({"element": "Boiler or heating source", "safe": False}), TEMPLATE, None, None))
    rows = _rows(view)
    assert "The home has working heating and hot water" in rows and "What was done to make it safe" in rows


def test_a_repeat_section_with_no_repetition_says_so(qtbot: Any) -> None:
    """No household member recorded: one line says so, not a "Not answered" per question."""
    view = VisitReviewWidget()
    qtbot.addWidget(view)
    view.show_review(ReviewData(_visit({"element": "Windows", "safe": True}), TEMPLATE, None, None))
    rows = _rows(view)
    assert "Full name" not in rows and "Age group" not in rows
    assert "None recorded." in rows
    view.show_review(ReviewData(_visit({"element": "Windows", "safe": True, "member_name": ["Ada Obi"],
                                        "member_age": [None]}), TEMPLATE, None, None))
    rows = _rows(view)
    assert "Full name" in rows and "Age group" in rows and "None recorded." not in rows


ROOMS = Template(
    id="tpl-damp", name="Damp and mould investigation", version=2, case_types=("damp_mould",),
    sections=(
        Section("rooms", "Readings room by room", (
            Question("room", "Room", "choice", required=True, options=("Kitchen", "Bathroom")),
            Question("rh", "Relative humidity (%)", "number"),
            Question("mould", "Mould growth seen in this room", "yes_no", required=True),
            Question("where", "Where the mould is", "multi_choice", options=("Ceiling", "Window or reveal"),
                     show_if={"question_id": "mould", "equals": True}),
        ), repeat=True),
    ))


def test_a_repeat_section_reads_room_by_room(qtbot: Any) -> None:
    """Each repetition under its own title, each answer its own: no "Yes" standing for [yes, no], no None or [...]."""
    view = VisitReviewWidget()
    qtbot.addWidget(view)
    answers = {"room": ["Bathroom", "Kitchen"], "rh": [78, None], "mould": [True, False],
               "where": [["Ceiling", "Window or reveal"], None]}
    view.show_review(ReviewData(_visit(answers), ROOMS, None, None))
    rows = _rows(view)
    first, second = rows.index("Repetition 1 · Bathroom"), rows.index("Repetition 2 · Kitchen")
    assert rows[first + 1:second] == ["Room", "Bathroom", "Relative humidity (%)", "78",
                                      "Mould growth seen in this room", "Yes",
                                      "Where the mould is", "Ceiling, Window or reveal"]
    # The kitchen had no mould: where it is was never asked there.
    assert rows[second + 1:second + 7] == ["Room", "Kitchen", "Relative humidity (%)", "Not answered",
                                           "Mould growth seen in this room", "No"]
    assert "Where the mould is" not in rows[second:]
    assert not any("None" in row or "[" in row for row in rows)


def test_the_assessment_under_awaabs_law_is_shown_to_the_lead(qtbot: Any) -> None:
    """The officer's finding, reasons and safety answers appear for the lead to weigh; none at all, no box."""
    view = VisitReviewWidget()
    qtbot.addWidget(view)
    visit = _visit({"room": ["Bathroom"], "mould": [True]})
    assessment = {"finding": "significant", "hazards": ["Damp and mould growth"],
                  "reasons": "Child under 5 sleeps next to the bathroom.", "household_factors": ["Children in the household"],
                  "make_safe_done": False, "safety_work": "Replace the extractor fan.", "alternative_accommodation": False}
    view.show_review(ReviewData(replace(visit, assessment=assessment), ROOMS, None, None))
    rows = _rows(view)
    at = rows.index("Finding")
    assert rows[at:at + 14] == [
        "Finding", "Significant hazard", "Hazards assessed", "Damp and mould growth",
        "Why, for this household", "Child under 5 sleeps next to the bathroom.",
        "Household at greater risk", "Children in the household", "Made safe at the visit", "No",
        "Safety work needed", "Replace the extractor fan.", "Must the household move out?", "No"]
    view.show_review(ReviewData(visit, ROOMS, None, None))
    assert "Finding" not in _rows(view)
