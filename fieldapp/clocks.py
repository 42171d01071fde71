"""The statutory clocks of a case as the laptop shows them: stage names, time left, amber and red.

The portal is the authority for every deadline (PROTOCOL.md revision 2, "Statutory
clocks"): the laptop never computes a ``due_at``, it only words the time left and
decides how loudly to show it. "Amber" is one working day left or less; the laptop
counts working days from the due date with weekends only, because bank holidays
are the portal's data (a holiday makes a clock look amber a day early, never late).
Days and times are those of Europe/London, where the regulations apply.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from fieldapp.clock import as_utc, parse_optional
from fieldapp.types import Clock, counted

LONDON = ZoneInfo("Europe/London")

#: Each stage in plain English, in the order the law runs them.
STAGE_TEXT: dict[str, str] = {
    "investigate": "Investigate the hazard",
    "summary": "Written summary to the tenant",
    "safety_work": "Make the home safe (safety work)",
    "supplementary_start": "Take steps to begin further work",
    "supplementary_works": "Start the further (supplementary) work",
}


#: Each stage in a word or two, where a list has little room.
STAGE_SHORT: dict[str, str] = {
    "investigate": "Investigate",
    "summary": "Summary",
    "safety_work": "Safety work",
    "supplementary_start": "Further work: steps",
    "supplementary_works": "Further work: start",
}


class ClockState(StrEnum):
    """How a clock stands, and so how loudly it is shown."""

    MET = "met"
    BREACHED = "breached"   # red
    AMBER = "amber"         # one working day left or less
    RUNNING = "running"
    UNKNOWN = "unknown"     # no due date from the portal


def stage_text(stage: str) -> str:
    """The stage's plain-English name (an unknown stage of a newer portal is shown as its words)."""
    return STAGE_TEXT.get(stage, stage.replace("_", " ").capitalize())


def clocks_of(raw: Iterable[Mapping[str, Any]]) -> tuple[Clock, ...]:
    """Stored clock dicts as records."""
    return tuple(Clock(stage=str(c.get("stage", "")), due_at=parse_optional(c.get("due_at")),
                       met_at=parse_optional(c.get("met_at")), basis=str(c.get("basis") or "")) for c in raw)


def nearest_unmet(clocks: Sequence[Clock]) -> Clock | None:
    """The unmet clock that runs out first (clocks without a due date last), or None."""
    unmet = [c for c in clocks if not c.met]
    return min(unmet, key=clock_order) if unmet else None


def clock_order(clock: Clock | None) -> tuple[bool, float]:
    """A sort key: soonest due first, clocks without a due date (and no clock at all) last."""
    if clock is None or clock.due_at is None:
        return (True, 0.0)
    return (False, clock.due_at.timestamp())


def london_date(moment: datetime) -> date:
    """The Europe/London calendar date of an instant."""
    return as_utc(moment).astimezone(LONDON).date()


def working_days_left(due_at: datetime, now: datetime) -> int:
    """Working days (Monday to Friday) after today, up to and including the due day; 0 when due today or past."""
    today, due_day = london_date(now), london_date(due_at)
    if due_day <= today:
        return 0
    whole_weeks, rest = divmod((due_day - today).days, 7)
    count = whole_weeks * 5
    day = today + timedelta(days=whole_weeks * 7)
    for _ in range(rest):
        day += timedelta(days=1)
        count += day.weekday() < 5
    return count


def clock_state(clock: Clock, now: datetime) -> ClockState:
    """Met, breached (red), amber (one working day left or less), running, or unknown."""
    if clock.met:
        return ClockState.MET
    if clock.due_at is None:
        return ClockState.UNKNOWN
    if as_utc(clock.due_at) < as_utc(now):
        return ClockState.BREACHED
    return ClockState.AMBER if working_days_left(clock.due_at, now) <= 1 else ClockState.RUNNING


def london_text(moment: datetime | None) -> str:
    """A date and time as a person in England reads it ("Tue 08 Dec 2026 23:59"), or a dash."""
    return as_utc(moment).astimezone(LONDON).strftime("%a %d %b %Y %H:%M") if moment else "—"


def _span(seconds: float) -> str:
    """A length of time in the largest unit that reads naturally ("3 days", "5 h", "40 min")."""
    seconds = max(0, int(seconds))
    if seconds >= 2 * 86400:
        return f"{seconds // 86400} days"
    if seconds >= 3600:
        return f"{seconds // 3600} h"
    return f"{max(1, seconds // 60)} min"


@dataclass(frozen=True)
class _Wording:
    """The words of one way of telling how a clock stands (a sentence, or a narrow column)."""

    met: Callable[[Clock], str]
    unknown: str
    late: str  # with {} for how long ago
    day: str


_SENTENCE = _Wording(lambda c: f"Met {london_text(c.met_at)}", "No deadline from the portal yet", "Breached {} ago",
                     "working day")
_COLUMN = _Wording(lambda c: "Met", "No deadline yet", "{} late", "work day")


def _left_text(clock: Clock, now: datetime, words: _Wording) -> str:
    state = clock_state(clock, now)
    if state == ClockState.MET:
        return words.met(clock)
    if state == ClockState.UNKNOWN or clock.due_at is None:
        return words.unknown
    left = (as_utc(clock.due_at) - as_utc(now)).total_seconds()
    if state == ClockState.BREACHED:
        return words.late.format(_span(-left))
    days = working_days_left(clock.due_at, now)
    if left < 86400 or days == 0:
        return f"{_span(left)} left"
    return counted(days, words.day, "left")


def time_left_text(clock: Clock, now: datetime) -> str:
    """How the clock stands in a few words: "Met …", "Breached 2 days ago", "5 h left", "3 working days left"."""
    return _left_text(clock, now, _SENTENCE)


def short_left_text(clock: Clock, now: datetime) -> str:
    """`time_left_text` for a narrow list column: "30 h late", "19 h left", "7 work days left"."""
    return _left_text(clock, now, _COLUMN)
