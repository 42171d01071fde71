"""How the laptop words and colours a statutory clock: working days left, amber, red, Europe/London."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from fieldapp.clocks import ClockState, clock_state, london_text, nearest_unmet, stage_text, time_left_text, working_days_left
from fieldapp.types import Clock

UTC = timezone.utc


def at(text: str) -> datetime:
    """A UTC instant from ``YYYY-MM-DD HH:MM``."""
    return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=UTC)


@pytest.mark.parametrize(("now", "due", "left"), [
    ("2026-12-02 10:00", "2026-12-02 23:59", 0),    # Wednesday, due today
    ("2026-12-02 10:00", "2026-12-03 23:59", 1),    # due tomorrow
    ("2026-12-04 10:00", "2026-12-07 23:59", 1),    # Friday → Monday: the weekend does not count
    ("2026-12-05 10:00", "2026-12-07 23:59", 1),    # Saturday → Monday
    ("2026-12-03 10:00", "2026-12-07 23:59", 2),    # Thursday → Monday
    ("2026-12-01 10:00", "2026-12-15 23:59", 10),   # two whole weeks
    ("2026-12-02 10:00", "2026-12-01 23:59", 0),    # past
    ("2027-03-27 23:30", "2027-03-29 22:59", 1),    # across the spring clock change (London dates)
])
def test_working_days_left(now: str, due: str, left: int) -> None:
    """Working days after today up to the due day, weekends skipped, days as London reckons them."""
    assert working_days_left(at(due), at(now)) == left


def test_a_deadline_at_london_midnight_in_summer_is_the_london_day() -> None:
    """23:59:59 London in June is 22:59:59 UTC of the same day: it counts as that day, not the next."""
    due = datetime(2027, 6, 8, 22, 59, 59, tzinfo=UTC)    # Tuesday 23:59:59 BST
    assert working_days_left(due, at("2027-06-07 09:00")) == 1
    assert london_text(due) == "Tue 08 Jun 2027 23:59"


@pytest.mark.parametrize(("now", "due", "met", "state"), [
    ("2026-12-02 10:00", "2026-12-10 23:59", None, ClockState.RUNNING),
    ("2026-12-02 10:00", "2026-12-03 23:59", None, ClockState.AMBER),
    ("2026-12-04 10:00", "2026-12-07 23:59", None, ClockState.AMBER),
    ("2026-12-03 10:00", "2026-12-07 23:59", None, ClockState.RUNNING),
    ("2026-12-08 00:00", "2026-12-07 23:59", None, ClockState.BREACHED),
    ("2026-12-08 00:00", "2026-12-07 23:59", "2026-12-06 12:00", ClockState.MET),
])
def test_clock_state(now: str, due: str, met: str | None, state: ClockState) -> None:
    """Amber with one working day left or less, red once breached, met whatever the time."""
    clock = Clock("investigate", at(due), at(met) if met else None)
    assert clock_state(clock, at(now)) == state


def test_time_left_wording() -> None:
    """Hours under a day, working days beyond; breaches say how long ago; met says when."""
    now = at("2026-12-02 10:00")
    assert time_left_text(Clock("investigate", at("2026-12-02 15:30"), None), now) == "5 h left"
    assert time_left_text(Clock("investigate", at("2026-12-09 23:59"), None), now) == "5 working days left"
    assert time_left_text(Clock("investigate", at("2026-11-29 09:00"), None), now) == "Breached 3 days ago"
    assert time_left_text(Clock("summary", at("2026-12-09 23:59"), at("2026-12-01 09:00")), now) == \
        "Met Tue 01 Dec 2026 09:00"
    assert time_left_text(Clock("summary", None, None), now) == "No deadline from the portal yet"


def test_nearest_unmet_and_stage_names() -> None:
    """The unmet clock due first is the nearest; every stage has plain words, an unknown one its own."""
    clocks = (Clock("investigate", at("2026-12-01 10:00"), at("2026-12-01 09:00")),
              Clock("summary", at("2026-12-09 23:59"), None), Clock("safety_work", at("2026-12-08 23:59"), None),
              Clock("supplementary_works", None, None))
    assert nearest_unmet(clocks).stage == "safety_work"
    assert nearest_unmet(clocks[:1]) is None
    assert stage_text("safety_work") == "Make the home safe (safety work)"
    assert stage_text("new_stage") == "New stage"


def test_short_wording_for_the_case_list() -> None:
    """The case list's narrow column: late, hours left, work days left."""
    from fieldapp.clocks import short_left_text

    now = at("2026-12-02 10:00")
    assert short_left_text(Clock("investigate", at("2026-12-01 04:00"), None), now) == "30 h late"
    assert short_left_text(Clock("investigate", at("2026-12-02 15:30"), None), now) == "5 h left"
    assert short_left_text(Clock("investigate", at("2026-12-09 23:59"), None), now) == "5 work days left"
    assert short_left_text(Clock("investigate", at("2026-12-09 23:59"), at("2026-12-01 09:00")), now) == "Met"
