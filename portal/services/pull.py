"""Pull: the changes in a caller's scope after a cursor, one consistent snapshot per page.

Sources are the record tables (filtered by the caller's scope, ``seq > cursor``) and
the caller's own scope-change rows (tombstones and grants). Every row has its own seq,
so merging the sources by seq and cutting at ``limit`` rows never splits a seq.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.errors import ApiError
from portal.models import Case, Property, Resident, ScopeChange, Team, Template, User, Visit
from portal.services import scope
from portal.services.sequence import current_seq, horizon, set_horizon, utcnow
from sync.protocol import ErrorCode

_MODELS: dict[str, Any] = {
    "team": Team, "user": User, "property": Property, "resident": Resident,
    "case": Case, "template": Template, "visit": Visit,
}


@dataclass(frozen=True)
class _Key:
    """One candidate change of a page before its record is read: a record row or a scope-change row."""

    seq: int
    entity: str
    id: str
    #: None for a record row; True for a tombstone, False for a grant (scope-change rows).
    scope_deleted: bool | None = None


def _record_keys(session: Session, caller: scope.Caller, cursor: int, limit: int) -> set[_Key]:
    # Only (seq, id) here: the rows that do not make the page are never loaded.
    keys: set[_Key] = set()
    for entity, conditions in scope.pull_sources(session, caller).items():
        model = _MODELS[entity]
        for condition in conditions:
            query = select(model.seq, model.id).where(model.seq > cursor, condition).order_by(model.seq).limit(limit + 1)
            keys.update(_Key(seq, entity, record_id) for seq, record_id in session.execute(query))
    return keys


def _scope_keys(session: Session, caller: scope.Caller, cursor: int, limit: int) -> set[_Key]:
    query = (
        select(ScopeChange.seq, ScopeChange.entity, ScopeChange.entity_id, ScopeChange.deleted)
        .where(ScopeChange.user_id == caller.id, ScopeChange.seq > cursor).order_by(ScopeChange.seq).limit(limit + 1)
    )
    return {_Key(seq, entity, entity_id, deleted) for seq, entity, entity_id, deleted in session.execute(query)}


def _records(session: Session, keys: list[_Key]) -> dict[tuple[str, str], Any]:
    """The page's records as of the snapshot, one query per entity."""
    wanted: dict[str, set[str]] = {}
    for key in keys:
        wanted.setdefault(key.entity, set()).add(key.id)
    found: dict[tuple[str, str], Any] = {}
    for entity, ids in wanted.items():
        model = _MODELS[entity]
        found.update(((entity, r.id), r) for r in session.scalars(select(model).where(model.id.in_(ids))))
    return found


def _change(key: _Key, record: Any) -> dict[str, Any]:
    # A grant carries the record's state now; a tombstone (or a vanished record) no data.
    deleted = key.scope_deleted is True or record is None
    return {
        "entity": key.entity, "id": key.id, "version": record.version if record is not None else 0,
        "seq": key.seq, "deleted": deleted, "data": None if deleted else record.data(),
    }


def pull(session: Session, caller: scope.Caller, cursor: int, limit: int) -> dict[str, Any]:
    """One page of changes; raises 410 resync_required below the tombstone horizon."""
    if cursor > 0 and cursor < horizon(session):
        raise ApiError(
            410, ErrorCode.RESYNC_REQUIRED,
            "This device has been away too long to catch up; it must download everything again.",
            {"horizon": horizon(session)},
        )
    latest = current_seq(session)
    if latest <= cursor:
        # Every row (record or scope change) has seq <= the counter: nothing can follow the cursor.
        return {"changes": [], "next_cursor": cursor, "has_more": False}
    # Each source gave at most limit + 1 rows in seq order, so the first ``limit`` of the
    # merge are the first ``limit`` of the whole scope, and one more means there are more.
    candidates = sorted(_record_keys(session, caller, cursor, limit) | _scope_keys(session, caller, cursor, limit), key=lambda k: k.seq)
    page = candidates[:limit]
    has_more = len(candidates) > limit
    # Within a page a record appears once, with its latest row.
    newest: dict[tuple[str, str], _Key] = {}
    for key in page:
        newest[(key.entity, key.id)] = key
    chosen = sorted(newest.values(), key=lambda k: k.seq)
    records = _records(session, chosen)
    changes = [_change(key, records.get((key.entity, key.id))) for key in chosen]
    if has_more:
        next_cursor = page[-1].seq
    else:
        # Everything up to the snapshot's counter is committed and seen: skip ahead.
        next_cursor = max(cursor, latest)
    return {"changes": changes, "next_cursor": next_cursor, "has_more": has_more}


def purge_tombstones(session: Session, tombstone_days: int) -> int:
    """Drop scope changes older than the retention and raise the horizon past them."""
    cutoff = utcnow() - timedelta(days=tombstone_days)
    old = session.scalars(select(ScopeChange).where(ScopeChange.created_at < cutoff)).all()
    if not old:
        return 0
    set_horizon(session, max(change.seq for change in old))
    for change in old:
        session.delete(change)
    return len(old)
