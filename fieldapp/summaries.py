"""The tenant's written summary on the laptop: the letter's facts, and recording that it was issued.

The letter is made offline from the local copies of the portal's records, in the same
shapes the portal uses (`fieldapp.letter.letter_facts`), so the officer's letter at the
door and the portal's are the same letter. Recording the summary as issued queues a
``summary_issued`` op (PROTOCOL.md revision 2) in the same transaction as the visit's
own record of it, so it survives a crash and goes with the next sync.

The op's ``base_version`` is the version the visit will have on the portal when the op
arrives: its current one, or the next when its submit is queued ahead of it (the
outbox sends in order). Should the visit change meanwhile (a lead decided it), the op
is sent again on the portal's version, up to `MAX_RETRIES` times.

The functions here work inside the caller's session; the facade owns transactions.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from fieldapp.clock import format_timestamp, utc_now
from fieldapp.domain import OpKind, OpStatus
from fieldapp.errors import ValidationError
from fieldapp.letter import LetterError, LetterFacts, LetterPhoto, letter_facts
from fieldapp.models import CaseRow, OutboxRow, PropertyRow, VisitRow
from fieldapp.outbox import add_problem, enqueue, op_error, op_size
from fieldapp.records import case_residents, officer_name, queued_summary
from fieldapp.types import ProblemAction, UserInfo, VisitState
from fieldapp.visits import new_id, visit_document

if TYPE_CHECKING:
    from fieldapp.letter import PhotoSource
    from fieldapp.wire import OpResult

METHODS = ("hand", "post", "email")
MAX_RETRIES = 3
#: Problems about a summary record are kept apart from the visit's own (the visit stays as it is).
ENTITY = "summary"
_SKEW = timedelta(minutes=5)


def take_pulled(session: Session, row: VisitRow, data: Mapping[str, Any]) -> None:
    """A pulled visit's summary_issued, unless the officer's own record still waits to be sent."""
    if queued_summary(session, row.id) is None:
        row.summary_issued = data.get("summary_issued") or None


def facts(session: Session, row: VisitRow) -> LetterFacts:
    """What the tenant's letter says about this visit, from the records on this laptop."""
    case = session.get(CaseRow, row.case_id)
    if case is None:
        raise LetterError("The case of this visit is not on this laptop, so the letter cannot be made. "
                          "Sync, then try again.")
    prop = session.get(PropertyRow, case.property_id)
    property_data = ({"address_lines": list(prop.address_lines), "town": prop.town, "postcode": prop.postcode}
                     if prop is not None else {})
    residents = [{"full_name": r.full_name} for r in case_residents(session, case.id)]
    case_data = {"reference": case.reference, "priority": case.priority, "clocks": list(case.clocks or [])}
    return letter_facts(row.id, visit_document(session, row), case_data, property_data,
                        residents, officer_name(session, row.officer_id))


def photo_files(photos_dir: Path) -> PhotoSource:
    """Where the laptop's letter finds its photos: the content-addressed photo folder."""
    from fieldapp.photo_files import photo_path

    def source(photo: LetterPhoto) -> Path:
        path = photo_path(photos_dir, photo.sha256, photo.content_type)
        if not path.is_file():
            from fieldapp.letter.images import missing_photo  # Pillow: loaded only when a letter is made

            raise missing_photo(photo)
        return path

    return source


def record_issued(session: Session, me: UserInfo, row: VisitRow, method: str, issued_at: datetime) -> None:
    """Record that the summary went out and queue the op; ValidationError says what stops it."""
    if method not in METHODS:
        raise ValidationError(f"Say how the summary was given: {', '.join(METHODS)}.", {"method": "Choose one."})
    submit = session.scalar(select(OutboxRow.op_id).where(
        OutboxRow.record_id == row.id, OutboxRow.entity == "visit", OutboxRow.kind == OpKind.SUBMIT).limit(1))
    if row.state == VisitState.DRAFT or (row.server_version == 0 and submit is None):
        raise ValidationError("Submit the visit first: the portal records the summary against the submitted visit.")
    if row.officer_id != me.id and me.role != "lead":
        raise ValidationError("Only the visit's officer or a team lead can record that its summary was issued.")
    if row.summary_issued:
        raise ValidationError("The summary of this visit is already recorded as issued.")
    if issued_at > utc_now() + _SKEW:
        raise ValidationError("The time the summary was issued cannot be in the future; check the date and time.",
                              {"issued_at": "in the future"})
    when = format_timestamp(issued_at.replace(microsecond=0))
    enqueue(session, entity="visit", record_id=row.id, kind=OpKind.SUMMARY_ISSUED,
            base_version=row.server_version + (1 if submit is not None else 0),
            data={"method": method, "issued_at": when})
    row.summary_issued = {"method": method, "issued_at": when, "by_id": me.id}


def record_result(session: Session, op: OutboxRow, result: OpResult) -> None:
    """What a push result of a summary_issued op does to the visit."""
    visit = session.get(VisitRow, op.record_id)
    status = result.status
    if result.accepted:
        session.delete(op)
        if visit is not None and result.version:
            visit.server_version = max(visit.server_version, result.version)
        return
    code, message, details = op_error(result)
    current = result.current or {}
    if status == OpStatus.CONFLICT and current.get("summary_issued"):
        # Someone else (a lead, the CRM) recorded it first: the portal's record stands.
        session.delete(op)
        if visit is not None:
            visit.summary_issued = dict(current["summary_issued"])
        return
    if status == OpStatus.CONFLICT and isinstance(current.get("version"), int) and op.attempts + 1 < MAX_RETRIES:
        op.attempts += 1
        op.op_id, op.base_version = new_id(), current["version"]
        op.size = op_size(op)
        return
    session.delete(op)
    kept = dict(op.data)
    if visit is not None:
        visit.summary_issued = None
    add_problem(session, kind="rejected" if status == OpStatus.REJECTED else "conflict", entity=ENTITY,
                record_id=op.op_id,
                message=(f"The portal did not record that the tenant's summary was issued ({kept.get('method')}, "
                         f"{kept.get('issued_at')}): {message} Record it again from the visit."),
                actions=(ProblemAction.DISMISS,),
                details={"visit_id": op.record_id, "code": code, **kept, **details})
