"""The statutory clocks of a case (PROTOCOL.md revision 2, "Statutory clocks"), as a pure computation.

From the facts of a case (when the council became aware, its priority, the reported
hazards, the visit that concluded the investigation with its assessment), the phase
schedule and the working-day calendar, ``compute`` gives every clock:

- ``investigate``: emergency priority → 24 hours from ``aware_at``; a significant hazard
  in force at ``aware_at`` → 10 working days. Met by that visit's ``completed_at``.
- after the investigation (from its ``completed_at``): ``summary`` 3 working days (unless
  no hazard was found and the work is done); ``safety_work`` for an emergency or
  significant finding, 5 working days or 24 hours for an emergency; ``supplementary_start``
  5 working days and ``supplementary_works`` 12 weeks when supplementary work is listed.

A recomputation (re-triage, a new holiday, a changed schedule) replaces every unmet
clock; a met clock is kept as it was met. "24 hours" is 24 elapsed hours, across a
clock change too. A working-day or week deadline counts from the Europe/London date of
its start event (that day never counts) and ends 23:59:59 London time.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from portal.awaab import LONDON, in_force, london_day, phase_label
from portal.holidays import HolidayTable, is_beyond_published
from sync.protocol import Finding, format_timestamp, has_supplementary_work, needs_summary, parse_timestamp

STAGES: tuple[str, ...] = ("investigate", "summary", "safety_work", "supplementary_start", "supplementary_works")
EMERGENCY_HOURS = 24
INVESTIGATE_DAYS = 10
SUMMARY_DAYS = 3
SAFETY_DAYS = 5
SUPPLEMENTARY_START_DAYS = 5
SUPPLEMENTARY_WEEKS = 12


@dataclass(frozen=True)
class Investigation:
    """The visit that concluded the investigation: the first completed one with an assessment."""

    visit_id: str
    completed_at: datetime
    assessment: Mapping[str, Any]

    def to_json(self) -> dict[str, Any]:
        """As stored on the case."""
        return {"visit_id": self.visit_id, "completed_at": format_timestamp(self.completed_at), "assessment": dict(self.assessment)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> "Investigation | None":
        """From the stored form (None stays None)."""
        if not data:
            return None
        return cls(data["visit_id"], parse_timestamp(data["completed_at"]), data["assessment"])


@dataclass(frozen=True)
class CaseFacts:
    """What a case's clocks follow."""

    aware_at: datetime
    priority: str
    reported_hazards: tuple[str, ...]
    investigation: Investigation | None


@dataclass(frozen=True)
class Calendar:
    """Working days and the day the computation runs (for the note on years not yet published)."""

    holidays: HolidayTable
    today: date

    def after_working_days(self, start: datetime, days: int) -> tuple[datetime, str]:
        """End of the ``days``-th working day after the London date of ``start``, and any note."""
        last = self.holidays.add_working_days(london_day(start), days)
        return _end_of_day(last), self._note(last)

    def after_weeks(self, start: datetime, weeks: int) -> tuple[datetime, str]:
        """End of the day ``weeks`` weeks after the London date of ``start``."""
        return _end_of_day(london_day(start) + timedelta(weeks=weeks)), ""

    def _note(self, last: date) -> str:
        if is_beyond_published(last, self.today):
            return f" England's bank holidays for {last.year} follow the standing rules (none published yet)."
        return ""


def _end_of_day(day: date) -> datetime:
    return datetime.combine(day, time(23, 59, 59), tzinfo=LONDON).astimezone(timezone.utc)


def _clock(stage: str, due: datetime, basis: str, met_at: datetime | None = None) -> dict[str, Any]:
    return {"stage": stage, "due_at": format_timestamp(due), "met_at": format_timestamp(met_at) if met_at else None, "basis": basis}


def is_awaab(facts: CaseFacts, schedule: Mapping[str, Any]) -> bool:
    """Whether the case falls under the regulations (priority and reported hazards at ``aware_at``)."""
    return _investigate_rule(facts, schedule) is not None


def _investigate_rule(facts: CaseFacts, schedule: Mapping[str, Any]) -> tuple[str, Any] | None:
    """("emergency" | "significant", the phase), or None when the regulations do not apply."""
    covered = in_force(schedule, london_day(facts.aware_at))
    if facts.priority == "emergency":
        phase = covered.emergency_phase(facts.reported_hazards)
        if phase is not None:
            return "emergency", phase
    phase = covered.significant_phase(facts.reported_hazards)
    return ("significant", phase) if phase is not None else None


def _fresh_clocks(facts: CaseFacts, schedule: Mapping[str, Any], calendar: Calendar) -> list[dict[str, Any]]:
    rule = _investigate_rule(facts, schedule)
    if rule is None:
        return []
    kind, phase = rule
    investigation = facts.investigation
    met = investigation.completed_at if investigation else None
    clocks: list[dict[str, Any]] = []
    if kind == "emergency":
        clocks.append(_clock("investigate", facts.aware_at + timedelta(hours=EMERGENCY_HOURS),
                             f"Emergency hazard: investigate within 24 hours of the council becoming aware (Awaab's Law, {phase_label(phase)}).", met))
    else:
        named = sorted(h for h in facts.reported_hazards if h in in_force(schedule, london_day(facts.aware_at)).significant)
        due, note = calendar.after_working_days(facts.aware_at, INVESTIGATE_DAYS)
        clocks.append(_clock("investigate", due,
                             f"Significant hazard ({', '.join(named)}): investigate within 10 working days of the council becoming aware (Awaab's Law, {phase_label(phase)}).{note}", met))
    if investigation is None:
        return clocks
    concluded = investigation.completed_at
    assessment = investigation.assessment
    if needs_summary(assessment):
        due, note = calendar.after_working_days(concluded, SUMMARY_DAYS)
        clocks.append(_clock("summary", due, f"Written summary of the investigation to the tenant within 3 working days of it concluding.{note}"))
    finding = assessment.get("finding")
    if finding == Finding.EMERGENCY:
        # 24 hours from awareness; an emergency first found at the visit counts from the visit.
        start = facts.aware_at if kind == "emergency" else concluded
        clocks.append(_clock("safety_work", start + timedelta(hours=EMERGENCY_HOURS),
                             "Emergency hazard: make the home safe within 24 hours of the council becoming aware of the emergency."))
    elif finding == Finding.SIGNIFICANT:
        due, note = calendar.after_working_days(concluded, SAFETY_DAYS)
        clocks.append(_clock("safety_work", due, f"Significant hazard: safety work within 5 working days of the investigation concluding.{note}"))
    if has_supplementary_work(assessment):
        due, note = calendar.after_working_days(concluded, SUPPLEMENTARY_START_DAYS)
        clocks.append(_clock("supplementary_start", due, f"Supplementary work: take steps to begin it within 5 working days of the investigation concluding.{note}"))
        due, _ = calendar.after_weeks(concluded, SUPPLEMENTARY_WEEKS)
        clocks.append(_clock("supplementary_works", due, "Supplementary work: begin it within 12 weeks of the investigation concluding."))
    return clocks


def compute(
    facts: CaseFacts, schedule: Mapping[str, Any], calendar: Calendar, previous: Sequence[Mapping[str, Any]] = ()
) -> list[dict[str, Any]]:
    """Every clock of the case, in stage order: unmet ones recomputed, met ones as they were met."""
    kept = {c["stage"]: dict(c) for c in previous if c.get("met_at")}
    fresh = {c["stage"]: c for c in _fresh_clocks(facts, schedule, calendar)}
    return [kept.get(stage) or fresh[stage] for stage in STAGES if stage in kept or stage in fresh]


def mark_met(clocks: Sequence[Mapping[str, Any]], stage: str, at: datetime) -> list[dict[str, Any]]:
    """The clocks with ``stage`` met at ``at``; KeyError when the case has no such clock."""
    if not any(c["stage"] == stage for c in clocks):
        raise KeyError(stage)
    return [{**c, "met_at": format_timestamp(at)} if c["stage"] == stage else dict(c) for c in clocks]


def effective_due_at(clocks: Sequence[Mapping[str, Any]], service_due_at: str | None) -> str | None:
    """Revision 1's ``due_at``: the earliest unmet clock's ``due_at``, else the case's service date."""
    unmet = [parse_timestamp(c["due_at"]) for c in clocks if not c.get("met_at")]
    return format_timestamp(min(unmet)) if unmet else service_due_at


#: How a clock stands for the CRM's alerts and the compliance page: amber is one working day left or less.
MET, BREACHED, AMBER, RUNNING = "met", "breached", "amber", "running"


def working_days_left(holidays: HolidayTable, due_at: datetime, now: datetime) -> int:
    """Working days after today (London), up to and including the due day; 0 when due today or past."""
    today, due_day = london_day(now), london_day(due_at)
    return sum(1 for offset in range(1, (due_day - today).days + 1) if holidays.is_working_day(today + timedelta(days=offset)))


def clock_state(clock: Mapping[str, Any], now: datetime, holidays: HolidayTable) -> str:
    """``met``, ``breached`` (past due, unmet), ``amber`` (one working day left or less) or ``running``."""
    if clock.get("met_at"):
        return MET
    due = parse_timestamp(clock["due_at"])
    if due < now:
        return BREACHED
    return AMBER if working_days_left(holidays, due, now) <= 1 else RUNNING
