"""The compliance page: the open cases the caller reaches, by how their nearest statutory clock stands.

A case's standing is that of its nearest unmet clock (``portal.web.standing``: the
portal's rule, as the CRM's clock alerts): breached when it has run out, amber with one
working day left or less, on track otherwise. Cases without an unmet clock are not
counted (nothing is running). The CSV has a row per counted case.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from fieldapp.clocks import (
    STAGE_TEXT,
    clocks_of,
    london_text,
    nearest_unmet,
    stage_text,
    time_left_text,
)
from portal.models import CaseRow, PropertyRow, TeamRow, UserRow
from portal.services.scope import Caller
from portal.web.queue import address_text
from portal.web.reach import cases_reached
from portal.web.standing import standing, working_days
from sync.protocol import CaseStatus, format_timestamp

#: The standings, in the order the page and chart show them, with their words.
STANDINGS: tuple[tuple[str, str], ...] = (("on_track", "On track"), ("amber", "Amber"), ("breached", "Breached"))
_OF_STATE = {"running": "on_track", "amber": "amber", "breached": "breached"}


@dataclass(frozen=True)
class Standing:
    """One open case with a running clock."""

    case_id: str
    reference: str
    team: str
    officer: str
    address: str
    stage: str
    due_at: datetime
    standing: str
    left: str


def standings(session: Session, caller: Caller, now: datetime) -> list[Standing]:
    """The reached open cases with an unmet clock, breached first, then by due time."""
    # Columns, not whole records: a manager's page reads every open case of the council.
    rows = session.execute(
        select(CaseRow.id, CaseRow.reference, CaseRow.clocks, PropertyRow.address_lines, PropertyRow.town, PropertyRow.postcode,
               TeamRow.name, UserRow.display_name)
        .join(PropertyRow, PropertyRow.id == CaseRow.property_id).join(TeamRow, TeamRow.id == CaseRow.team_id)
        .outerjoin(UserRow, UserRow.id == CaseRow.assigned_officer_id)
        .where(cases_reached(caller), CaseRow.status != CaseStatus.CLOSED.value)
    ).all()
    holidays = working_days(session)
    found = []
    for case_id, reference, clocks, lines, town, postcode, team, officer in rows:
        clock = nearest_unmet(clocks_of(clocks or []))
        if clock is None or clock.due_at is None:
            continue
        found.append(Standing(
            case_id=case_id, reference=reference, team=team, officer=officer or "Not assigned",
            address=address_text(lines, town, postcode), stage=clock.stage, due_at=clock.due_at,
            standing=_OF_STATE[standing(clock, now, holidays)], left=time_left_text(clock, now),
        ))
    return sorted(found, key=lambda s: (s.due_at, s.reference))


def counts(found: list[Standing]) -> dict[str, int]:
    """How many cases stand each way."""
    counted = Counter(s.standing for s in found)
    return {key: counted.get(key, 0) for key, _ in STANDINGS}


def by_stage(found: list[Standing]) -> list[tuple[str, dict[str, int]]]:
    """Per statutory stage (in the law's order), how many of its cases stand each way."""
    stages = [*STAGE_TEXT, *sorted({s.stage for s in found} - set(STAGE_TEXT))]
    return [(stage_text(stage), counts([s for s in found if s.stage == stage])) for stage in stages
            if any(s.stage == stage for s in found)]


def _cell(value: str) -> str:
    # A spreadsheet runs a cell that starts like a formula: such text is kept as text.
    return f"'{value}" if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def csv_text(found: list[Standing]) -> str:
    """The cases as CSV (UTF-8, a header row; times as UTC ISO 8601 and as read in London)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["case_reference", "team", "officer", "address", "stage", "due_at", "due_london", "standing", "time_left"])
    for s in found:
        writer.writerow([_cell(v) for v in (s.reference, s.team, s.officer, s.address, stage_text(s.stage),
                                             format_timestamp(s.due_at), london_text(s.due_at), s.standing, s.left)])
    return out.getvalue()
