"""Keeping each case's statutory clocks current, inside the write transaction that changes them.

``refresh_clocks`` recomputes a case's clocks (portal/clocks.py) from its facts, the
stored phase schedule and the working-day calendar (England's bank holidays and the
council's one-off days); ``meet_clock`` marks one met (the CRM's ``clocks_met``, the
written summary). Whoever changes a case's clocks advances its version and seq
(``bump``), so every holder pulls the new deadlines.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.awaab import SHIPPED_SCHEDULE, london_day
from portal.clocks import Calendar, CaseFacts, Investigation, compute, effective_due_at, is_awaab, mark_met
from portal.holidays import england
from portal.models import AwaabScheduleRow, CaseRow, CouncilHolidayRow, HazardVocabularyRow
from portal.services.sequence import next_seq
from sync.protocol import parse_timestamp, utc_now

#: The id of the one ``awaab_schedule`` record (fixed, so every portal agrees on it).
SCHEDULE_ID = "6f1d0c5e-4b8a-5e1f-9a37-0d2b8f6c1a01"


def schedule(session: Session) -> dict[str, Any]:
    """The stored phase schedule (the shipped one until the first migration stored it)."""
    row = session.get(AwaabScheduleRow, SCHEDULE_ID)
    return row.data() if row is not None else SHIPPED_SCHEDULE


def calendar(session: Session) -> Calendar:
    """Working days: England's bank holidays plus the council's stored one-off days."""
    days = [date.fromisoformat(d) for d in session.scalars(select(CouncilHolidayRow.day))]
    return Calendar(england(days), london_day(utc_now()))


def locked_with_plan(session: Session, case_id: str) -> tuple[Any, tuple[dict[str, Any], Calendar]] | None:
    """The case's row under a row lock, with the schedule and the calendar its clocks follow; None: no such case.

    One statement, where three (lock, schedule, council days) cost a visit submit three
    round trips to the database on its hot path. Read after the lock, like ``calendar``.
    """
    cases = CaseRow.__table__
    agg = func.json_agg if session.get_bind().dialect.name == "postgresql" else func.json_group_array
    phases = select(AwaabScheduleRow.phases).where(AwaabScheduleRow.id == SCHEDULE_ID).scalar_subquery()
    days = select(agg(CouncilHolidayRow.day)).scalar_subquery()
    row = session.execute(
        select(cases, phases.label("schedule_phases"), days.label("council_days"))
        .where(cases.c.id == case_id).with_for_update(of=cases)
    ).first()
    if row is None:
        return None
    rules = {"phases": row.schedule_phases} if row.schedule_phases is not None else SHIPPED_SCHEDULE
    listed = row.council_days if not isinstance(row.council_days, str) else json.loads(row.council_days)
    days_off = [date.fromisoformat(d) for d in listed or ()]
    return row, (rules, Calendar(england(days_off), london_day(utc_now())))


def vocabularies(session: Session) -> dict[str, dict[str, Any]]:
    """Every stored hazard vocabulary by key."""
    return {row.key: row.data() for row in session.scalars(select(HazardVocabularyRow))}


def known_hazards(session: Session) -> frozenset[str]:
    """Hazard names of any stored vocabulary (what reported hazards and schedules may name)."""
    return frozenset(h["name"] for row in session.scalars(select(HazardVocabularyRow)) for h in row.hazards)


def facts(case: Any, investigation: Investigation | None = None) -> CaseFacts:
    """What the clocks of a case (ORM object or row) follow; ``investigation`` replaces the stored one."""
    return CaseFacts(
        aware_at=parse_timestamp(case.aware_at or case.opened_at),
        priority=case.priority,
        reported_hazards=tuple(case.reported_hazards or ()),
        investigation=investigation or Investigation.from_json(case.investigation),
    )


def applies(session: Session, case: CaseRow) -> bool:
    """Whether the case is under the regulations by the stored schedule."""
    return is_awaab(facts(case), schedule(session))


def refresh_clocks(session: Session, case: CaseRow, *, plan: tuple[dict[str, Any], Calendar] | None = None) -> bool:
    """Recompute every unmet clock, ``awaab`` and ``due_at``; True when anything changed.

    ``plan`` (schedule, calendar) saves reading them again when many cases are refreshed.
    The caller bumps the case when this says it changed (unless it bumps anyway).
    """
    derived = derive(session, case, plan=plan)
    changed = (derived["clocks"], derived["awaab"], derived["due_at"]) != (list(case.clocks or []), bool(case.awaab), case.due_at)
    case.clocks, case.awaab, case.due_at = derived["clocks"], derived["awaab"], derived["due_at"]
    return changed


def derive(session: Session, case: Any, *, plan: tuple[dict[str, Any], Calendar] | None = None) -> dict[str, Any]:
    """A case's ``clocks``, ``awaab`` and ``due_at`` from its facts (an ORM object or anything with its attributes)."""
    rules, days = plan or (schedule(session), calendar(session))
    case_facts = facts(case)
    clocks = compute(case_facts, rules, days, case.clocks or [])
    return {"clocks": clocks, "awaab": is_awaab(case_facts, rules), "due_at": effective_due_at(clocks, case.service_due_at)}


def _concluded_at(completed_at: str | None, received: datetime) -> datetime:
    """When the investigation concluded: the visit's ``completed_at``, never later than its arrival."""
    try:
        moment = parse_timestamp(completed_at) if completed_at else received
    except ValueError:
        moment = received
    return min(moment, received)


def investigation_values(
    session: Session, case: Any, visit_id: str, amends: str | None, document: dict[str, Any], received: datetime,
    *, plan: tuple[dict[str, Any], Calendar] | None = None,
) -> dict[str, Any] | None:
    """The case's new clock columns when this completed, assessed visit concludes (or revises) the investigation.

    ``case`` is the case's row, read under a row lock. The first such visit of the case
    concludes the investigation (``investigate`` is met at its ``completed_at``); a
    resubmission or amendment of that visit revises the later clocks; any other visit
    changes nothing (None). ``plan`` (schedule, calendar) as ``locked_with_plan`` read them.
    """
    current = Investigation.from_json(case.investigation)
    if current is not None and current.visit_id not in (visit_id, amends):
        return None
    investigation = Investigation(visit_id, _concluded_at(document.get("completed_at"), received), document["assessment"])
    case_facts = facts(case, investigation)
    rules, days = plan or (schedule(session), calendar(session))
    clocks = compute(case_facts, rules, days, case.clocks or [])
    return {
        "investigation": investigation.to_json(), "clocks": clocks, "awaab": is_awaab(case_facts, rules),
        "due_at": effective_due_at(clocks, case.service_due_at),
    }


def meet_clock(session: Session, case: CaseRow, stage: str, at: datetime) -> bool:
    """Mark a clock of the case met at ``at`` and bump the case; False when it has no such clock.

    For the CRM's ``clocks_met`` and the tenant's written summary (``summary_issued``).
    """
    try:
        clocks = mark_met(case.clocks or [], stage, at)
    except KeyError:
        return False
    case.clocks = clocks
    case.due_at = effective_due_at(clocks, case.service_due_at)
    bump(session, case)
    return True


def bump(session: Session, case: CaseRow) -> None:
    """A new version and seq for a changed case (its holders pull it)."""
    case.version += 1
    case.seq = next_seq(session)


def refresh_open_cases(session: Session) -> int:
    """Recompute the clocks of every open case (after a new holiday or schedule); how many changed."""
    plan = (schedule(session), calendar(session))
    changed = 0
    for case in session.scalars(select(CaseRow).where(CaseRow.status != "closed", CaseRow.purged.is_(False))):
        if refresh_clocks(session, case, plan=plan):
            bump(session, case)
            changed += 1
    return changed
