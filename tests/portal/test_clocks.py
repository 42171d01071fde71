"""Statutory clocks as a pure computation: table-driven deadlines over weekends, holidays, clock changes and phases."""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any

import pytest

from portal.awaab import SHIPPED_SCHEDULE, is_awaab
from portal.clocks import Calendar, CaseFacts, Investigation, compute, effective_due_at, mark_met
from portal.holidays import england

UTC = timezone.utc
CAL = Calendar(england(), date(2026, 12, 1))
DAMP = "Damp and mould growth"
ASSESSED = {"finding": "significant", "hazards": [DAMP], "reasons": "Baby with asthma", "household_factors": [],
            "make_safe_done": False, "safety_work": "Treat mould", "supplementary_work": None, "alternative_accommodation": False}


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def _clocks(aware: str, priority: str = "routine", hazards: tuple[str, ...] = (DAMP,), visit: Investigation | None = None,
            calendar: Calendar = CAL, previous: list[dict[str, Any]] | None = None) -> dict[str, dict[str, Any]]:
    facts = CaseFacts(_at(aware), priority, hazards, visit)
    return {c["stage"]: c for c in compute(facts, SHIPPED_SCHEDULE, calendar, previous or [])}


@pytest.mark.parametrize(
    ("why", "aware", "priority", "hazards", "due"),
    [
        ("24 h across the March clock change (BST starts 29 Mar 2026)", "2026-03-28T12:00:00Z", "emergency", (), "2026-03-29T12:00:00Z"),
        ("24 h across the October clock change (GMT from 25 Oct 2026)", "2026-10-24T23:30:00Z", "emergency", (), "2026-10-25T23:30:00Z"),
        ("24 h over Christmas Day", "2026-12-24T15:30:00Z", "emergency", ("Fire",), "2026-12-25T15:30:00Z"),
        ("a weekend never counts", "2026-03-06T16:00:00Z", "routine", (DAMP,), "2026-03-20T23:59:59Z"),
        ("Easter: Good Friday and Easter Monday skipped, BST end of day", "2026-03-27T10:00:00Z", "urgent", (DAMP,), "2026-04-14T22:59:59Z"),
        ("counted from the London date (00:30 BST is the next day)", "2026-06-01T23:30:00Z", "routine", (DAMP,), "2026-06-16T22:59:59Z"),
        ("Christmas: 25th, Boxing Day substitute 28th and 1 January skipped", "2026-12-24T10:00:00Z", "routine", (DAMP,), "2027-01-12T23:59:59Z"),
        ("Christmas 2027 on a Saturday: 27 and 28 December substitutes", "2027-12-23T10:00:00Z", "routine", (DAMP,), "2028-01-11T23:59:59Z"),
        ("New Year 2028 on a Saturday: Monday 3 January substitute", "2027-12-31T10:00:00Z", "routine", (DAMP,), "2028-01-17T23:59:59Z"),
        ("Phase 2 start day itself: excess cold, 10 working days", "2026-11-30T00:00:00Z", "routine", ("Excess cold",), "2026-12-14T23:59:59Z"),
        ("Phase 2: a broken stair handrail (falls on stairs)", "2026-12-01T09:00:00Z", "urgent", ("Falls on stairs",), "2026-12-15T23:59:59Z"),
        ("2031: Easter after the old table's end", "2031-04-10T09:00:00Z", "routine", (DAMP,), "2031-04-28T22:59:59Z"),
        ("2040: New Year's Day on a Sunday, Monday 2 January substitute", "2039-12-30T09:00:00Z", "routine", (DAMP,), "2040-01-16T23:59:59Z"),
    ],
)
def test_investigate_deadline(why: str, aware: str, priority: str, hazards: tuple[str, ...], due: str) -> None:
    """The investigate clock lands where the regulations put it."""
    clock = _clocks(aware, priority, hazards)["investigate"]
    assert clock["due_at"] == due, why
    assert clock["met_at"] is None and clock["basis"]


@pytest.mark.parametrize(
    ("aware", "priority", "hazards", "awaab"),
    [
        ("2026-11-29T23:59:59Z", "routine", ("Excess cold",), False),   # the day before Phase 2
        ("2026-11-30T00:00:00Z", "routine", ("Excess cold",), True),
        ("2026-11-30T09:00:00Z", "routine", ("Noise",), False),         # in no phase
        ("2026-11-30T09:00:00Z", "routine", (), False),                 # nothing reported
        ("2026-11-30T09:00:00Z", "emergency", (), True),                # every emergency hazard
        ("2025-10-26T12:00:00Z", "emergency", (DAMP,), False),          # before Phase 1
        ("2025-10-27T00:00:00Z", "urgent", (DAMP,), True),
    ],
)
def test_which_cases_are_under_the_regulations(aware: str, priority: str, hazards: tuple[str, ...], awaab: bool) -> None:
    """Priority and reported hazards against the schedule in force at aware_at decide it."""
    assert is_awaab(SHIPPED_SCHEDULE, _at(aware), priority, hazards) is awaab
    assert bool(_clocks(aware, priority, hazards)) is awaab


def test_years_after_published_say_so_in_the_basis() -> None:
    """A deadline in a year whose holidays are not published yet names the rule it used."""
    assert "standing rules" in _clocks("2040-03-01T09:00:00Z")["investigate"]["basis"]
    assert "standing rules" not in _clocks("2026-12-01T09:00:00Z")["investigate"]["basis"]


def test_council_one_off_day_is_not_a_working_day() -> None:
    """A council's one-off day pushes a working-day deadline by a day."""
    plain = _clocks("2026-12-01T09:00:00Z")["investigate"]["due_at"]
    extra = _clocks("2026-12-01T09:00:00Z", calendar=Calendar(england([date(2026, 12, 4)]), date(2026, 12, 1)))["investigate"]["due_at"]
    assert (plain, extra) == ("2026-12-15T23:59:59Z", "2026-12-16T23:59:59Z")


def test_clocks_after_the_investigation() -> None:
    """A significant finding with supplementary work: summary 3, safety 5, supplementary 5 working days and 12 weeks."""
    visit = Investigation("v1", _at("2026-12-03T14:00:00Z"), {**ASSESSED, "supplementary_work": "Replace windows"})
    clocks = _clocks("2026-12-01T09:00:00Z", visit=visit)
    assert list(clocks) == ["investigate", "summary", "safety_work", "supplementary_start", "supplementary_works"]
    assert clocks["investigate"]["met_at"] == "2026-12-03T14:00:00Z"
    assert clocks["summary"]["due_at"] == "2026-12-08T23:59:59Z"
    assert clocks["safety_work"]["due_at"] == "2026-12-10T23:59:59Z"
    assert clocks["supplementary_start"]["due_at"] == "2026-12-10T23:59:59Z"
    assert clocks["supplementary_works"]["due_at"] == "2027-02-25T23:59:59Z"


def test_emergency_make_safe_is_24_hours_from_awareness() -> None:
    """An emergency case's safety work is due 24 hours after aware_at; one first found at a visit, 24 hours after it."""
    finding = {**ASSESSED, "finding": "emergency"}
    emergency = _clocks("2026-12-01T09:00:00Z", "emergency", visit=Investigation("v", _at("2026-12-01T15:00:00Z"), finding))
    assert emergency["safety_work"]["due_at"] == "2026-12-02T09:00:00Z"
    found = _clocks("2026-12-01T09:00:00Z", "routine", visit=Investigation("v", _at("2026-12-04T15:00:00Z"), finding))
    assert found["safety_work"]["due_at"] == "2026-12-05T15:00:00Z"


def test_no_hazard_with_work_done_needs_no_summary() -> None:
    """No hazard found and nothing outstanding: no summary and no safety clock."""
    finding = {"finding": "no_hazard", "hazards": [], "reasons": "", "safety_work": "", "supplementary_work": None}
    clocks = _clocks("2026-12-01T09:00:00Z", visit=Investigation("v", _at("2026-12-02T10:00:00Z"), finding))
    assert list(clocks) == ["investigate"]


def test_recompute_keeps_met_clocks() -> None:
    """Re-triage to emergency moves the unmet clock; a met clock keeps its met_at and deadline."""
    before = list(_clocks("2026-12-01T09:00:00Z").values())
    retriaged = _clocks("2026-12-01T09:00:00Z", "emergency", previous=before)
    assert retriaged["investigate"]["due_at"] == "2026-12-02T09:00:00Z"
    met = mark_met(before, "investigate", _at("2026-12-01T12:00:00Z"))
    kept = _clocks("2026-12-01T09:00:00Z", "emergency", previous=met)["investigate"]
    assert kept == met[0]


def test_due_at_is_the_earliest_unmet_clock_else_the_service_date() -> None:
    """Revision 1's due_at follows the nearest unmet clock, and the service date once all are met."""
    visit = Investigation("v1", _at("2026-12-03T14:00:00Z"), ASSESSED)
    clocks = list(_clocks("2026-12-01T09:00:00Z", visit=visit).values())
    assert effective_due_at(clocks, "2027-01-01T00:00:00Z") == "2026-12-08T23:59:59Z"
    done = mark_met(mark_met(clocks, "summary", _at("2026-12-04T10:00:00Z")), "safety_work", _at("2026-12-05T10:00:00Z"))
    assert effective_due_at(done, "2027-01-01T00:00:00Z") == "2027-01-01T00:00:00Z"
