"""The officer's Awaab's Law assessment as the lead reads it: one titled line per field answered."""

from __future__ import annotations

from collections.abc import Mapping

from fieldapp.domain import is_blank
from fieldapp.domain_assessment import Finding
from ui.assessment import ASSESSMENT_TITLES, FINDING_TEXT
from ui.questions import Answer
from ui.review.answer_text import answer_text


def assessment_rows(assessment: Mapping[str, Answer] | None) -> list[tuple[str, str]]:
    """(title, text) per answered field, in the editor's order; empty when there is no assessment."""
    rows = []
    for field, title in ASSESSMENT_TITLES.items():
        value = (assessment or {}).get(field)
        if is_blank(value):
            continue
        if field == "finding" and value in {f.value for f in Finding}:
            rows.append((title, FINDING_TEXT[Finding(value)]))
        else:
            rows.append((title, answer_text(None, value)))
    return rows
