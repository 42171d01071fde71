"""The audit log: who signed in, pulled, read a photo, changed a record or an account.

An event names the actor, the device and client address, the action and the record,
and ``details`` that hold counts, field *names* and outcomes: never a password, a
token or a field's value. Events are only ever inserted: no code path updates or
deletes them, and the database refuses it (triggers, migration 0007).

Ids come from the ``audit_seq`` counter inside the inserting transaction, so they are
handed out in commit order: ``GET /admin/audit?since=ID`` never skips an event that
commits late.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, cast

from sqlalchemy import Table, select, update
from sqlalchemy.orm import Session

from portal.core.db import AUDIT_COUNTER, Database
from portal.models import CounterRow
from portal.models_security import AuditEventRow
from portal.services.bulk import insert_rows
from portal.services.sequence import utcnow
from sync.protocol import format_timestamp

_COUNTERS = cast(Table, CounterRow.__table__)
_EVENTS = cast(Table, AuditEventRow.__table__)


class Action(StrEnum):
    """The actions the audit log records."""

    LOGIN = "auth.login"
    LOGIN_FAILED = "auth.login_failed"
    LOGOUT = "auth.logout"
    LOGOUT_ALL = "auth.logout_all"
    PASSWORD_CHANGED = "auth.password_changed"
    PASSWORD_CHANGE_FAILED = "auth.password_change_failed"
    PULL = "sync.pull"
    BLOB_READ = "blob.read"
    LETTER_READ = "letter.read"
    OP_APPLIED = "op.applied"
    REVIEW_DECIDED = "review.decided"
    ADMIN_CREATE = "admin.create"
    ADMIN_UPDATE = "admin.update"
    ADMIN_DELETE = "admin.delete"
    ADMIN_EXPORT = "admin.export"
    ADMIN_IMPORT = "admin.import"
    ACCOUNT_UPDATED = "account.updated"
    WEB_PAGE_READ = "web.page_read"


@dataclass(frozen=True)
class Where:
    """Who acts, from which device and client address (the request's side of every event)."""

    actor_id: str | None
    device_id: str | None
    address: str | None


@dataclass(frozen=True)
class Event:
    """One thing that happened to one record."""

    action: Action
    entity: str | None = None
    entity_id: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


def add(session: Session, where: Where, events: Iterable[Event]) -> None:
    """Insert the events inside the caller's transaction (they commit, or vanish, with its change)."""
    rows = list(events)
    if not rows:
        return
    # Taken last in the transaction, so the counter row is locked only until the commit.
    top = int(session.execute(
        update(_COUNTERS).where(_COUNTERS.c.name == AUDIT_COUNTER).values(value=_COUNTERS.c.value + len(rows))
        .returning(_COUNTERS.c.value)
    ).scalar_one())
    now = utcnow()
    first = top - len(rows) + 1
    # In bulk: a case import records an event per case it creates, thousands per transaction.
    insert_rows(session, _EVENTS, [
        {"id": first + index, "at": now, "actor_id": where.actor_id, "action": str(event.action), "entity": event.entity,
         "entity_id": event.entity_id, "device_id": where.device_id, "address": where.address, "details": event.details}
        for index, event in enumerate(rows)
    ])


def record(db: Database, where: Where, *events: Event) -> None:
    """Insert the events in a transaction of their own (for reads and refusals, which change nothing else)."""
    with db.plain(writes=True) as session:
        add(session, where, events)


def page(session: Session, since: int, limit: int) -> dict[str, Any]:
    """``GET /admin/audit``: the events after ``since`` in ascending id."""
    rows = list(session.scalars(select(AuditEventRow).where(AuditEventRow.id > since).order_by(AuditEventRow.id).limit(limit + 1)))
    events = rows[:limit]
    return {
        "events": [
            {"id": e.id, "at": format_timestamp(e.at), "actor_id": e.actor_id, "action": e.action, "entity": e.entity,
             "entity_id": e.entity_id, "device_id": e.device_id, "address": e.address, "details": e.details}
            for e in events
        ],
        "next_since": events[-1].id if events else since,
        "has_more": len(rows) > limit,
    }
