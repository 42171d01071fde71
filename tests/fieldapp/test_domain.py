"""Tests of the domain rules: HHSRS bands and answer validation."""

import pytest

from fieldapp.domain import HHSRS_HAZARDS, band_for_score, is_category_1
from fieldapp.domain_forms import validate_answers

TEMPLATE = {
    "sections": [
        {
            "id": "s1",
            "title": "Rooms",
            "questions": [
                {"id": "mould", "label": "Mould seen?", "kind": "yes_no", "required": True},
                {"id": "where", "label": "Where", "kind": "choice", "options": ["Kitchen", "Bathroom"]},
                {"id": "rooms", "label": "Rooms", "kind": "multi_choice", "options": ["Hall", "Bed"]},
                {"id": "rh", "label": "Humidity", "kind": "number", "min": 0, "max": 100},
                {"id": "when", "label": "Noticed", "kind": "date"},
                {"id": "score", "label": "Condition", "kind": "rating"},
                {"id": "hz", "label": "Hazard", "kind": "hazard"},
                {"id": "pics", "label": "Photos", "kind": "photo"},
                {"id": "note", "label": "Note", "kind": "text"},
            ],
        }
    ]
}


def test_there_are_29_hhsrs_hazards() -> None:
    """The HHSRS list has its 29 distinct hazards."""
    assert len(set(HHSRS_HAZARDS)) == 29


@pytest.mark.parametrize(
    ("score", "band"),
    [(5000, "A"), (4999, "B"), (2000, "B"), (1999, "C"), (1000, "C"), (999, "D"), (500, "D"),
     (499, "E"), (200, "E"), (199, "F"), (100, "F"), (99, "G"), (50, "G"), (49, "H"), (20, "H"),
     (19, "I"), (10, "I"), (9, "J"), (0, "J")],
)
def test_band_edges(score: int, band: str) -> None:
    """Each band starts exactly at its documented score."""
    assert band_for_score(score) == band


def test_category_1_is_bands_a_to_c() -> None:
    """Bands A–C are Category 1, D–J are not."""
    assert [b for b in "ABCDEFGHIJ" if is_category_1(b)] == ["A", "B", "C"]


def test_valid_answers_pass() -> None:
    """A complete set of well-formed answers has no problems."""
    answers = {"mould": True, "where": "Kitchen", "rooms": ["Hall"], "rh": 55.5, "when": "2026-11-01",
               "score": 3, "hz": {"hazard": "Damp and mould growth", "band": "B"}, "pics": ["p1"], "note": "x"}
    assert validate_answers(TEMPLATE, answers, photo_ids=["p1"]) == {}


def test_each_bad_answer_gets_its_own_message() -> None:
    """Every invalid answer and a missing required answer are reported per question."""
    answers = {"where": "Loft", "rooms": ["Loft"], "rh": 101, "when": "2026-02-30", "score": 6,
               "hz": {"hazard": "Ghosts", "band": "B"}, "pics": ["nope"], "note": 5, "extra": 1}
    problems = validate_answers(TEMPLATE, answers, photo_ids=["p1"])
    assert set(problems) == {"mould", "where", "rooms", "rh", "when", "score", "hz", "pics", "note", "extra"}
    assert "at most 100" in problems["rh"]
    assert problems["mould"] == "This question must be answered."


def test_draft_may_be_incomplete() -> None:
    """Without require_complete, missing required answers are not problems."""
    assert validate_answers(TEMPLATE, {}, require_complete=False) == {}


def test_booleans_are_not_numbers() -> None:
    """True is refused as a number or a rating."""
    assert set(validate_answers(TEMPLATE, {"rh": True, "score": True}, require_complete=False)) == {"rh", "score"}


def test_submitted_in_chain_follows_amends_and_ends_on_a_loop() -> None:
    """The lead's own visit, an amendment of it, a chain that loops and a missing link."""
    from fieldapp.domain import submitted_in_chain

    visits = {"c": ("officer", "b"), "b": ("officer", "a"), "a": ("lead", None), "x": ("officer", "y"), "y": ("officer", "x")}
    read = visits.get
    assert submitted_in_chain("a", "lead", read) and submitted_in_chain("c", "lead", read)
    assert not submitted_in_chain("x", "lead", read)  # x → y → x: ends, no lead
    assert not submitted_in_chain("gone", "lead", read)
    assert not submitted_in_chain("c", "someone else", read)
