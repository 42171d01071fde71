"""Drafts: the officer's visits that exist only on this laptop as they are now.

A draft is an own visit in the DRAFT state (started here, or reopened after the
portal refused it), or a RETURNED visit with corrections not yet resubmitted. Both
are unsent work: counted by `pending()`, named by ``fieldapp doctor``, kept by the
purge and the resync (`fieldapp.sync_apply.has_local_work`), and removed only when
the officer discards one on purpose (`discard`).
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, delete, func, or_, select
from sqlalchemy.orm import Session

from fieldapp.errors import NotFoundError, ValidationError
from fieldapp.models import CaseRow, PhotoRow, TemplateRow, VisitRow
from fieldapp.outbox import clear_problems
from fieldapp.records import all_hazards
from fieldapp.types import Draft, VisitState
from fieldapp.domain import is_blank


#: An own visit in one of these states is unsent work (as is one with local edits or an op waiting).
UNSENT_STATES = (VisitState.DRAFT.value, VisitState.QUEUED.value)
#: `has_unsent_work` as SQL over the visits table aliased ``v`` (for the case list's raw SQL).
UNSENT_WORK_SQL = (f"(v.state IN ({', '.join(repr(s) for s in UNSENT_STATES)}) OR v.local_edits = 1 "
                   "OR v.op_id IS NOT NULL)")


def has_unsent_work(visit: VisitRow) -> bool:
    """True when an own visit row holds work the portal has not had (drafted, queued, edited or in flight)."""
    return visit.state in UNSENT_STATES or bool(visit.local_edits) or bool(visit.op_id)


def is_draft() -> ColumnElement[bool]:
    """The SQL test for a draft visit row."""
    return and_(VisitRow.own.is_(True),
                or_(VisitRow.state == VisitState.DRAFT.value,
                    and_(VisitRow.state == VisitState.RETURNED.value, VisitRow.local_edits.is_(True))))


def count_drafts(session: Session) -> int:
    """How many drafts this laptop holds."""
    return session.scalar(select(func.count()).select_from(VisitRow).where(is_draft())) or 0


def list_drafts(session: Session, case_id: str | None = None) -> list[Draft]:
    """The drafts (of one case, or all), oldest first."""
    query = select(VisitRow).where(is_draft()).order_by(VisitRow.started_at, VisitRow.id)
    if case_id is not None:
        query = query.where(VisitRow.case_id == case_id)
    rows = list(session.scalars(query))
    photos = dict(session.execute(
        select(PhotoRow.visit_id, func.count()).where(PhotoRow.visit_id.in_([r.id for r in rows]))
        .group_by(PhotoRow.visit_id)).all())
    return [_record(session, row, int(photos.get(row.id, 0))) for row in rows]


def _record(session: Session, row: VisitRow, photos: int) -> Draft:
    case = session.get(CaseRow, row.case_id)
    template = session.get(TemplateRow, (row.template_id, row.template_version))
    return Draft(visit_id=row.id, case_id=row.case_id, case_reference=case.reference if case else "",
                 template_name=template.name if template else "", state=VisitState(row.state),
                 started_at=row.started_at, updated_at=row.updated_at,
                 answers=sum(1 for value in row.answers.values() if not is_blank(value)), photos=photos,
                 hazards=len(all_hazards(row)), has_notes=bool(row.notes.strip()), amends=row.amends)


def open_amendment(session: Session, visit_id: str) -> VisitRow | None:
    """The officer's amendment draft of this visit that is still being written, if any (the newest)."""
    return session.scalar(select(VisitRow).where(
        VisitRow.own.is_(True), VisitRow.amends == visit_id, VisitRow.state == VisitState.DRAFT.value)
        .order_by(VisitRow.updated_at.desc()).limit(1))


def discard(session: Session, visit_id: str) -> list[str]:
    """Delete a draft the officer chose to throw away; returns the hashes of its photos' files."""
    row = session.get(VisitRow, visit_id)
    if row is None:
        raise NotFoundError("That draft is no longer on this laptop.")
    if not row.own or row.state != VisitState.DRAFT:
        what = {VisitState.RETURNED: "it was returned by your team lead: correct it and submit it again",
                VisitState.QUEUED: "it is submitted and waiting to be sent",
                }.get(VisitState(row.state), "it is already on the portal")
        raise ValidationError(f"Only a draft that was never sent can be discarded; this visit cannot, because {what}.")
    hashes = list(session.scalars(select(PhotoRow.sha256).where(PhotoRow.visit_id == visit_id)))
    clear_problems(session, "visit", visit_id)
    session.execute(delete(PhotoRow).where(PhotoRow.visit_id == visit_id))
    session.delete(row)
    return hashes
