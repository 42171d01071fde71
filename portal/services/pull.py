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
_FILTERS = {
    "team": scope.team_filter, "user": scope.user_filter, "property": scope.property_filter,
    "resident": scope.resident_filter, "case": scope.case_filter, "template": scope.template_filter,
    "visit": scope.visit_filter,
}


@dataclass(frozen=True)
class _Row:
    """One candidate change of a page, from a record table or a scope-change row."""

    seq: int
    entity: str
    id: str
    version: int
    deleted: bool
    data: dict[str, Any] | None

    def change(self) -> dict[str, Any]:
        return {"entity": self.entity, "id": self.id, "version": self.version, "seq": self.seq, "deleted": self.deleted, "data": self.data}


def _record_rows(session: Session, caller: scope.Caller, cursor: int, limit: int) -> list[_Row]:
    rows: list[_Row] = []
    for entity, model in _MODELS.items():
        query = select(model).where(model.seq > cursor, _FILTERS[entity](caller)).order_by(model.seq).limit(limit + 1)
        rows.extend(_Row(r.seq, entity, r.id, r.version, False, r.data()) for r in session.scalars(query))
    return rows


def _scope_rows(session: Session, caller: scope.Caller, cursor: int, limit: int) -> list[_Row]:
    query = (
        select(ScopeChange).where(ScopeChange.user_id == caller.id, ScopeChange.seq > cursor)
        .order_by(ScopeChange.seq).limit(limit + 1)
    )
    rows: list[_Row] = []
    for change in session.scalars(query):
        record = session.get(_MODELS[change.entity], change.entity_id)
        if change.deleted or record is None:
            rows.append(_Row(change.seq, change.entity, change.entity_id, record.version if record else 0, True, None))
        else:
            rows.append(_Row(change.seq, change.entity, change.entity_id, record.version, False, record.data()))
    return rows


def pull(session: Session, caller: scope.Caller, cursor: int, limit: int) -> dict[str, Any]:
    """One page of changes; raises 410 resync_required below the tombstone horizon."""
    if cursor > 0 and cursor < horizon(session):
        raise ApiError(
            410, ErrorCode.RESYNC_REQUIRED,
            "This device has been away too long to catch up; it must download everything again.",
            {"horizon": horizon(session)},
        )
    latest = current_seq(session)
    candidates = sorted(_record_rows(session, caller, cursor, limit) + _scope_rows(session, caller, cursor, limit), key=lambda r: r.seq)
    page = candidates[:limit]
    has_more = len(candidates) > limit
    # Within a page a record appears once, with its latest row.
    newest: dict[tuple[str, str], _Row] = {}
    for row in page:
        newest[(row.entity, row.id)] = row
    changes = [row.change() for row in sorted(newest.values(), key=lambda r: r.seq)]
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
