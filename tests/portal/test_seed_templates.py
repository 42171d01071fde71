"""The bundled templates ask what councils' own forms ask, and every one is a valid template."""

from __future__ import annotations

import json
from typing import Any

import pytest

from portal.seed import TEMPLATES_FILE
from portal.services.records import _check_template
from sync.protocol import TemplateData, validate_answers

TEMPLATES: dict[str, dict[str, Any]] = {t["name"]: t for t in json.loads(TEMPLATES_FILE.read_text(encoding="utf-8"))}


def _questions(name: str) -> dict[str, dict[str, Any]]:
    return {q["id"]: q for s in TEMPLATES[name]["sections"] for q in s["questions"]}


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_each_template_is_valid_and_uses_show_if(name: str) -> None:
    """Each bundled template passes the portal's checks and shows some questions only when they apply."""
    _check_template(TemplateData.model_validate(TEMPLATES[name]))
    assert any("show_if" in q for q in _questions(name).values())


def test_damp_and_mould_asks_room_by_room_and_the_causes() -> None:
    """Readings room by room, the defects, ventilation and heating, causes, treatment and follow-up."""
    rooms = next(s for s in TEMPLATES["Damp and mould investigation"]["sections"] if s.get("repeat"))
    assert {"room", "room_rh", "room_mould"} <= {q["id"] for q in rooms["questions"]}
    questions = _questions("Damp and mould investigation")
    assert {"roof_defect", "gutters_defect", "dpc_defect", "plumbing_leak", "kitchen_fan", "bathroom_fan",
            "trickle_vents", "afford_heat", "treatment_done", "follow_up_date"} <= set(questions)
    assert questions["causes"]["kind"] == "multi_choice"


def test_void_tenancy_and_repair_questions() -> None:
    """Voids: certificates, alarms, asbestos; audits: household members and ID; repairs: Decent Homes components."""
    assert {"gas_certificate", "eicr", "smoke_alarms", "co_alarm", "asbestos_register"} <= set(_questions("Void inspection"))
    household = next(s for s in TEMPLATES["Tenancy audit"]["sections"] if s.get("repeat"))
    assert "member_name" in {q["id"] for q in household["questions"]} and "id_seen" in _questions("Tenancy audit")
    components = _questions("Repair inspection")["element"]["options"]
    assert {"Roof structure and covering", "Windows", "Boiler or heating source", "Electrical installation", "Kitchen", "Bathroom"} <= set(components)


def test_a_filled_damp_form_validates() -> None:
    """Two rooms, one with mould, no defects, fans working: valid; the hidden follow-ups are not required."""
    answers = {"warnings_read": True, "room": ["Bathroom", "Bedroom 1"], "room_rh": [78, 64], "room_mould": [True, False],
               "room_mould_area": ["0.1 to 1 m²", None], "roof_defect": False, "gutters_defect": False, "dpc_defect": False,
               "plumbing_leak": False, "kitchen_fan": "Fitted and working", "bathroom_fan": "Fitted and working",
               "heating_type": "Gas central heating", "heating_working": True, "afford_heat": True,
               "causes": ["Condensation: not enough ventilation"], "treatment_done": ["Mould wash with fungicide"], "works_needed": False}
    assert validate_answers(TEMPLATES["Damp and mould investigation"], answers) == {}
    problems = validate_answers(TEMPLATES["Damp and mould investigation"], {**answers, "afford_heat": False, "works_needed": True})
    assert set(problems) == {"energy_referral", "works_description", "follow_up_date"}
