"""Visits a team lead returned to this officer: what Needs attention lists and a sync announces.

A returned visit waits on the officer (PROTOCOL.md: "returned (with the lead's
comment; the officer edits and resubmits)"), so it must be impossible to miss: every
own visit in the ``returned`` state is listed, newest decision first, with the lead's
comment, until the officer submits it again.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from fieldapp.models import CaseIndexRow, VisitRow
from fieldapp.records import case_reference
from fieldapp.types import VisitState


@dataclass(frozen=True)
class ReturnedVisit:
    """A visit of this officer the lead sent back, and why."""

    visit_id: str
    case_id: str
    case_reference: str
    address: str
    comment: str
    decided_at: str   # as the portal wrote it (display only)


def returned_visits(session: Session) -> list[ReturnedVisit]:
    """The officer's own visits waiting in the returned state, the latest decision first."""
    rows = session.scalars(select(VisitRow).where(VisitRow.own.is_(True), VisitRow.state == VisitState.RETURNED.value))
    found = []
    for row in rows:
        review = row.review or {}
        address = session.scalar(select(CaseIndexRow.address).where(CaseIndexRow.case_id == row.case_id))
        found.append(ReturnedVisit(row.id, row.case_id, case_reference(session, row.case_id), address or "",
                                   str(review.get("comment") or ""), str(review.get("decided_at") or "")))
    return sorted(found, key=lambda v: (v.decided_at, v.visit_id), reverse=True)
