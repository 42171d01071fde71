"""Hazard reports from the field (PROTOCOL.md revision 2): recorded offline, queued like a visit.

An officer who sees a hazard on any visit or case reports it; the report and its
``hazard_report``/``create`` op are written in one transaction. The op's ``id`` is
the new case's id, chosen here, so the case the portal makes is recognised when it
is pulled. Push results:

* ``applied`` / ``duplicate``: the report is ``sent``; its case arrives with the pull.
* ``rejected`` (or ``conflict``): the report is ``rejected`` and a problem offers to
  send it again or discard it; what the officer wrote stays until they choose.

Photos may come only from a visit that is on its way to the portal (queued or
further): the portal checks them against the visit it holds.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from fieldapp.clock import as_utc, format_timestamp, utc_now
from fieldapp.domain import ErrorCode, OpStatus, Priority
from fieldapp.errors import NotFoundError, ValidationError
from fieldapp.models import CaseRow, HazardReportRow, OutboxRow, PhotoRow, PropertyRow, VisitRow
from fieldapp.outbox import add_problem, enqueue, op_error
from fieldapp.types import HazardReport, ProblemAction, VisitState, counted
from fieldapp.visits import new_id
from fieldapp.vocabulary import vocabulary

if TYPE_CHECKING:
    from fieldapp.wire import OpResult

ENTITY = "hazard_report"
DEFAULT_PRIORITY = Priority.URGENT.value
#: A clock a few minutes fast must not make "now" look like the future.
_CLOCK_SLACK = timedelta(minutes=10)
_PHOTO_STATES = (VisitState.QUEUED.value, VisitState.SUBMITTED.value, VisitState.APPROVED.value,
                 VisitState.RETURNED.value)


def photos_can_go(visit: VisitRow) -> bool:
    """True when the visit's photos will be on the portal before the report (the visit is queued or further)."""
    return visit.state in _PHOTO_STATES


def report_hazard(session: Session, *, property_id: str | None, from_case_id: str | None, visit_id: str | None,
                  hazards: Sequence[str], description: str, observed_at: datetime, priority: str | None,
                  photo_ids: Sequence[str]) -> HazardReportRow:
    """Record a report and queue its op; ValidationError lists every field to correct, nothing is saved then."""
    visit = session.get(VisitRow, visit_id) if visit_id else None
    if visit_id and visit is None:
        raise NotFoundError("That visit is not on this laptop any more. Report the hazard from its case.")
    case_id = from_case_id or (visit.case_id if visit is not None else None)
    case = session.get(CaseRow, case_id) if case_id else None
    if case_id and case is None:
        raise NotFoundError("That case is not on this laptop any more. Sync, then report the hazard again.")
    property_id = property_id or (case.property_id if case is not None else None)
    if not property_id or session.get(PropertyRow, property_id) is None:
        raise NotFoundError("The home is not on this laptop. Report the hazard from one of your cases.")
    key = visit.vocabulary if visit is not None and visit.vocabulary else None
    names = list(dict.fromkeys(str(h) for h in hazards))
    problems = _problems(session, names, description, observed_at, priority, photo_ids, visit, key)
    if problems:
        count = len(problems)
        raise ValidationError(f"The report cannot be sent yet: {counted(count, 'thing', 'to fix')}.",
                              problems)
    row = HazardReportRow(
        id=new_id(), property_id=property_id, from_case_id=case_id, visit_id=visit_id, hazards=names,
        description=description.strip(), observed_at=as_utc(observed_at), priority=priority or DEFAULT_PRIORITY,
        photo_ids=list(photo_ids), vocabulary=vocabulary(session, key).key, state="queued", op_id=None,
        created_at=utc_now())
    session.add(row)
    queue(session, row)
    return row


def _problems(session: Session, names: Sequence[str], description: str, observed_at: datetime,
              priority: str | None, photo_ids: Sequence[str], visit: VisitRow | None,
              key: str | None) -> dict[str, str]:
    problems: dict[str, str] = {}
    allowed = set(vocabulary(session, key).names)
    if not names:
        problems["hazards"] = "Choose at least one hazard you saw."
    elif allowed and any(name not in allowed for name in names):
        problems["hazards"] = "Choose the hazards from the list."
    if not description.strip():
        problems["description"] = "Describe what you saw and where, so the team can act on it."
    if as_utc(observed_at) > utc_now() + _CLOCK_SLACK:
        problems["observed_at"] = "The time you saw it cannot be in the future."
    if priority is not None and priority not in tuple(p.value for p in Priority):
        problems["priority"] = "Choose emergency, urgent or routine."
    if photo_ids:
        own = set(session.scalars(select(PhotoRow.id).where(PhotoRow.visit_id == visit.id))) if visit else set()
        if visit is None or not set(photo_ids) <= own:
            problems["photo_ids"] = "Attach only photos of this visit."
        elif not photos_can_go(visit):
            problems["photo_ids"] = ("Photos can be attached once the visit is submitted; send the report "
                                     "without them now, or submit the visit first.")
    return problems


def operation_data(row: HazardReportRow) -> dict[str, Any]:
    """The ``data`` of the report's op, exactly as PROTOCOL.md writes it (optional keys absent when empty)."""
    data: dict[str, Any] = {"property_id": row.property_id, "hazards": list(row.hazards),
                            "description": row.description, "observed_at": format_timestamp(row.observed_at),
                            "priority": row.priority}
    if row.from_case_id:
        data["from_case_id"] = row.from_case_id
    if row.visit_id:
        data["visit_id"] = row.visit_id
    if row.photo_ids:
        data["photo_ids"] = list(row.photo_ids)
    return data


def queue(session: Session, row: HazardReportRow) -> None:
    """Put the report's op at the end of the outbox (again, under a new op id, after a rejection)."""
    op = enqueue(session, entity=ENTITY, record_id=row.id, kind="create", base_version=0, data=operation_data(row))
    row.op_id, row.state = op.op_id, "queued"


def record_result(session: Session, op: OutboxRow, result: OpResult) -> None:
    """What a push result does to the report (the op leaves the outbox either way)."""
    session.delete(op)
    row = session.get(HazardReportRow, op.record_id)
    if row is None or row.op_id != op.op_id:
        return  # discarded or queued again meanwhile
    row.op_id = None
    if result.accepted:
        row.state = "sent"
        return
    row.state = "rejected"
    code, message, details = op_error(result, "The portal refused this report.")
    hint = (" The home may no longer be in your cases; tell your team lead, then discard the report here."
            if code == ErrorCode.NOT_FOUND else " Send it again once corrected, or discard it.")
    add_problem(session, kind="rejected" if result.status == OpStatus.REJECTED else "conflict", entity=ENTITY,
                record_id=row.id, message=f"The portal refused your hazard report: {message}{hint}",
                actions=(ProblemAction.RETRY, ProblemAction.DISCARD), details={"code": code, **details})


def resolve(session: Session, report_id: str, action: str) -> None:
    """Carry out the officer's choice for a rejected report: send it again, or drop it."""
    row = session.get(HazardReportRow, report_id)
    if row is None:
        return
    if action == ProblemAction.RETRY:
        queue(session, row)
    elif action == ProblemAction.DISCARD:
        session.delete(row)


def report_record(row: HazardReportRow) -> HazardReport:
    """The frozen record of a report."""
    return HazardReport(id=row.id, property_id=row.property_id, from_case_id=row.from_case_id,
                        visit_id=row.visit_id, hazards=tuple(row.hazards), description=row.description,
                        observed_at=row.observed_at, priority=row.priority, photo_ids=tuple(row.photo_ids),
                        vocabulary=row.vocabulary, state=row.state, created_at=row.created_at)


def reports(session: Session) -> list[HazardReport]:
    """Every report made on this laptop, newest first."""
    rows = session.scalars(select(HazardReportRow).order_by(HazardReportRow.created_at.desc()))
    return [report_record(r) for r in rows]
