"""Webhooks for the CRM: register, list, delete, and see each delivery with its attempts (admins only)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from fieldapp.limits import INT64_MAX
from portal.api.deps import AdminDep, DbDep, JsonBody, WhereDep
from portal.api.rows import require_id, row_or_404
from portal.api.webhook_schemas import DeliveryPage, WebhookCreate, WebhookCreated, WebhookList
from portal.errors import invalid_request, not_found
from portal.models_webhooks import WebhookRow
from portal.services import audit, webhook_outbox, webhooks
from portal.services.audit import Action, Event
from portal.webhook_http import UnsafeTarget, check_url

router = APIRouter(prefix="/admin", tags=["webhooks"])


class DeliveryStatus(StrEnum):
    """A delivery's state, to filter the list by."""

    PENDING = webhook_outbox.PENDING
    DELIVERED = webhook_outbox.DELIVERED
    FAILED = webhook_outbox.FAILED


@router.post("/webhooks", status_code=201, response_model=WebhookCreated)
def create_webhook(_admin: AdminDep, _json: JsonBody, body: WebhookCreate, db: DbDep, where: WhereDep) -> dict[str, Any]:
    """A new webhook; the answer holds its signing secret, which is never shown again."""
    try:
        check_url(body.url)
    except UnsafeTarget as refused:
        raise invalid_request({"url": str(refused)}, f"The webhook address cannot be used: {refused}") from None
    with db.plain(writes=True) as session:
        webhook = webhooks.create(session, body.url, [str(e) for e in body.events], where.actor_id)
        audit.add(session, where, [Event(Action.ADMIN_CREATE, "webhook", webhook.id, {"fields": ["events", "url"], "events": webhook.events})])
        return {**webhooks.public(webhook), "secret": webhook.secret}


@router.get("/webhooks", response_model=WebhookList)
def list_webhooks(_admin: AdminDep, db: DbDep) -> dict[str, Any]:
    """Every webhook (without secrets)."""
    with db.read() as session:
        return {"webhooks": webhooks.listing(session)}


@router.delete("/webhooks/{webhook_id}", status_code=204)
def delete_webhook(webhook_id: str, _admin: AdminDep, db: DbDep, where: WhereDep) -> Response:
    """Stop a webhook: it and its deliveries are removed (pending ones are not sent)."""
    require_id(webhook_id, "webhook")
    with db.plain(writes=True) as session:
        if not webhooks.remove(session, webhook_id):
            raise not_found("webhook")
        audit.add(session, where, [Event(Action.ADMIN_DELETE, "webhook", webhook_id)])
    return Response(status_code=204)


@router.get("/webhooks/{webhook_id}/deliveries", response_model=DeliveryPage)
def deliveries(
    webhook_id: str, _admin: AdminDep, db: DbDep,
    before: Annotated[int | None, Query(ge=1, le=INT64_MAX)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    status: Annotated[DeliveryStatus | None, Query()] = None,
) -> dict[str, Any]:
    """The webhook's deliveries, newest first, each with its attempts; page on with ``before=next_before``."""
    with db.read() as session:
        row_or_404(session, WebhookRow, webhook_id, "webhook")
        return webhook_outbox.page(session, webhook_id, before, limit, str(status) if status else None)
