"""The outbox's life: fan events out to webhooks, claim due deliveries, record each attempt, list them.

Safe with several portal processes on one database. Fan-out takes events with
``FOR UPDATE SKIP LOCKED`` (SQLite's one writer serialises instead), so each event is
fanned out once. A delivery is *claimed* with a lease: the claiming transaction sets
``lease_until`` and a random token, another worker skips it until the lease runs out,
and only the holder of the token records the attempt. A worker that dies mid-delivery
therefore delays that delivery by one lease, and nothing else. A delivery is marked
delivered only after a 2xx answer (at-least-once: a receiver may see an event twice,
and tells by ``webhook-id``).

Failed attempts are retried with backoff (``RetryPolicy``: 30 s, 2 min, 10 min, 30 min,
1 h, then hourly, each with jitter so a CRM that comes back is not hit by every
delivery at once) until 24 hours after the event; then the delivery is ``failed``.
"""

from __future__ import annotations

import json
import random
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, delete, or_, select, update
from sqlalchemy.orm import Session

from portal.core.db import Database
from portal.models import CaseRow
from portal.models_webhooks import WebhookAttemptRow, WebhookDeliveryRow, WebhookEventRow, WebhookRow
from portal.webhook_http import Answer
from sync.protocol import format_timestamp

PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"
STATUSES = (PENDING, DELIVERED, FAILED)


@dataclass(frozen=True)
class RetryPolicy:
    """When to try a failed delivery again, and when to give up."""

    delays: tuple[float, ...] = (30.0, 120.0, 600.0, 1800.0, 3600.0)
    give_up_after: timedelta = timedelta(hours=24)
    #: Each delay is scaled by a random factor within ±jitter.
    jitter: float = 0.2
    rng: random.Random = field(default_factory=random.Random, compare=False)

    def delay(self, attempts: int) -> timedelta:
        """The wait after the ``attempts``-th failed attempt (the last delay repeats)."""
        base = self.delays[min(attempts, len(self.delays)) - 1]
        return timedelta(seconds=base * self.rng.uniform(1 - self.jitter, 1 + self.jitter))


@dataclass(frozen=True)
class Claimed:
    """A delivery this worker holds: what to send and where."""

    delivery_id: int
    token: str
    event_id: str
    body: str
    url: str
    secret: str


def _external_refs(session: Session, case_ids: set[str]) -> dict[str, str | None]:
    """The CRM's own reference of each case (None for cases from the field it has not yet given one)."""
    if not case_ids:
        return {}
    return {case_id: ref for case_id, ref in session.execute(select(CaseRow.id, CaseRow.external_ref).where(CaseRow.id.in_(case_ids)))}


def body_of(event: WebhookEventRow, external_ref: str | None) -> str:
    """The payload as the specification shapes it: ``{"type", "timestamp", "data"}``, compact JSON."""
    data = dict(event.data)
    if "case_id" in data:
        data["external_ref"] = external_ref
    payload = {"type": event.type, "timestamp": format_timestamp(event.occurred_at), "data": data}
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False)


def fan_out(db: Database, now: datetime, limit: int = 200) -> int:
    """Turn waiting events into one pending delivery per subscribed webhook; how many events."""
    with db.plain(writes=True) as session:
        events = list(session.scalars(
            select(WebhookEventRow).where(WebhookEventRow.dispatched_at.is_(None)).order_by(WebhookEventRow.occurred_at)
            .limit(limit).with_for_update(skip_locked=True)
        ))
        if not events:
            return 0
        webhooks = list(session.scalars(select(WebhookRow)))
        refs = _external_refs(session, {str(e.data["case_id"]) for e in events if e.data.get("case_id")})
        for event in events:
            event.body = body_of(event, refs.get(str(event.data.get("case_id"))))
            event.dispatched_at = now
            # A webhook hears of what happened after it was created, not before.
            session.add_all(
                WebhookDeliveryRow(webhook_id=w.id, event_id=event.id, status=PENDING, attempts=0, created_at=event.occurred_at,
                                next_attempt_at=now)
                for w in webhooks if event.type in w.events and w.created_at <= event.occurred_at
            )
        return len(events)


def has_due(db: Database, now: datetime) -> bool:
    """Whether anything waits (a cheap read first, so an idle portal takes no write lock)."""
    with db.read_once() as session:
        waiting = session.scalar(select(WebhookEventRow.id).where(WebhookEventRow.dispatched_at.is_(None)).limit(1))
        if waiting is not None:
            return True
        return session.scalar(select(WebhookDeliveryRow.id).where(*_due(now)).limit(1)) is not None


def _due(now: datetime) -> tuple[Any, ...]:
    return (WebhookDeliveryRow.status == PENDING, WebhookDeliveryRow.next_attempt_at <= now,
            or_(WebhookDeliveryRow.lease_until.is_(None), WebhookDeliveryRow.lease_until < now))


def claim(db: Database, now: datetime, limit: int, lease: timedelta) -> list[Claimed]:
    """Take up to ``limit`` due deliveries for this worker until ``now + lease``."""
    token = secrets.token_hex(16)
    with db.plain(writes=True) as session:
        ids = list(session.scalars(
            select(WebhookDeliveryRow.id).where(*_due(now)).order_by(WebhookDeliveryRow.next_attempt_at).limit(limit)
            .with_for_update(skip_locked=True)
        ))
        if not ids:
            return []
        session.execute(update(WebhookDeliveryRow).where(WebhookDeliveryRow.id.in_(ids)).values(lease_until=now + lease, lease_token=token))
        rows = session.execute(
            select(WebhookDeliveryRow.id, WebhookEventRow.id, WebhookEventRow.body, WebhookRow.url, WebhookRow.secret)
            .join(WebhookEventRow, WebhookEventRow.id == WebhookDeliveryRow.event_id).join(WebhookRow, WebhookRow.id == WebhookDeliveryRow.webhook_id)
            .where(WebhookDeliveryRow.id.in_(ids))
        ).all()
    return [Claimed(delivery_id, token, event_id, body or "", url, secret) for delivery_id, event_id, body, url, secret in rows]


def record(db: Database, claimed: Claimed, answer: Answer, now: datetime, policy: RetryPolicy) -> str | None:
    """Store an attempt and the delivery's next state; the new status, or None when the lease was lost."""
    with db.plain(writes=True) as session:
        delivery = session.scalar(
            select(WebhookDeliveryRow).where(WebhookDeliveryRow.id == claimed.delivery_id, WebhookDeliveryRow.lease_token == claimed.token)
            .with_for_update()
        )
        if delivery is None:
            return None  # the webhook was deleted, or the lease ran out and another worker took it
        session.add(WebhookAttemptRow(delivery_id=delivery.id, at=now, status_code=answer.status_code,
                                   error=(answer.error or None) and answer.error[:500], duration_ms=answer.duration_ms))
        delivery.attempts += 1
        delivery.lease_until = delivery.lease_token = None
        if answer.ok:
            delivery.status, delivery.finished_at, delivery.next_attempt_at = DELIVERED, now, None
        else:
            retry_at = now + policy.delay(delivery.attempts)
            if retry_at > delivery.created_at + policy.give_up_after:
                delivery.status, delivery.finished_at, delivery.next_attempt_at = FAILED, now, None
            else:
                delivery.next_attempt_at = retry_at
        return delivery.status


def page(session: Session, webhook_id: str, before: int | None, limit: int, status: str | None) -> dict[str, Any]:
    """``GET /admin/webhooks/{id}/deliveries``: newest first, each with its attempts (newest first)."""
    query = (select(WebhookDeliveryRow, WebhookEventRow.type).join(WebhookEventRow, WebhookEventRow.id == WebhookDeliveryRow.event_id)
             .where(WebhookDeliveryRow.webhook_id == webhook_id).order_by(WebhookDeliveryRow.id.desc()).limit(limit + 1))
    if before is not None:
        query = query.where(WebhookDeliveryRow.id < before)
    if status is not None:
        query = query.where(WebhookDeliveryRow.status == status)
    rows = session.execute(query).all()
    shown = rows[:limit]
    attempts: dict[int, list[dict[str, Any]]] = {d.id: [] for d, _ in shown}
    if attempts:
        for attempt in session.scalars(select(WebhookAttemptRow).where(WebhookAttemptRow.delivery_id.in_(attempts))
                                       .order_by(WebhookAttemptRow.id.desc())):
            attempts[attempt.delivery_id].append({
                "at": format_timestamp(attempt.at), "status_code": attempt.status_code, "error": attempt.error,
                "duration_ms": attempt.duration_ms,
            })
    return {
        "deliveries": [
            {"id": d.id, "event_id": d.event_id, "type": kind, "status": d.status, "created_at": format_timestamp(d.created_at),
             "next_attempt_at": format_timestamp(d.next_attempt_at) if d.next_attempt_at else None,
             "finished_at": format_timestamp(d.finished_at) if d.finished_at else None, "attempts": attempts[d.id]}
            for d, kind in shown
        ],
        "next_before": shown[-1][0].id if shown else before,
        "has_more": len(rows) > limit,
    }


def purge(session: Session, before: datetime) -> int:
    """Remove deliveries finished before ``before`` (with their attempts) and the events nothing waits on; how many events."""
    finished = select(WebhookDeliveryRow.id).where(WebhookDeliveryRow.status != PENDING, WebhookDeliveryRow.finished_at < before)
    session.execute(delete(WebhookAttemptRow).where(WebhookAttemptRow.delivery_id.in_(finished.scalar_subquery())))
    session.execute(delete(WebhookDeliveryRow).where(WebhookDeliveryRow.id.in_(finished.scalar_subquery())))
    waiting = select(WebhookDeliveryRow.event_id).where(WebhookDeliveryRow.event_id == WebhookEventRow.id).exists()
    # Clock events keep their rows: the dedupe key is what makes each alert once only.
    gone = session.execute(delete(WebhookEventRow).where(
        WebhookEventRow.dispatched_at < before, WebhookEventRow.dedupe_key.is_(None), ~waiting,
    ))
    return int(cast(CursorResult[Any], gone).rowcount or 0)
