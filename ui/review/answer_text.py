"""Answers as the lead reads them: one line of text per answer, whatever the question kind."""

from __future__ import annotations

from collections.abc import Mapping
from fieldapp.domain import QuestionKind, date_answer_text
from fieldapp.types import Photo, Question, counted
from ui.questions import Answer


def answer_text(question: Question | None, value: Answer, photos: Mapping[str, Photo] | None = None) -> str:
    """``value`` written for a person, using the question's kind where it is known."""
    kind = question.kind if question else None
    if value is None:
        return "—"
    if kind == QuestionKind.YES_NO or isinstance(value, bool):
        return "Yes" if value else "No"
    if kind == QuestionKind.RATING:
        return f"{value} / 5"
    if kind == QuestionKind.DATE and isinstance(value, str):
        return date_answer_text(value)
    if kind == QuestionKind.HAZARD and isinstance(value, Mapping):
        return f"{value.get('hazard', '?')} — band {value.get('band', '?')}"
    if kind == QuestionKind.PHOTO and isinstance(value, (list, tuple)):
        captions = [(photos or {}).get(pid) for pid in value]
        named = [p.caption or "photo" for p in captions if p is not None]
        return counted(len(value), "photo") + (f": {', '.join(named)}" if named else "")
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value) or "—"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
