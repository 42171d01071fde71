"""What a demo officer found: a plausible, complete inspection for any of the seeded forms.

The demo's lead should review real inspections, not empty forms: readings room by room,
defects, ventilation and causes for damp and mould, the element and its condition for a
repair, and so on. Answers written here are those an officer would give in a home with
mould in the bathroom and a bedroom; questions this file does not know get a plausible
answer of their kind. Every answer still goes through the store's own checks at submit.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from fieldapp.domain import HHSRS_HAZARDS
from fieldapp.domain_forms import drop_hidden
from fieldapp.types import Question, Template

DAMP_AND_MOULD = HHSRS_HAZARDS[0]

#: Repeat sections (room by room, member by member): one value a repetition, all of a section the same length.
_REPEATED: dict[str, list[Any]] = {
    "room": ["Bathroom", "Bedroom 1", "Living room"],
    "room_rh": [78, 71, 58],
    "room_air_temp": [17.5, 16.0, 19.5],
    "room_wall_moisture": [24, 19, 11],
    "room_mould": [True, True, False],
    "room_mould_area": ["1 to 5 m²", "0.1 to 1 m²", None],
    "room_mould_where": [["Ceiling", "Window or reveal"], ["External wall", "Behind furniture"], None],
    "member_name": ["Tenant named on the tenancy", "Their son"],
    "member_relation": ["Tenant", "Child"],
    "member_age": ["18 to 64", "5 to 17"],
    "member_id_seen": [True, False],
}

#: Answers by question id, as an officer in a damp flat with a broken bathroom fan would give them.
_ANSWERS: dict[str, Any] = {
    "warnings_read": True,
    "tenant_account": "Black mould on the bathroom ceiling since last winter, now spreading to the front bedroom. "
                      "Tenant wipes it with bleach weekly; it comes back within days.",
    "household_risk": ["Child under 5", "Asthma or other respiratory illness"],
    "roof_defect": False,
    "gutters_defect": True,
    "gutters_detail": "Front gutter blocked above bedroom 1; water runs down the wall in rain.",
    "dpc_defect": False,
    "plumbing_leak": False,
    "walls_windows": 2,
    "kitchen_fan": "Fitted and working",
    "bathroom_fan": "Fitted, not working",
    "fan_fault": "Fan hums but does not turn; isolator is on.",
    "trickle_vents": "Fitted but closed or blocked",
    "heating_type": "Gas central heating",
    "heating_working": True,
    "afford_heat": False,
    "energy_referral": True,
    "clothes_drying": "No choice but indoors",
    "causes": ["Condensation: not enough ventilation", "Penetrating damp (roof, gutters, walls)"],
    "cause_notes": "Condensation made worse by the broken fan; the blocked gutter wets the bedroom wall.",
    "treatment_done": ["Mould wash with fungicide"],
    "works_needed": True,
    "works_description": "Replace bathroom extractor fan; clear and repair front gutter; "
                         "mould wash and stain-block bedroom 1 after the wall dries.",
    "element": "Windows",
    "component_age": "Over 30 years",
    "condition": 2,
    "needs": "Major repair",
    "safe": True,
    "trades": ["Carpenter"],
    "estimate_hours": 6,
    "description": "Rotten sill to the rear bedroom window; the casement no longer closes.",
    "tenant_present": True,
    "id_seen": True,
    "id_type": "Passport",
    "occupants": 2,
    "occupancy": "As on record",
    "keys_returned": True,
    "keys_count": 3,
    "secured": "Locks changed",
    "gas_supply": True,
    "gas_certificate": "Valid",
    "eicr": "Satisfactory",
    "smoke_alarms": "Fitted on every storey and tested",
    "co_alarm": "Fitted by each fuel-burning appliance and tested",
    "asbestos_register": "Checked: none recorded",
    "lettable": 4,
    "meter_readings": "Gas 04512, electricity 38811.",
}

#: The hazard each kind of inspection found (the damp and mould one is Category 1).
_HAZARD_BY_CASE_TYPE: dict[str, dict[str, str]] = {
    "damp_mould": {"hazard": DAMP_AND_MOULD, "band": "C"},
    "repair": {"hazard": "Entry by intruders", "band": "E"},
    "void": {"hazard": "Electrical hazards", "band": "F"},
    "tenancy_audit": {"hazard": "Fire", "band": "G"},
}

#: The assessment a completed damp and mould inspection of this household carries.
ASSESSMENT: dict[str, Any] = {
    "finding": "significant",
    "hazards": [DAMP_AND_MOULD],
    "reasons": "Mould in two rooms, a child under five with asthma in the household.",
    "household_factors": ["Children in the household", "Respiratory illness"],
    "make_safe_done": False,
    "safety_work": "Replace the bathroom extractor fan and clear the front gutter.",
    "supplementary_work": "Mould wash and stain-block bedroom 1 once the wall has dried out.",
    "alternative_accommodation": False,
}


def plausible_answer(question: Question, today: date) -> Any:
    """An answer of the question's kind, within its options and limits; None for photo and hazard questions.

    The demo's answer to a question this file has no words for, and the tests' answer to any question.
    """
    if question.kind == "yes_no":
        return True
    if question.kind in ("choice", "multi_choice") and question.options:
        return question.options[0] if question.kind == "choice" else [question.options[0]]
    if question.kind == "number":
        return question.min if question.min is not None else 1
    if question.kind == "rating":
        return 3
    if question.kind == "date":
        return today.isoformat()
    if question.kind == "text":
        return "Checked with the tenant; nothing further to note."
    return None


def inspection_answers(template: Template, photo_ids: list[str], today: date) -> dict[str, Any]:
    """A complete inspection's answers for the form (photo questions get ``photo_ids``), hidden questions unanswered."""
    answers: dict[str, Any] = {}
    for section in template.sections:
        for question in section.questions:
            if question.kind == "photo":
                if not section.repeat and photo_ids:
                    answers[question.id] = list(photo_ids)
            elif section.repeat:
                answers[question.id] = list(_REPEATED.get(question.id, [plausible_answer(question, today)]))
            elif question.kind == "hazard":
                answers[question.id] = dict(_HAZARD_BY_CASE_TYPE.get(template.case_types[0], _HAZARD_BY_CASE_TYPE["repair"]))
            elif question.kind == "date":
                answers[question.id] = today.isoformat()
            else:
                answers[question.id] = _ANSWERS.get(question.id, plausible_answer(question, today))
    return drop_hidden(template.rules_document(), answers)
