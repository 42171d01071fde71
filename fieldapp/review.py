"""Team leads' review: the queue of submitted team visits, and queued decisions.

A decision is stored here (``local_reviews``, for the visit version it was made on)
and queued as a ``review``/``decide`` op in the same transaction. The visit leaves
the queue at once; when the portal's new state is pulled it shows as approved or
returned, and a resubmission (a newer version) comes back into the queue.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from fieldapp.clock import as_utc, utc_now
from fieldapp.deadlines import nearest_clocks
from fieldapp.domain import Decision, submitted_in_chain
from fieldapp.errors import NotFoundError, ValidationError
from fieldapp.models import CaseIndexRow, LocalReviewRow, VisitHistoryRow, VisitRow
from fieldapp.outbox import enqueue
from fieldapp.review_order import review_key
from fieldapp.records import all_hazards, case_reference, officer_name, visit_photos
from fieldapp.types import ReviewItem, UserInfo, VisitState
from fieldapp.visits import new_id


def _decided(session: Session, visit: VisitRow) -> bool:
    return session.scalar(select(LocalReviewRow.id).where(
        LocalReviewRow.visit_id == visit.id, LocalReviewRow.visit_version == visit.server_version)) is not None


def _was_returned(session: Session, visit_id: str) -> bool:
    return session.scalar(select(VisitHistoryRow.version).where(
        VisitHistoryRow.visit_id == visit_id, VisitHistoryRow.status == "returned").limit(1)) is not None


def submitted_by(session: Session, visit: VisitRow, user_id: str) -> bool:
    """Whether ``user_id`` submitted the visit or a visit its ``amends`` chain leads back to.

    The portal refuses such a decision (``own_visit``), so the queue never offers it.
    """
    def officer_and_amends(visit_id: str) -> tuple[str, str | None] | None:
        row = session.get(VisitRow, visit_id)
        return None if row is None else (row.officer_id, row.amends)

    return submitted_in_chain(visit.id, user_id, officer_and_amends)


def review_queue(session: Session, lead: UserInfo | None) -> list[ReviewItem]:
    """Submitted visits of other officers with no decision made here.

    The case whose statutory clock runs out first comes first (Awaab's Law deadlines
    outrank everything); then Category 1, then the oldest received. The lead's own
    visits, and amendments of them, are another lead's to decide.
    """
    if lead is None:
        return []
    items: list[ReviewItem] = []
    visits = list(session.scalars(select(VisitRow).where(
        VisitRow.state == VisitState.SUBMITTED.value, VisitRow.officer_id != lead.id)))
    clocks = nearest_clocks(session, {v.case_id for v in visits})
    for visit in visits:
        if _decided(session, visit) or submitted_by(session, visit, lead.id):
            continue
        hazards = all_hazards(visit)
        address = session.scalar(select(CaseIndexRow.address).where(CaseIndexRow.case_id == visit.case_id))
        items.append(ReviewItem(
            visit_id=visit.id, case_id=visit.case_id, case_reference=case_reference(session, visit.case_id),
            address=address or "", officer_id=visit.officer_id,
            officer_name=officer_name(session, visit.officer_id), started_at=visit.started_at,
            received_at=visit.received_at or visit.updated_at, outcome=visit.outcome,
            hazards=hazards, photo_count=len(visit_photos(session, visit.id)),
            category_1=any(h.category_1 for h in hazards), resubmitted=_was_returned(session, visit.id),
            clock=clocks.get(visit.case_id)))
    return queue_order(items)


def queue_order(items: Iterable[ReviewItem]) -> list[ReviewItem]:
    """The review queue's order: nearest unmet clock, then Category 1, then the oldest received."""
    return sorted(items, key=lambda i: review_key(i.clock, i.category_1, as_utc(i.received_at), i.case_reference))


def decide(session: Session, lead: UserInfo | None, visit_id: str, decision: str, comment: str) -> None:
    """Record a lead's decision and queue it (one transaction, the caller's)."""
    if lead is None:
        raise ValidationError("Sign in before deciding reviews.")
    if decision not in tuple(d.value for d in Decision):
        raise ValidationError("Choose to approve or return the visit.", {"decision": "Approve or return."})
    comment = comment.strip()
    if decision == Decision.RETURN and not comment:
        raise ValidationError("Say what the officer should change before returning the visit.",
                              {"comment": "A comment is required to return a visit."})
    visit = session.get(VisitRow, visit_id)
    if visit is None:
        raise NotFoundError("That visit is not in your review queue. Sync to see the latest queue.")
    if submitted_by(session, visit, lead.id):
        raise ValidationError("You submitted this visit (or the visit it amends); another lead of your team must decide it.")
    if visit.state != VisitState.SUBMITTED or _decided(session, visit):
        raise ValidationError("That visit is no longer waiting for review. Sync to see the latest queue.")
    review_id = new_id()
    session.add(LocalReviewRow(id=review_id, visit_id=visit.id, visit_version=visit.server_version,
                               decision=decision, comment=comment, lead_id=lead.id, decided_at=utc_now(),
                               sent=False))
    enqueue(session, entity="review", record_id=review_id, kind="decide", base_version=0,
            data={"visit_id": visit.id, "decision": decision, "comment": comment})
