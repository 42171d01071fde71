"""Working days in England: weekends, England's bank holidays and the council's one-off days.

England's bank holidays come from the ``holidays`` package (its rules cover every year:
Easter, the substitute days when Christmas, Boxing Day or New Year fall on a weekend),
so no deadline in any year is out of range. The council's one-off days (a coronation or
a jubilee proclaimed after this release) are added by an admin and stored by the portal
(``POST /admin/bank-holidays``); the caller passes them in.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from functools import lru_cache

import holidays as holiday_rules


@lru_cache(maxsize=256)
def _england_year(year: int) -> frozenset[date]:
    # One year at a time: the package computes years lazily, and a cache keeps it cheap.
    return frozenset(holiday_rules.country_holidays("GB", subdiv="ENG", years=year))


@lru_cache(maxsize=4096)
def _add_working_days(extra_days: frozenset[date], start: date, days: int) -> date:
    table = HolidayTable(extra_days)
    day = start
    remaining = days
    while remaining > 0:
        day += timedelta(days=1)
        if table.is_working_day(day):
            remaining -= 1
    return day


class HolidayTable:
    """England's bank holidays plus extra one-off days."""

    def __init__(self, extra_days: Iterable[date] = ()) -> None:
        self.extra_days = frozenset(extra_days)

    def is_bank_holiday(self, day: date) -> bool:
        """True for an English bank holiday (substitute days included) or a one-off day."""
        return day in self.extra_days or day in _england_year(day.year)

    def is_working_day(self, day: date) -> bool:
        """Monday to Friday and not a holiday."""
        return day.weekday() < 5 and not self.is_bank_holiday(day)

    def add_working_days(self, start: date, days: int) -> date:
        """The ``days``-th working day after ``start`` (``start`` itself never counts)."""
        # Cached: a case import derives thousands of deadlines from a few dozen start days.
        return _add_working_days(self.extra_days, start, days)

    def dates_in(self, year: int) -> frozenset[date]:
        """Every holiday of a year."""
        return _england_year(year) | {d for d in self.extra_days if d.year == year}


def england(extra_days: Iterable[date] = ()) -> HolidayTable:
    """England's bank holidays, with the council's one-off days when given."""
    return HolidayTable(extra_days)


def is_beyond_published(day: date, today: date) -> bool:
    """Whether GOV.UK is unlikely to have published this year's dates yet (over a year ahead).

    Such years follow England's standing rules; a clock's basis says so, since a one-off
    day could still be proclaimed.
    """
    return day.year > today.year + 1
