"""Awaab's Law due dates: 24 hours for emergencies, working days that skip weekends and English bank holidays."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from portal.duedates import WORKING_DAYS, due_at
from portal.holidays import england
from sync.protocol import CaseType, Priority

UTC = timezone.utc


def _due_day(case_type: str, priority: str, opened: datetime) -> date:
    moment = due_at(case_type, priority, opened)
    return moment.date()


def test_emergency_is_24_hours_even_over_a_bank_holiday() -> None:
    """An emergency opened on Christmas Eve afternoon is due 24 hours later, holiday or not."""
    opened = datetime(2026, 12, 24, 15, 30, tzinfo=UTC)
    assert due_at("damp_mould", "emergency", opened) == datetime(2026, 12, 25, 15, 30, tzinfo=UTC)
    assert due_at("repair", "emergency", opened) == datetime(2026, 12, 25, 15, 30, tzinfo=UTC)


def test_damp_mould_is_ten_working_days_ending_at_close_of_day() -> None:
    """Damp and mould opened Monday 2 March 2026 is due at the end of Monday 16 March (London time, GMT then)."""
    opened = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    assert due_at("damp_mould", "routine", opened) == datetime(2026, 3, 16, 23, 59, 59, tzinfo=UTC)
    assert due_at("damp_mould", "urgent", opened) == datetime(2026, 3, 16, 23, 59, 59, tzinfo=UTC)


def test_end_of_day_follows_british_summer_time() -> None:
    """In summer the end of the working day is 22:59:59 UTC."""
    opened = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
    assert due_at("repair", "urgent", opened) == datetime(2026, 6, 8, 22, 59, 59, tzinfo=UTC)


def test_friday_skips_the_weekend() -> None:
    """A case opened on a Friday counts from Monday: 5 working days end the next Friday."""
    assert _due_day("repair", "urgent", datetime(2026, 3, 6, 16, 0, tzinfo=UTC)) == date(2026, 3, 13)


def test_bank_holiday_monday_is_skipped() -> None:
    """Opened the Friday before the late-May bank holiday: Monday 25 May 2026 does not count."""
    assert _due_day("repair", "urgent", datetime(2026, 5, 22, 10, 0, tzinfo=UTC)) == date(2026, 6, 1)


def test_easter_skips_good_friday_and_easter_monday() -> None:
    """Opened Thursday 2 April 2026: Good Friday 3 and Easter Monday 6 April are skipped."""
    assert _due_day("repair", "urgent", datetime(2026, 4, 2, 10, 0, tzinfo=UTC)) == date(2026, 4, 13)


def test_christmas_substitute_days() -> None:
    """Boxing Day 2026 falls on a Saturday, so Monday 28 December is the substitute holiday."""
    table = england()
    assert table.is_bank_holiday(date(2026, 12, 28)) and not table.is_working_day(date(2026, 12, 28))
    # Opened Thursday 24 December 2026: 25th, weekend, 28th, and 1 January are skipped.
    assert _due_day("repair", "urgent", datetime(2026, 12, 24, 10, 0, tzinfo=UTC)) == date(2027, 1, 5)


def test_christmas_on_saturday_substitutes_monday_and_tuesday() -> None:
    """In 2027 Christmas is a Saturday: Monday 27 and Tuesday 28 December are the holidays."""
    table = england()
    assert table.is_bank_holiday(date(2027, 12, 27)) and table.is_bank_holiday(date(2027, 12, 28))
    assert table.add_working_days(date(2027, 12, 24), 1) == date(2027, 12, 29)


def test_holiday_table_matches_known_years() -> None:
    """The holidays package gives the published 2025 England bank holidays."""
    published = {date(2025, 1, 1), date(2025, 4, 18), date(2025, 4, 21), date(2025, 5, 5), date(2025, 5, 26),
                 date(2025, 8, 25), date(2025, 12, 25), date(2025, 12, 26)}
    assert set(england().dates_in(2025)) == published


def test_years_after_2030_have_holidays() -> None:
    """No year is out of range: 2031 and 2040 follow England's standing rules (2 Jan 2040 is New Year's substitute)."""
    assert england().is_bank_holiday(date(2031, 4, 14)) and england().is_working_day(date(2031, 1, 2))
    assert england().is_bank_holiday(date(2040, 1, 2))


@pytest.mark.parametrize("case_type,priority", sorted(WORKING_DAYS))
def test_every_rule_lands_on_a_working_day(case_type: str, priority: str) -> None:
    """Each non-emergency rule ends on a working day after the opening day."""
    opened = datetime(2026, 12, 23, 12, 0, tzinfo=UTC)
    day = _due_day(case_type, priority, opened)
    assert england().is_working_day(day) and day > opened.date()


def test_working_days_are_the_documented_table() -> None:
    """The rule table is the one the module's docstring documents (damp and mould by Awaab's Law: 10 and 10)."""
    import portal.duedates

    documented = {(CaseType.DAMP_MOULD, Priority.URGENT): 10, (CaseType.DAMP_MOULD, Priority.ROUTINE): 10}
    for line in (portal.duedates.__doc__ or "").splitlines():
        cells = line.split()
        if len(cells) == 3 and cells[0] in set(CaseType) and cells[1].isdigit():
            documented[(CaseType(cells[0]), Priority.URGENT)] = int(cells[1])
            documented[(CaseType(cells[0]), Priority.ROUTINE)] = int(cells[2])
    assert WORKING_DAYS == documented and len(documented) == 12
