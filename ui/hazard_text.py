"""How a visit's hazards read on screen (editor, review queue, review view); no Qt here.

Which hazards a visit has is `fieldapp.domain.visit_hazards`; whether one is Category 1
is `fieldapp.domain.is_category_1` (through `Hazard.category_1`). This module only words them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from fieldapp.domain import Hazard


def _name(hazard: Hazard) -> str:
    return hazard.hazard or "Hazard not chosen"


def short_text(hazard: Hazard) -> str:
    """``Damp and mould growth (C)``, or ``Excess cold (no band)``."""
    return f"{_name(hazard)} ({hazard.band or 'no band'})"


def line_text(hazard: Hazard, question_label: Callable[[str], str] = str) -> str:
    """One full line: ``Damp and mould growth, band C (Category 1) — Bathroom: notes — at “Main hazard”``."""
    text = f"{_name(hazard)}, " + (f"band {hazard.band}" if hazard.band else "no band")
    text += " (Category 1)" if hazard.category_1 else ""
    text += f" — {hazard.location}" if hazard.location else ""
    text += f": {hazard.notes}" if hazard.notes else ""
    if hazard.question_id is not None:
        text += f" — at “{question_label(hazard.question_id)}”"
    return text


def summary_text(hazards: Iterable[Hazard]) -> str:
    """The hazards in one line, the Category 1 ones first and named as such.

    ``⚠ Category 1: Damp and mould growth (C); also Excess cold (D)`` — a band D
    hazard is never shown under the Category 1 mark.
    """
    unique = list(dict.fromkeys((h.hazard, h.band, h.category_1) for h in hazards))
    first = [short_text(Hazard(name, band)) for name, band, cat1 in unique if cat1]
    others = [short_text(Hazard(name, band)) for name, band, cat1 in unique if not cat1]
    if not first:
        return ", ".join(others) or "None"
    return "⚠ Category 1: " + ", ".join(first) + (f"; also {', '.join(others)}" if others else "")
