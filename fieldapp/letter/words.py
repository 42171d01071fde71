"""Dates, deadlines and lists written the way a letter to a resident writes them (UK English)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from zoneinfo import ZoneInfo

from fieldapp.letter.facts import LetterStep

LONDON = ZoneInfo("Europe/London")
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
           "October", "November", "December")


def long_date(day: date) -> str:
    """'Tuesday 1 December 2026' (no leading zero, as letters write it)."""
    return f"{_WEEKDAYS[day.weekday()]} {day.day} {_MONTHS[day.month - 1]} {day.year}"


def local(moment: datetime) -> datetime:
    """The moment on the clocks of England, where the tenant reads the letter."""
    return moment.astimezone(LONDON)


def clock_time(moment: datetime) -> str:
    """'9:05am', '12:00pm', '4:30pm'."""
    hour = moment.hour % 12 or 12
    return f"{hour}:{moment.minute:02d}{'am' if moment.hour < 12 else 'pm'}"


def joined(names: Sequence[str]) -> str:
    """'A', 'A and B', 'A, B and C'."""
    if len(names) <= 1:
        return "".join(names)
    return f"{', '.join(names[:-1])} and {names[-1]}"


def deadline(step: LetterStep, *, emergency: bool) -> str:
    """When a step is done or due, in words; the statutory time while the portal has not set the date."""
    if step.met_at is not None:
        return f"Done on {long_date(local(step.met_at).date())}"
    if step.due_at is not None:
        due = local(step.due_at)
        # A working-day deadline ends at 23:59:59 London time: the day is what matters.
        if (due.hour, due.minute) == (23, 59):
            return f"By {long_date(due.date())}"
        return f"By {clock_time(due)} on {long_date(due.date())}"
    if step.stage == "safety_work" and emergency:
        return "Within 24 hours of when you told us"
    if step.stage == "supplementary_works":
        return "Within 12 weeks of the inspection"
    return "Within 5 working days of the inspection"
