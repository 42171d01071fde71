"""The laptop knows the portal's text limits: text past them is kept as typed, flagged, and never submitted."""

from __future__ import annotations

from pathlib import Path

import pytest

from fieldapp.errors import ValidationError
from fieldapp.limits import NOTES_MAX_CHARS, text_problems, too_long, unstorable
from fieldapp.types import Hazard
from store_helpers import filled_store


def test_notes_past_the_limit_are_kept_flagged_and_not_submitted(tmp_path: Path) -> None:
    """Notes one character over the limit are saved whole, shown as a problem, and submit is refused."""
    filled = filled_store(tmp_path)
    try:
        long_notes = "n" * (NOTES_MAX_CHARS + 1)
        visit = filled.complete(notes=long_notes)
        assert visit.notes == long_notes and "notes" in visit.problems
        with pytest.raises(ValidationError) as raised:
            filled.store.submit_visit(visit.id)
        assert "notes" in raised.value.problems
        assert filled.store.visit(visit.id).notes == long_notes
    finally:
        filled.store.close()


def test_text_problems_name_each_field() -> None:
    """Hazard text and captions past their limits are named like the visit's other problems."""
    problems = text_problems("ok", [{"location": "x" * 1000, "notes": ""}], ["c" * 501])
    assert set(problems) == {"hazards.0", "photos"}
    assert too_long("abc", 3) is None and "Shorten it by 1" in (too_long("abcd", 3) or "")
    assert Hazard  # the store's hazard type carries the same fields


def test_unstorable_finds_nul_big_integers_and_nan() -> None:
    """NUL text, keys with NUL, integers beyond 64 bits and NaN are found with their path; ordinary values pass."""
    assert unstorable({"a": [1, "b", {"c": 2**63 - 1}], "d": True, "e": 1.5}) is None
    assert unstorable({"a": ["ok", "x\x00"]})[0] == "a.1"
    assert unstorable({"k\x00": 1})[0] == "k\x00"
    assert unstorable({"n": -(2**63) - 1})[0] == "n"
    assert unstorable({"f": float("nan")})[0] == "f"
