"""Statutory clocks through the portal API: cases, re-triage, visits that conclude an investigation, clocks met, rules as data."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

import pytest

from portal.clocks import Calendar
from portal.holidays import england
from sync.protocol import format_timestamp, parse_timestamp, utc_now
from tests.portal.conftest import World

DAMP = "Damp and mould growth"
ASSESSMENT = {"finding": "significant", "hazards": [DAMP], "reasons": "Infant with asthma in the household",
              "household_factors": ["Children in the household"], "make_safe_done": False,
              "safety_work": "Mould wash and fan repair", "supplementary_work": "Replace the bathroom window",
              "alternative_accommodation": False}


def _case(world: World, name: str, **fields: Any) -> dict[str, Any]:
    world.case(name, "officer1", **fields)
    return _get_case(world, name)


def _get_case(world: World, name: str, who: str = "lead_a") -> dict[str, Any]:
    changes, _ = world.portal.pull_all(world.auth[who])
    latest = [c for c in changes if c["entity"] == "case" and c["id"] == world.ids[name]]
    assert latest, f"{who} does not pull {name}"
    return {**latest[-1]["data"], "version": latest[-1]["version"], "seq": latest[-1]["seq"]}


def _patch(world: World, name: str, body: dict[str, Any], status: int = 200) -> dict[str, Any]:
    response = world.portal.call("PATCH", f"/admin/cases/{world.ids[name]}", headers=world.portal.admin, json=body)
    assert response.status_code == status, response.text
    return response.json()  # type: ignore[no-any-return]


def _clock(case: dict[str, Any], stage: str) -> dict[str, Any]:
    return next(c for c in case["clocks"] if c["stage"] == stage)


def _ten_working_days_from_now() -> str:
    due, _ = Calendar(england(), date.today()).after_working_days(utc_now(), 10)
    return format_timestamp(due)


@pytest.mark.parametrize("hazard", ["Excess cold", "Falls on stairs"])
def test_phase_2_repair_opened_today_gets_ten_working_days(world: World, hazard: str) -> None:
    """'Boiler not working' (excess cold) or 'broken stair handrail' (falls) opened today: investigate within 10 working days, not 20."""
    now = format_timestamp(utc_now())
    case = _case(world, "repair", case_type="repair", priority="routine", opened_at=now, reported_hazards=[hazard])
    assert case["awaab"] is True and case["source"] == "crm" and case["aware_at"] == now
    assert _clock(case, "investigate")["due_at"] == _ten_working_days_from_now() == case["due_at"]
    assert "Phase 2" in _clock(case, "investigate")["basis"]


def test_a_case_without_hazards_keeps_its_service_date(world: World) -> None:
    """A routine repair with nothing reported is not under the regulations: no clocks, the 20-day service date."""
    case = _case(world, "plain", case_type="repair", priority="routine", opened_at="2026-03-02T09:00:00Z")
    assert case["awaab"] is False and case["clocks"] == [] and case["reported_hazards"] == []
    assert case["due_at"] == "2026-03-30T22:59:59Z"


def test_retriage_recomputes_unmet_clocks(world: World) -> None:
    """PATCH to emergency gives 24 hours from aware_at, a new version the officer pulls; dropping the hazards drops the clocks."""
    case = _case(world, "tri", reported_hazards=[DAMP], aware_at="2026-12-01T08:00:00Z", opened_at="2026-12-01T09:00:00Z")
    assert _clock(case, "investigate")["due_at"] == "2026-12-15T23:59:59Z"
    patched = _patch(world, "tri", {"priority": "emergency"})
    assert patched["version"] == case["version"] + 1
    pulled = _get_case(world, "tri", "officer1")
    assert _clock(pulled, "investigate")["due_at"] == "2026-12-02T08:00:00Z" == pulled["due_at"]
    _patch(world, "tri", {"aware_at": "2026-12-01T10:00:00Z"})
    assert _clock(_get_case(world, "tri"), "investigate")["due_at"] == "2026-12-02T10:00:00Z"
    gone = _patch(world, "tri", {"priority": "routine", "reported_hazards": ["Noise"]})
    assert gone["awaab"] is False and gone["clocks"] == [] and gone["due_at"] == "2026-12-15T23:59:59Z"


def test_retriage_moves_a_standard_service_date_not_a_given_one(world: World) -> None:
    """A routine repair re-triaged urgent gets the 5-day standard; a due_at the CRM gave stays."""
    _case(world, "std", case_type="repair", priority="routine", opened_at="2026-03-02T09:00:00Z")
    assert _patch(world, "std", {"priority": "urgent"})["due_at"] == "2026-03-09T23:59:59Z"
    _case(world, "crm", case_type="repair", priority="routine", opened_at="2026-03-02T09:00:00Z", due_at="2026-03-20T12:00:00Z")
    assert _patch(world, "crm", {"priority": "urgent"})["due_at"] == "2026-03-20T12:00:00Z"


def test_reported_hazards_must_be_known(world: World) -> None:
    """An unknown hazard name is a 422 naming the field."""
    response = world.portal.call("PATCH", f"/admin/cases/{world.ids['case1']}", headers=world.portal.admin, json={"reported_hazards": ["Ghosts"]})
    assert response.status_code == 422 and "reported_hazards" in response.json()["error"]["details"]["fields"]


def test_visit_needs_an_assessment_and_concludes_the_investigation(world: World) -> None:
    """Without an assessment a completed visit is rejected (key assessment); with one, investigate is met and the later clocks start."""
    case = _case(world, "dm", reported_hazards=[DAMP], opened_at="2026-11-16T09:00:00Z")
    missing = world.portal.push(world.auth["officer1"], [world.visit_op("officer1", "dm")])[0]
    assert missing["status"] == "rejected" and missing["error"]["code"] == "invalid_answers"
    assert "assessment" in missing["error"]["details"]["questions"]
    no_access = world.visit_op("officer1", "dm", outcome="no_access", answers={}, completed_at=None)
    assert world.portal.push(world.auth["officer1"], [no_access])[0]["status"] == "applied"
    assert not _clock(_get_case(world, "dm"), "investigate")["met_at"]
    op = world.visit_op("officer1", "dm", completed_at="2026-11-18T14:00:00Z", assessment=ASSESSMENT)
    assert world.portal.push(world.auth["officer1"], [op])[0]["status"] == "applied"
    after = _get_case(world, "dm", "officer1")
    assert after["version"] > case["version"] and after["status"] == "visited"
    assert _clock(after, "investigate")["met_at"] == "2026-11-18T14:00:00Z"
    assert [c["stage"] for c in after["clocks"]] == ["investigate", "summary", "safety_work", "supplementary_start", "supplementary_works"]
    assert after["due_at"] == _clock(after, "summary")["due_at"] == "2026-11-23T23:59:59Z"
    # A later visit does not move the clocks; the CRM reports works done.
    later = world.visit_op("officer1", "dm", completed_at="2026-11-20T10:00:00Z", assessment={**ASSESSMENT, "supplementary_work": None})
    assert world.portal.push(world.auth["officer1"], [later])[0]["status"] == "applied"
    assert _get_case(world, "dm")["clocks"] == after["clocks"]
    met = _patch(world, "dm", {"clocks_met": {"summary": "2026-11-19T09:00:00Z", "safety_work": "2026-11-24T16:00:00Z"}})
    assert _clock(met, "summary")["met_at"] == "2026-11-19T09:00:00Z"
    assert met["due_at"] == _clock(met, "supplementary_start")["due_at"]
    # Re-triage keeps met clocks as they were met.
    retriaged = _patch(world, "dm", {"priority": "emergency"})
    assert _clock(retriaged, "investigate") == _clock(met, "investigate")
    assert _clock(retriaged, "summary")["met_at"] == "2026-11-19T09:00:00Z"


def test_clocks_met_names_a_clock_of_the_case(world: World) -> None:
    """clocks_met for a clock the case does not have, or with a bad time, is a 422 naming it."""
    _case(world, "cm", reported_hazards=[DAMP], opened_at="2026-12-01T09:00:00Z")
    bad = _patch(world, "cm", {"clocks_met": {"summary": "2026-12-04T09:00:00Z", "investigate": "soon"}}, status=422)
    assert set(bad["error"]["details"]["fields"]) == {"clocks_met.summary", "clocks_met.investigate"}


def test_meet_clock_marks_and_bumps(world: World) -> None:
    """The function the written summary uses: marks the clock, advances version and seq; False without such a clock."""
    from portal.models import CaseRow
    from portal.services.case_clocks import meet_clock

    _case(world, "mc", reported_hazards=[DAMP], opened_at="2026-12-01T09:00:00Z")
    with world.portal.db.write() as session:
        case = session.get(CaseRow, world.ids["mc"])
        version, seq = case.version, case.seq
        assert meet_clock(session, case, "summary", parse_timestamp("2026-12-02T10:00:00Z")) is False
        assert meet_clock(session, case, "investigate", parse_timestamp("2026-12-02T10:00:00Z")) is True
        assert case.version == version + 1 and case.seq > seq
    assert _clock(_get_case(world, "mc"), "investigate")["met_at"] == "2026-12-02T10:00:00Z"


def test_every_caller_pulls_the_rules(world: World) -> None:
    """Officers, leads and admins pull hhsrs-2006 and the schedule with both phases."""
    for headers in (world.auth["officer1"], world.auth["lead_b"], world.portal.admin):
        changes, _ = world.portal.pull_all(headers)
        vocab = [c["data"] for c in changes if c["entity"] == "hazard_vocabulary"]
        schedule = [c["data"] for c in changes if c["entity"] == "awaab_schedule"]
        hhsrs = next(v for v in vocab if v["key"] == "hhsrs-2006")
        assert len(hhsrs["hazards"]) == 29 and len({h["group"] for h in hhsrs["hazards"]}) == 4
        assert [b["band"] for b in hhsrs["bands"]] == list("ABCDEFGHIJ")
        assert len(schedule) == 1 and [p["from"] for p in schedule[0]["phases"]][:2] == ["2025-10-27", "2026-11-30"]


def test_admin_adds_a_vocabulary_visits_name_it(world: World) -> None:
    """A new vocabulary is pulled; a visit's hazards are checked against the vocabulary they name; keys never change."""
    key = f"council-{uuid.uuid4().hex[:6]}"
    body = {"key": key, "name": "Council extra hazards", "effective_from": "2026-12-01",
            "hazards": [{"name": "Overgrown trees", "group": "Outdoors"}], "bands": [{"band": "High", "category_1": True}, {"band": "Low", "category_1": False}]}
    created = world.portal.admin_post("hazard-vocabularies", body)
    assert created["key"] == key and created["version"] == 1
    again = world.portal.call("POST", "/admin/hazard-vocabularies", headers=world.portal.admin, json=body)
    assert again.status_code == 409
    changes, _ = world.portal.pull_all(world.auth["officer1"])
    assert any(c["entity"] == "hazard_vocabulary" and c["data"]["key"] == key for c in changes)
    hazards = [{"hazard": "Overgrown trees", "band": "High", "vocabulary": key}, {"hazard": "Excess cold", "band": None}]
    assert world.portal.push(world.auth["officer1"], [world.visit_op("officer1", "case1", hazards=hazards)])[0]["status"] == "applied"
    wrong = [{"hazard": "Overgrown trees", "band": "A"}, {"hazard": "Fire", "band": "High"}, {"hazard": "Fire", "band": "X", "vocabulary": "nope"}]
    result = world.portal.push(world.auth["officer1"], [world.visit_op("officer1", "case1", hazards=wrong)])[0]
    assert result["status"] == "rejected" and set(result["error"]["details"]["questions"]) == {"hazards.0", "hazards.1", "hazards.2"}


def test_phase_3_added_as_data_and_a_holiday_moves_deadlines(world: World) -> None:
    """PUT /admin/awaab-schedule brings a new hazard under the law; a council one-off day moves unmet working-day deadlines."""
    from portal.awaab import SHIPPED_SCHEDULE

    noise = _case(world, "noise", reported_hazards=["Noise"], opened_at="2026-12-01T09:00:00Z")
    assert noise["awaab"] is False
    phase_3 = {"phase": 3, "from": "2026-12-01", "significant_hazards": ["Noise"], "emergency": "all"}
    try:
        response = world.portal.call("PUT", "/admin/awaab-schedule", headers=world.portal.admin, json={"phases": [*SHIPPED_SCHEDULE["phases"], phase_3]})
        assert response.status_code == 200, response.text
        assert response.json()["cases_recomputed"] >= 1
        case = _get_case(world, "noise")
        assert case["awaab"] is True and "Phase 3" in _clock(case, "investigate")["basis"]
        assert _clock(case, "investigate")["due_at"] == "2026-12-15T23:59:59Z"
        bad = world.portal.call("PUT", "/admin/awaab-schedule", headers=world.portal.admin, json={"phases": [{"phase": 4, "from": "2027-02-30", "significant_hazards": ["Ghosts"]}]})
        assert bad.status_code == 422 and {"phases.0.from", "phases.0.significant_hazards"} <= set(bad.json()["error"]["details"]["fields"])
        day = world.portal.call("POST", "/admin/bank-holidays", headers=world.portal.admin, json={"date": "2026-12-11", "name": "Borough centenary"})
        assert day.status_code == 201, day.text
        assert _clock(_get_case(world, "noise"), "investigate")["due_at"] == "2026-12-16T23:59:59Z"
        listed = world.portal.call("GET", "/admin/bank-holidays", headers=world.portal.admin).json()["bank_holidays"]
        assert {"date": "2026-12-11", "name": "Borough centenary"} in listed
    finally:
        _restore_rules(world)


def _restore_rules(world: World) -> None:
    from sqlalchemy import delete

    from portal.awaab import SHIPPED_SCHEDULE
    from portal.models import CouncilHolidayRow

    with world.portal.db.write() as session:
        session.execute(delete(CouncilHolidayRow))
    world.portal.call("PUT", "/admin/awaab-schedule", headers=world.portal.admin, json=SHIPPED_SCHEDULE)


def test_rules_endpoints_are_for_admins(world: World) -> None:
    """Officers get 403 from the rules endpoints."""
    officer = world.auth["officer1"]
    assert world.portal.call("POST", "/admin/bank-holidays", headers=officer, json={"date": "2026-12-11", "name": "x"}).status_code == 403
    assert world.portal.call("PUT", "/admin/awaab-schedule", headers=officer, json={"phases": []}).status_code == 403


SHOW_REPEAT = {
    "name": "Damp survey", "version": 1, "case_types": ["damp_mould"],
    "sections": [
        {"id": "vent", "title": "Ventilation", "questions": [
            {"id": "fan", "label": "Extractor fan fitted", "kind": "yes_no", "required": True},
            {"id": "fan_works", "label": "Fan working", "kind": "yes_no", "required": True, "show_if": {"question_id": "fan", "equals": True}},
        ]},
        {"id": "rooms", "title": "Rooms", "repeat": True, "questions": [
            {"id": "room", "label": "Room", "kind": "text", "required": True},
            {"id": "rh", "label": "Humidity %", "kind": "number", "min": 0, "max": 100},
        ]},
    ],
}


def test_show_if_and_repeat_on_the_portal(world: World) -> None:
    """Hidden answers are not required and are dropped on submit; repeat answers are lists checked per room."""
    template = world.portal.admin_post("templates", SHOW_REPEAT)
    assert template["sections"][1]["repeat"] is True and template["sections"][0]["questions"][1]["show_if"] == {"question_id": "fan", "equals": True}
    answers = {"fan": False, "fan_works": True, "room": ["Kitchen", "Bathroom"], "rh": [55, None]}
    op = world.visit_op("officer1", "case1", template_id=template["id"], answers=answers)
    assert world.portal.push(world.auth["officer1"], [op])[0]["status"] == "applied"
    changes, _ = world.portal.pull_all(world.auth["officer1"])
    stored = next(c["data"] for c in changes if c["entity"] == "visit" and c["id"] == op["id"])
    assert stored["answers"] == {"fan": False, "room": ["Kitchen", "Bathroom"], "rh": [55, None]}
    bad = world.visit_op("officer1", "case1", template_id=template["id"], answers={"fan": True, "room": ["Kitchen", None], "rh": 55})
    result = world.portal.push(world.auth["officer1"], [bad])[0]
    assert result["status"] == "rejected" and set(result["error"]["details"]["questions"]) == {"fan_works", "room", "rh"}


def test_show_if_must_name_a_question(world: World) -> None:
    """A template whose show_if names no question of it, or an impossible value, is a 422."""
    broken = {**SHOW_REPEAT, "sections": [{"id": "s", "title": "S", "questions": [
        {"id": "a", "label": "A", "kind": "yes_no"},
        {"id": "b", "label": "B", "kind": "text", "show_if": {"question_id": "zzz", "equals": True}},
        {"id": "c", "label": "C", "kind": "text", "show_if": {"question_id": "a", "equals": "yes"}},
    ]}]}
    response = world.portal.call("POST", "/admin/templates", headers=world.portal.admin, json=broken)
    assert response.status_code == 422
    assert {"sections.0.questions.1.show_if.question_id", "sections.0.questions.2.show_if.equals"} <= set(response.json()["error"]["details"]["fields"])


def test_old_case_due_dates_survive(world: World) -> None:
    """A case given an explicit due_at and no hazards keeps it (its service date)."""
    due = format_timestamp(utc_now() + timedelta(days=3))
    assert _case(world, "given", due_at=due)["due_at"] == due


def test_written_summary_meets_the_summary_clock(world: World) -> None:
    """POST /admin/visits/{id}/summary-issued meets the case's summary clock at issued_at; the officer pulls the new case."""
    _case(world, "letter", reported_hazards=[DAMP], opened_at="2026-11-16T09:00:00Z")
    op = world.visit_op("officer1", "letter", completed_at="2026-11-18T14:00:00Z", assessment=ASSESSMENT)
    assert world.portal.push(world.auth["officer1"], [op])[0]["status"] == "applied"
    before = _get_case(world, "letter", "officer1")
    response = world.portal.call("POST", f"/admin/visits/{op['id']}/summary-issued", headers=world.portal.admin,
                                 json={"method": "post", "issued_at": "2026-11-19T11:00:00Z"})
    assert response.status_code in (200, 201), response.text
    after = _get_case(world, "letter", "officer1")
    assert _clock(after, "summary")["met_at"] == "2026-11-19T11:00:00Z" and after["version"] > before["version"]
    assert after["due_at"] == _clock(after, "safety_work")["due_at"]
