"""Which statutory clock of each case runs out first: for the case list, the Deadlines view and the review queue.

Reads the clocks the portal computed (``cases.clocks``); nothing here computes a deadline.
"""

from __future__ import annotations

from collections.abc import Iterable
from sqlalchemy import select
from sqlalchemy.orm import Session

from fieldapp.clocks import clock_order, clocks_of, nearest_unmet
from fieldapp.models import CaseIndexRow, CaseRow
from fieldapp.records import officer_name
from fieldapp.types import Clock, DeadlineRow


def nearest_clocks(session: Session, case_ids: Iterable[str] | None = None) -> dict[str, Clock]:
    """The nearest unmet clock of every case that has one (of ``case_ids`` when given)."""
    query = select(CaseRow.id, CaseRow.clocks).where(CaseRow.deleted.is_(False))
    if case_ids is not None:
        query = query.where(CaseRow.id.in_(list(case_ids)))
    found: dict[str, Clock] = {}
    for case_id, raw in session.execute(query):
        clock = nearest_unmet(clocks_of(raw or []))
        if clock is not None:
            found[case_id] = clock
    return found


def deadline_rows(session: Session) -> list[DeadlineRow]:
    """Every case on this laptop with an unmet clock (a lead's: their team's), nearest clock first."""
    rows: list[DeadlineRow] = []
    names: dict[str, str] = {}
    cases = session.execute(select(CaseRow, CaseIndexRow.address)
                            .outerjoin(CaseIndexRow, CaseIndexRow.case_id == CaseRow.id)
                            .where(CaseRow.deleted.is_(False), CaseRow.status != "closed"))
    for case, address in cases:
        clocks = clocks_of(case.clocks or [])
        clock = nearest_unmet(clocks)
        if clock is None:
            continue
        officer = case.assigned_officer_id
        if officer and officer not in names:
            names[officer] = officer_name(session, officer)
        rows.append(DeadlineRow(
            case_id=case.id, reference=case.reference, address=address or "", case_type=case.case_type,
            priority=case.priority, status=case.status, assigned_officer_id=officer,
            officer_name=names.get(officer, "Not assigned") if officer else "Not assigned", clock=clock,
            other_unmet=sum(1 for c in clocks if not c.met) - 1))
    rows.sort(key=lambda r: (*clock_order(r.clock), r.reference))
    return rows
