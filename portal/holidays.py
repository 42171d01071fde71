"""English bank holidays, read from ``portal/data/bank_holidays_england.json``.

The table is data, not rules: a one-off bank holiday (a coronation, a jubilee) is added
by editing the file. Dates outside the table's years raise, rather than silently
treating a holiday as a working day.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path

DATA_FILE = Path(__file__).resolve().parent / "data" / "bank_holidays_england.json"


class HolidayTable:
    """The bank holidays of England and Wales for the years the data covers."""

    def __init__(self, dates: frozenset[date], first_year: int, last_year: int) -> None:
        self.dates = dates
        self.first_year = first_year
        self.last_year = last_year

    def is_bank_holiday(self, day: date) -> bool:
        """True for an English bank holiday (substitute days included)."""
        if not self.first_year <= day.year <= self.last_year:
            raise ValueError(
                f"No bank holiday data for {day.year}; extend {DATA_FILE.name} "
                f"(covers {self.first_year}–{self.last_year})."
            )
        return day in self.dates

    def is_working_day(self, day: date) -> bool:
        """Monday to Friday and not a bank holiday."""
        return day.weekday() < 5 and not self.is_bank_holiday(day)

    def add_working_days(self, start: date, days: int) -> date:
        """The ``days``-th working day after ``start`` (``start`` itself never counts)."""
        day = start
        remaining = days
        while remaining > 0:
            day += timedelta(days=1)
            if self.is_working_day(day):
                remaining -= 1
        return day


@lru_cache(maxsize=1)
def england() -> HolidayTable:
    """The bundled table (read once)."""
    doc = json.loads(DATA_FILE.read_text(encoding="utf-8"))
    dates = frozenset(date.fromisoformat(event["date"]) for event in doc["events"])
    return HolidayTable(dates, int(doc["first_year"]), int(doc["last_year"]))
