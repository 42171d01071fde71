"""The assessment of a visit (PROTOCOL.md revision 2, "Assessment") as the laptop keeps a draft of it.

The question the law turns on: is there an emergency hazard, a significant one, or
neither, and why, for this household. A draft assessment is saved field by field as
the officer answers; whether it is complete is the shared rule's business
(`fieldapp.domain`), used by the laptop and the portal alike.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: Every field of the assessment document.
FIELDS: tuple[str, ...] = ("finding", "hazards", "reasons", "household_factors", "make_safe_done",
                           "safety_work", "supplementary_work", "alternative_accommodation")


def merge_assessment(current: Mapping[str, Any] | None, changes: Mapping[str, Any]) -> dict[str, Any] | None:
    """The draft assessment with ``changes`` merged in; a None value removes that field, nothing left is None."""
    merged = dict(current or {})
    for key, value in changes.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = list(value) if isinstance(value, tuple) else value
    return merged or None


def document_assessment(draft: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The assessment as the visit document carries it: the fields answered, or None (absent) when untouched.

    Nothing is filled in for the officer: a yes/no they did not answer is reported as
    missing by the shared rule, never sent as "no".
    """
    if not draft:
        return None
    return {key: draft[key] for key in FIELDS if key in draft} or None
