"""Request and answer models of the webhook endpoints (PROTOCOL.md revision 2, "Integration for the CRM")."""

from __future__ import annotations

from pydantic import Field, StrictStr

from portal.services.webhooks import EventType
from sync.protocol import Incoming, Outgoing


class WebhookCreate(Incoming):
    """``POST /admin/webhooks``: where to deliver, and which event types."""

    url: StrictStr = Field(min_length=1, max_length=2048)
    events: list[EventType] = Field(min_length=1, max_length=len(EventType))


class WebhookPublic(Outgoing):
    """A webhook as listed (never its secret)."""

    id: str
    url: str
    events: list[str]
    created_at: str


class WebhookCreated(WebhookPublic):
    """The answer of ``POST /admin/webhooks``: the only one that carries the signing secret."""

    secret: str


class WebhookList(Outgoing):
    """``GET /admin/webhooks``."""

    webhooks: list[WebhookPublic]


class AttemptPublic(Outgoing):
    """One POST of a delivery: the receiver's status code, or the error; how long it took."""

    at: str
    status_code: int | None
    error: str | None
    duration_ms: int


class DeliveryPublic(Outgoing):
    """One event to one webhook, with its attempts (newest first)."""

    id: int
    event_id: str
    type: str
    status: str
    created_at: str
    next_attempt_at: str | None
    finished_at: str | None
    attempts: list[AttemptPublic]


class DeliveryPage(Outgoing):
    """``GET /admin/webhooks/{id}/deliveries``: newest first; ask again with ``before=next_before`` while ``has_more``."""

    deliveries: list[DeliveryPublic]
    next_before: int | None
    has_more: bool
