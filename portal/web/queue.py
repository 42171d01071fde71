"""The web review queue: submitted visits the caller reaches, in the laptop's queue order.

The order is the laptop's (``fieldapp.review_order``): the case whose statutory clock runs
out first, then Category 1 hazards, then the visit waiting longest (on the portal, the
lowest ``seq``: commit order). A lead's own visits, and amendments of them, are left
out as on the laptop: the portal refuses their decision (``push.submitted_by``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from fieldapp.clocks import (
    clocks_of,
    nearest_unmet,
    time_left_text,
)
from fieldapp.review_order import review_key
from fieldapp.types import Clock
from portal.models import CaseRow, PropertyRow, ReviewRow, TeamRow, UserRow, VisitRow
from portal.services.push import submitted_by
from portal.services.scope import Caller
from portal.web.reach import visits_reached
from portal.web.standing import standing, working_days
from sync.protocol import Decision, VisitStatus, visit_hazards


@dataclass(frozen=True)
class QueueRow:
    """One visit waiting for review, as the queue lists it."""

    visit_id: str
    case_reference: str
    address: str
    officer_name: str
    team_name: str
    clock: Clock | None
    clock_state: str
    clock_text: str
    hazards: tuple[str, ...]
    category_1: bool
    photos: int
    resubmitted: bool
    seq: int


def address_text(lines: list[str], town: str, postcode: str) -> str:
    """An address on one line."""
    return ", ".join([*lines, town, postcode])


def address_of(prop: PropertyRow | None) -> str:
    """A property's address on one line."""
    return address_text(prop.address_lines, prop.town, prop.postcode) if prop is not None else ""


def hazard_labels(document: dict[str, object]) -> tuple[list[str], bool]:
    """The visit's hazards as labels (listed ones and hazard answers) and whether any is Category 1."""
    found = visit_hazards(document.get("hazards") or [], document.get("answers") or {})  # type: ignore[arg-type]
    labels = [f"{h.hazard} (band {h.band}{', Category 1' if h.category_1 else ''})" if h.band else h.hazard for h in found if h.hazard]
    return labels, any(h.category_1 for h in found)


def review_queue(session: Session, caller: Caller, now: datetime) -> list[QueueRow]:
    """The submitted visits the caller reaches and may be asked to decide, nearest deadline first."""
    rows = session.execute(
        select(VisitRow, CaseRow, PropertyRow, UserRow, TeamRow).join(CaseRow, CaseRow.id == VisitRow.case_id)
        .join(PropertyRow, PropertyRow.id == CaseRow.property_id).join(UserRow, UserRow.id == VisitRow.officer_id)
        .outerjoin(TeamRow, TeamRow.id == UserRow.team_id)
        .where(VisitRow.status == VisitStatus.SUBMITTED.value, visits_reached(caller))
    ).all()
    returned = set(session.scalars(select(ReviewRow.visit_id).where(
        ReviewRow.visit_id.in_([v.id for v, *_ in rows]), ReviewRow.decision == Decision.RETURN.value)))
    holidays = working_days(session)
    queue: list[QueueRow] = []
    for visit, case, prop, officer, team in rows:
        if not caller.is_admin and submitted_by(session, visit, caller.id):
            continue
        clock = nearest_unmet(clocks_of(case.clocks or []))
        state = standing(clock, now, holidays) if clock else "unknown"
        labels, category_1 = hazard_labels(visit.document)
        queue.append(QueueRow(
            visit_id=visit.id, case_reference=case.reference, address=address_of(prop),
            officer_name=officer.display_name, team_name=team.name if team else "",
            clock=clock, clock_state=state, clock_text=time_left_text(clock, now) if clock else "No statutory clock",
            hazards=tuple(labels), category_1=category_1, photos=len(visit.document.get("photos") or []),
            resubmitted=visit.id in returned, seq=visit.seq,
        ))
    return sorted(queue, key=lambda r: review_key(r.clock, r.category_1, r.seq, r.case_reference))
