"""A visit's hazards: one list from both places, one Category 1 rule, incomplete rows kept and flagged."""

from __future__ import annotations

from pathlib import Path

import pytest

import factories as f
from fieldapp.domain import Hazard, is_category_1, visit_hazards
from fieldapp.errors import ValidationError
from fieldapp.types import VisitState
from store_helpers import Filled, filled_store

DAMP_C = {"hazard": "Damp and mould growth", "band": "C"}
COLD_D = {"hazard": "Excess cold", "band": "D", "location": "Hall", "notes": ""}


def test_category_1_is_bands_a_to_c_and_nothing_else() -> None:
    """A, B and C are Category 1; D–J and no band are not; a vocabulary's own band flags decide for it."""
    assert [b for b in "ABCDEFGHIJ" if is_category_1(b)] == ["A", "B", "C"]
    assert not is_category_1("") and not is_category_1(None)
    assert Hazard("Fire", "B").category_1 and not Hazard("Fire", "").category_1
    own = {"bands": [{"band": "1", "category_1": True}, {"band": "2", "category_1": False}]}
    assert is_category_1("1", own) and not is_category_1("2", own) and not is_category_1("A", own)


def test_visit_hazards_are_the_list_then_the_answered_hazard_questions() -> None:
    """The Hazards list and every answered `hazard` question (also per room of a repeated section) make one list."""
    answers = {"mould": True, "hz": DAMP_C, "rooms": ["Kitchen"], "per_room": [COLD_D | {"band": "E"}, None]}
    found = visit_hazards([COLD_D], answers)
    assert [(h.hazard, h.band, h.question_id) for h in found] == [
        ("Excess cold", "D", None), ("Damp and mould growth", "C", "hz"), ("Excess cold", "E", "per_room")]
    assert found[0].location == "Hall"
    assert visit_hazards([Hazard("Fire", "", "Kitchen")], {}) == (Hazard("Fire", "", "Kitchen"),)


def test_a_row_without_band_or_name_is_stored_as_typed(filled: Filled) -> None:
    """Rows missing the band or the hazard are kept with their location and notes, and the nameless one is flagged."""
    visit = filled.draft(hazards=[Hazard("Damp and mould growth", "", "Back bedroom", "Black mould behind wardrobe"),
                                  Hazard("", "", "Kitchen", "Something to check")])
    again = filled.store.visit(visit.id)
    assert again.hazards == (Hazard("Damp and mould growth", "", "Back bedroom", "Black mould behind wardrobe"),
                             Hazard("", "", "Kitchen", "Something to check"))
    assert set(again.problems) == {"hazards.1"} and "Choose a hazard" in again.problems["hazards.1"]


def test_a_hazard_without_band_is_submitted_with_band_null(filled: Filled) -> None:
    """An unbanded hazard does not stop a submit; the document carries `band: null` as PROTOCOL.md revision 2 allows."""
    visit = filled.complete(hazards=[Hazard("Damp and mould growth", "", "Bathroom", "Spreading")])
    assert filled.store.submit_visit(visit.id).state == VisitState.QUEUED
    [op] = filled.store.outbox()
    assert op.data["hazards"] == [{"hazard": "Damp and mould growth", "band": None, "location": "Bathroom",
                                   "notes": "Spreading", "vocabulary": "hhsrs-2006"}]


def test_a_nameless_hazard_row_stops_the_submit(filled: Filled) -> None:
    """A row with notes but no hazard chosen must be completed or removed before submitting."""
    visit = filled.complete(hazards=[Hazard("", "C", "Bathroom")])
    with pytest.raises(ValidationError) as error:
        filled.store.submit_visit(visit.id)
    assert set(error.value.problems) == {"hazards.0"}


def test_the_review_queue_and_case_visits_count_hazards_from_both_places(tmp_path: Path) -> None:
    """A band C hazard answered at a question and a band D one listed: Category 1, both shown, the D one not as Category 1."""
    lead = filled_store(tmp_path, lead=True)
    try:
        w = lead.world
        change = f.visit(lead.case_id, w.officer_id, w.template_id, hazards=[COLD_D],
                         answers={"mould": True, "room": "Bathroom", "hz": DAMP_C})
        lead.store.apply_changes([change], 200)
        [item] = lead.store.review_queue()
        assert item.category_1
        assert [(h.hazard, h.band, h.category_1) for h in item.hazards] == [
            ("Excess cold", "D", False), ("Damp and mould growth", "C", True)]
        [summary] = [v for v in lead.store.case(lead.case_id).visits if v.id == change["id"]]
        assert summary.hazard_count == 2 and summary.category_1
    finally:
        lead.store.close()
