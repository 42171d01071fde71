"""The tables of webhooks for the CRM: subscriptions, the durable outbox of events, deliveries and their attempts.

An event row is inserted by the transaction that causes it (a submit, a review
decision, a hazard report, a clock check), so it commits or vanishes with its cause.
The delivery worker (``portal.webhook_worker``) later fans each event out to the
webhooks subscribed to its type, freezing the body it signs, and delivers it with
retries; every state lives in these rows, so a restart loses nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from portal.models import Base

_BIG_ID = BigInteger().with_variant(Integer, "sqlite")


class WebhookRow(Base):
    """An endpoint of the CRM's and the event types it wants."""

    __tablename__ = "webhooks"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    url: Mapped[str] = mapped_column(String(2048))
    events: Mapped[list[str]] = mapped_column(JSON)
    #: ``whsec_`` + base64, as the Standard Webhooks specification writes it. The portal
    #: must sign with it, so it is kept as is; no answer after the creating one carries it.
    secret: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    created_by_id: Mapped[str | None] = mapped_column(String(36))


class WebhookEventRow(Base):
    """One event in the outbox: written with its cause, fanned out once by the worker."""

    __tablename__ = "webhook_events"
    __table_args__ = (Index("ix_webhook_events_pending", "dispatched_at", "occurred_at"),)
    #: The ``webhook-id`` of every delivery of this event (the same on each retry).
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    type: Mapped[str] = mapped_column(String(40))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    occurred_at: Mapped[datetime] = mapped_column(DateTime)
    #: Events that must happen once per fact (a clock going amber) carry a key; the unique
    #: index turns a second emission, by another process or after a restart, into nothing.
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    #: The exact JSON body signed and sent (frozen at fan-out, so every retry is identical).
    body: Mapped[str | None] = mapped_column(Text)
    dispatched_at: Mapped[datetime | None] = mapped_column(DateTime)


class WebhookDeliveryRow(Base):
    """One event to one webhook: pending until a 2xx (delivered) or until retries run out (failed)."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
        Index("ix_webhook_deliveries_webhook", "webhook_id", "id"),
    )
    id: Mapped[int] = mapped_column(_BIG_ID, primary_key=True, autoincrement=True)
    webhook_id: Mapped[str] = mapped_column(ForeignKey("webhooks.id", ondelete="CASCADE"))
    event_id: Mapped[str] = mapped_column(ForeignKey("webhook_events.id"), index=True)
    status: Mapped[str] = mapped_column(String(10))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime)
    #: A worker that claimed the delivery holds it until then (and only it may record the
    #: attempt, by its token); a worker that died lets it go when the lease runs out.
    lease_until: Mapped[datetime | None] = mapped_column(DateTime)
    lease_token: Mapped[str | None] = mapped_column(String(32))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)


class WebhookAttemptRow(Base):
    """One POST of a delivery: its answer's status code or the error, and how long it took."""

    __tablename__ = "webhook_attempts"
    id: Mapped[int] = mapped_column(_BIG_ID, primary_key=True, autoincrement=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime)
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(String(500))
    duration_ms: Mapped[int] = mapped_column(Integer)
