"""Answers on the web visit page read as on the lead's laptop (one rule: fieldapp.domain.date_answer_text)."""

from __future__ import annotations

from portal.web.visit_view import _sections
from ui.review.answer_text import answer_text
from fieldapp.domain import QuestionKind, date_answer_text
from fieldapp.types import Question


def test_a_date_answer_reads_as_on_the_laptop() -> None:
    template = {"sections": [{"id": "s", "title": "Follow-up", "questions": [
        {"id": "target", "label": "Target date for the work", "kind": "date"},
        {"id": "note", "label": "Note", "kind": "text"}]}]}
    [section] = _sections(template, {"target": "2026-12-02", "note": "2026-12-02"}, {})
    assert [(a.label, a.values) for a in section.answers] == [
        ("Target date for the work", ("02 Dec 2026",)), ("Note", ("2026-12-02",))]  # a text answer stays as typed
    laptop = answer_text(Question(id="target", label="Target date for the work", kind=QuestionKind.DATE), "2026-12-02")
    assert laptop == section.answers[0].values[0] == date_answer_text("2026-12-02")
    assert date_answer_text("next week") == "next week" and date_answer_text("2026-02-30") == "2026-02-30"
