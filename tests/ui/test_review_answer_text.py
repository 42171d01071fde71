"""Answers as the lead reads them on the laptop: a date as the app writes dates, not the wire's ISO text."""

from __future__ import annotations

from fieldapp.domain import QuestionKind
from fieldapp.types import Question
from ui.review.answer_text import answer_text


def test_a_date_answer_reads_as_a_date() -> None:
    """'Target date for the work: 2026-12-02' read as the wire writes it; the editor and the case page say 02 Dec 2026."""
    question = Question(id="target", label="Target date for the work", kind=QuestionKind.DATE)
    assert answer_text(question, "2026-12-02") == "02 Dec 2026"
    assert answer_text(question, "next week") == "next week"   # not a date: shown as it came
