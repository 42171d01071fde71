"""Webhooks for the CRM (PROTOCOL.md revision 2, "Integration for the CRM"): subscriptions and emitting events.

``emit`` writes an event into the outbox inside the caller's transaction, so an event
exists exactly when its cause committed: a submit, a review decision, a hazard report
(``case.created``; cases the CRM creates or imports emit nothing, the CRM knows them),
a clock going amber or breached (``portal.services.clock_events``). What happens to
the event afterwards is ``portal.services.webhook_outbox``'s.

Event data carries ids the CRM can act on; ``external_ref`` (the CRM's own reference
of the case) is filled in when the event is fanned out, from the case.
"""

from __future__ import annotations

import base64
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, cast

from sqlalchemy import CursorResult, delete, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from portal.models import CaseRow, ReviewRow, VisitRow
from portal.models_webhooks import WebhookAttemptRow, WebhookDeliveryRow, WebhookEventRow, WebhookRow
from portal.services.sequence import utcnow
from sync.protocol import format_timestamp

#: Random bytes of a new secret (the specification asks for 24 to 64).
SECRET_BYTES = 32
SECRET_PREFIX = "whsec_"


class EventType(StrEnum):
    """The event types a webhook can subscribe to."""

    VISIT_SUBMITTED = "visit.submitted"
    VISIT_APPROVED = "visit.approved"
    VISIT_RETURNED = "visit.returned"
    CASE_CREATED = "case.created"
    CLOCK_AMBER = "clock.amber"
    CLOCK_BREACHED = "clock.breached"


@dataclass(frozen=True)
class Emission:
    """An event to write: its type, data and (for once-only facts) a dedupe key."""

    type: EventType
    data: dict[str, Any]
    dedupe_key: str | None = None
    id: str = field(default_factory=lambda: str(uuid.uuid4()))

    def row(self) -> dict[str, Any]:
        """The outbox row's values."""
        return {"id": self.id, "type": str(self.type), "data": self.data, "occurred_at": utcnow(), "dedupe_key": self.dedupe_key}


def emit(session: Session, event: Emission) -> bool:
    """Write the event in the caller's transaction; False when its dedupe key was emitted before."""
    if event.dedupe_key is None:
        session.execute(insert(WebhookEventRow).values(**event.row()))
        return True
    dialect = session.get_bind().dialect.name
    # ON CONFLICT DO NOTHING: another process emitting the same fact at once is no error.
    statement = (pg_insert if dialect == "postgresql" else sqlite_insert)(WebhookEventRow).values(**event.row())
    done = session.execute(statement.on_conflict_do_nothing(index_elements=["dedupe_key"]))
    return bool(cast(CursorResult[Any], done).rowcount)


def submitted(visit_id: str, case_id: str, officer_id: str, version: int, document: dict[str, Any]) -> Emission:
    """``visit.submitted``: a visit (new, resubmitted after a return, or an amendment) awaits review."""
    return Emission(EventType.VISIT_SUBMITTED, {
        "visit_id": visit_id, "case_id": case_id, "officer_id": officer_id, "version": version,
        "outcome": document.get("outcome"), "amends": document.get("amends"),
    })


def decided(visit: VisitRow, review: ReviewRow) -> Emission:
    """``visit.approved`` or ``visit.returned`` for a lead's decision."""
    kind = EventType.VISIT_APPROVED if review.decision == "approve" else EventType.VISIT_RETURNED
    return Emission(kind, {
        "visit_id": visit.id, "case_id": visit.case_id, "review_id": review.id, "lead_id": review.lead_id,
        "officer_id": visit.officer_id, "version": visit.version, "decided_at": format_timestamp(review.decided_at),
    })


def case_created(case: CaseRow, visit_id: str | None, from_case_id: str | None) -> Emission:
    """``case.created`` for a case an officer's hazard report opened."""
    return Emission(EventType.CASE_CREATED, {
        "case_id": case.id, "reference": case.reference, "source": case.source, "priority": case.priority,
        "case_type": case.case_type, "reported_hazards": list(case.reported_hazards or []), "awaab": bool(case.awaab),
        "property_id": case.property_id, "team_id": case.team_id, "reported_by_id": case.reported_by_id,
        "aware_at": case.aware_at, "visit_id": visit_id, "from_case_id": from_case_id,
    })


def clock_event(kind: EventType, case_id: str, reference: str, clock: dict[str, Any]) -> Emission:
    """``clock.amber`` or ``clock.breached`` for one clock of a case, once ever per (case, stage, kind)."""
    return Emission(kind, {
        "case_id": case_id, "reference": reference, "stage": clock["stage"], "due_at": clock["due_at"], "basis": clock.get("basis"),
    }, dedupe_key=f"{kind}:{case_id}:{clock['stage']}")


# ---------------------------------------------------------------- subscriptions


def new_secret() -> str:
    """A signing secret as the Standard Webhooks specification writes it: ``whsec_`` + base64."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii")


def create(session: Session, url: str, events: Sequence[str], created_by_id: str | None) -> WebhookRow:
    """A new webhook (the caller has checked the address); its secret is on the returned object only."""
    webhook = WebhookRow(id=str(uuid.uuid4()), url=url, events=sorted(set(events)), secret=new_secret(),
                      created_at=utcnow(), created_by_id=created_by_id)
    session.add(webhook)
    session.flush()
    return webhook


def public(webhook: WebhookRow) -> dict[str, Any]:
    """A webhook as listed: never its secret."""
    return {"id": webhook.id, "url": webhook.url, "events": list(webhook.events), "created_at": format_timestamp(webhook.created_at)}


def listing(session: Session) -> list[dict[str, Any]]:
    """Every webhook, oldest first."""
    return [public(w) for w in session.scalars(select(WebhookRow).order_by(WebhookRow.created_at, WebhookRow.id))]


def remove(session: Session, webhook_id: str) -> bool:
    """Delete a webhook with its deliveries and their attempts; False when there is none."""
    if session.get(WebhookRow, webhook_id, with_for_update=True) is None:
        return False
    deliveries = select(WebhookDeliveryRow.id).where(WebhookDeliveryRow.webhook_id == webhook_id).scalar_subquery()
    session.execute(delete(WebhookAttemptRow).where(WebhookAttemptRow.delivery_id.in_(deliveries)))
    session.execute(delete(WebhookDeliveryRow).where(WebhookDeliveryRow.webhook_id == webhook_id))
    session.execute(delete(WebhookRow).where(WebhookRow.id == webhook_id))
    return True
