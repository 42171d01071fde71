"""Tests of revision 2's shared form rules: show_if questions, repeat sections, vocabularies, the assessment."""

from __future__ import annotations

from typing import Any

import pytest

from fieldapp.domain_forms import validate_answers
from fieldapp.domain_assessment import assessment_problems, needs_assessment, needs_summary
from fieldapp.domain_forms import drop_hidden, is_shown
from fieldapp.domain_vocabulary import HHSRS_2006, category_1_bands, check_hazard_list, hazard_names

FORM: dict[str, Any] = {"sections": [
    {"id": "vent", "title": "Ventilation", "questions": [
        {"id": "fan", "label": "Extractor fan fitted", "kind": "yes_no", "required": True},
        {"id": "fan_works", "label": "Fan working", "kind": "yes_no", "required": True,
         "show_if": {"question_id": "fan", "equals": True}},
        {"id": "fan_fault", "label": "Fan fault", "kind": "text", "required": True,
         "show_if": {"question_id": "fan_works", "equals": False}},
        {"id": "causes", "label": "Causes", "kind": "multi_choice", "options": ["Leak", "Condensation"]},
        {"id": "leak_where", "label": "Where is the leak", "kind": "text", "required": True,
         "show_if": {"question_id": "causes", "equals": "Leak"}},
    ]},
    {"id": "rooms", "title": "Rooms", "repeat": True, "questions": [
        {"id": "room", "label": "Room", "kind": "choice", "options": ["Kitchen", "Bathroom", "Bedroom"], "required": True},
        {"id": "rh", "label": "Humidity %", "kind": "number", "min": 0, "max": 100, "required": True},
        {"id": "mould", "label": "Mould seen", "kind": "yes_no"},
        {"id": "mould_m2", "label": "Area of mould", "kind": "number", "required": True,
         "show_if": {"question_id": "mould", "equals": True}},
    ]},
]}

GOOD = {"fan": True, "fan_works": True, "room": ["Kitchen", "Bathroom"], "rh": [55, 78], "mould": [False, True], "mould_m2": [None, 1.5]}


def test_a_complete_form_passes() -> None:
    """Shown questions answered, repeat answers one per room: no problems."""
    assert validate_answers(FORM, GOOD) == {}


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"fan_works": None}, "fan_works"),                          # shown and required
        ({"fan_works": False}, "fan_fault"),                         # a chain: shown once the fan is broken
        ({"causes": ["Condensation", "Leak"]}, "leak_where"),        # multi_choice contains the value
        ({"mould_m2": [None, None]}, "mould_m2"),                    # per repetition: room 2 has mould
        ({"rh": [55]}, "rh"),                                        # room 2 has no reading
        ({"rh": 55}, "rh"),                                          # a repeat answer must be a list
        ({"rh": [55, 101]}, "rh"),                                   # each value checked
    ],
)
def test_rules_that_fail(change: dict[str, Any], problem: str) -> None:
    """Each broken rule names its question."""
    answers = {k: v for k, v in {**GOOD, **change}.items() if v is not None}
    assert problem in validate_answers(FORM, answers)


def test_hidden_questions_are_neither_required_nor_checked() -> None:
    """Without a fan, its follow-ups are hidden: unanswered is fine and a bad value is ignored."""
    answers = {**GOOD, "fan": False, "fan_works": "nonsense"}
    assert validate_answers(FORM, answers) == {}


def test_repetition_messages_say_which_room() -> None:
    """A bad value in a repeat section says which repetition it is in."""
    problems = validate_answers(FORM, {**GOOD, "rh": [55, 140]})
    assert problems["rh"].startswith("Repetition 2:")


def test_required_repeat_needs_one_repetition() -> None:
    """A repeat section with required questions needs at least one repetition."""
    answers = {"fan": False}
    assert set(validate_answers(FORM, answers)) == {"room", "rh"}
    assert validate_answers(FORM, answers, require_complete=False) == {}


def test_drop_hidden_keeps_what_is_shown() -> None:
    """Submitting drops answers to hidden questions, per repetition too."""
    answers = {**GOOD, "fan": False, "mould": [False, False], "mould_m2": [3, 1.5], "unknown": 1}
    kept = drop_hidden(FORM, answers)
    assert "fan_works" not in kept and "mould_m2" not in kept and kept["unknown"] == 1
    kept = drop_hidden(FORM, {**GOOD, "mould_m2": [3, 1.5]})
    assert kept["mould_m2"] == [None, 1.5]


def test_is_shown_per_repetition() -> None:
    """show_if inside a repeat section is decided room by room."""
    assert not is_shown(FORM, GOOD, "mould_m2", 0) and is_shown(FORM, GOOD, "mould_m2", 1)


def test_yes_no_true_does_not_equal_one() -> None:
    """A show_if on the number 1 is not met by a yes answer."""
    form = {"sections": [{"id": "s", "title": "S", "questions": [
        {"id": "a", "label": "A", "kind": "yes_no"},
        {"id": "b", "label": "B", "kind": "text", "required": True, "show_if": {"question_id": "a", "equals": 1}}]}]}
    assert validate_answers(form, {"a": True}) == {}


def test_hhsrs_2006_has_29_hazards_in_four_groups() -> None:
    """The shipped vocabulary: 29 hazards, the four HHSRS groups, bands A–J, A–C Category 1."""
    groups = {h["group"] for h in HHSRS_2006["hazards"]}
    assert len(hazard_names(HHSRS_2006)) == 29 and len(groups) == 4
    assert [b["band"] for b in HHSRS_2006["bands"]] == list("ABCDEFGHIJ")
    assert category_1_bands(HHSRS_2006) == {"A", "B", "C"}
    accidents = [h["name"] for h in HHSRS_2006["hazards"] if h["group"] == "Protection against accidents"]
    assert "Falls on stairs" in accidents and len(accidents) == 11


def test_hazard_answers_follow_their_vocabulary() -> None:
    """A hazard answer names its vocabulary; an unknown vocabulary or name is refused."""
    form = {"sections": [{"id": "s", "title": "S", "questions": [{"id": "hz", "label": "Hazard", "kind": "hazard"}]}]}
    other = {"key": "wales-2026", "hazards": [{"name": "Damp", "group": "G"}], "bands": [{"band": "1", "category_1": True}]}
    vocabularies = {"hhsrs-2006": HHSRS_2006, "wales-2026": other}
    assert validate_answers(form, {"hz": {"hazard": "Damp", "band": "1", "vocabulary": "wales-2026"}}, vocabularies=vocabularies) == {}
    assert "hz" in validate_answers(form, {"hz": {"hazard": "Damp", "band": "1"}}, vocabularies=vocabularies)
    assert "not known" in validate_answers(form, {"hz": {"hazard": "Damp", "band": "1", "vocabulary": "x"}}, vocabularies=vocabularies)["hz"]


def test_visit_hazards_may_leave_the_band_empty() -> None:
    """A visit's hazard entry may have band null, but not an unknown band or hazard."""
    vocabularies = {"hhsrs-2006": HHSRS_2006}
    hazards = [{"hazard": "Excess cold", "band": None}, {"hazard": "Fire", "band": "Z"}, {"hazard": "Ghosts", "band": "A"}]
    assert set(check_hazard_list(hazards, vocabularies)) == {"hazards.1", "hazards.2"}


ASSESSMENT = {"finding": "significant", "hazards": ["Damp and mould growth"], "reasons": "Infant with asthma",
              "household_factors": ["Children in the household"], "make_safe_done": False, "safety_work": "Treat mould",
              "supplementary_work": None, "alternative_accommodation": False}


@pytest.mark.parametrize(
    ("assessment", "required", "ok"),
    [
        (ASSESSMENT, True, True),
        (None, True, False),
        (None, False, True),
        ({**ASSESSMENT, "finding": "bad"}, True, False),
        ({**ASSESSMENT, "hazards": []}, True, False),                    # significant names its hazard
        ({**ASSESSMENT, "reasons": " "}, True, False),                  # and says why
        ({**ASSESSMENT, "hazards": ["Ghosts"]}, True, False),
        ({**ASSESSMENT, "extra": 1}, True, False),
        ({**ASSESSMENT, "make_safe_done": "yes"}, True, False),
        ({"finding": "no_hazard", "hazards": [], "reasons": ""}, True, True),
    ],
)
def test_assessment_rules(assessment: Any, required: bool, ok: bool) -> None:
    """The assessment is required where the law applies and well formed wherever it is given."""
    problems = assessment_problems(assessment, required=required, hazard_names=hazard_names(HHSRS_2006))
    assert (problems == {}) is ok
    assert set(problems) <= {"assessment"}


def test_when_an_assessment_and_a_summary_are_needed() -> None:
    """Needed for a completed visit of an Awaab case; no summary only for no hazard with the work done."""
    assert needs_assessment(True, "completed") and not needs_assessment(True, "no_access") and not needs_assessment(False, "completed")
    assert needs_summary(ASSESSMENT)
    assert not needs_summary({"finding": "no_hazard", "safety_work": "", "supplementary_work": None})
    assert needs_summary({"finding": "no_hazard", "safety_work": "Fix fan", "make_safe_done": False})
    assert needs_summary({"finding": "no_hazard", "supplementary_work": "Replace windows"})
