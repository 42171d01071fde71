"""Pull: the changes in a caller's scope after a cursor, one consistent snapshot per page.

Sources are the record tables (filtered by the caller's scope, ``seq > cursor``) and
the caller's own scope-change rows (tombstones and grants). Every row has its own seq,
so merging the sources by seq and cutting at ``limit`` rows never splits a seq.

A page is served in two steps, each reading indexes in seq order so that its cost is
the page's, not the caller's scope's: the seqs of each source find where the page ends,
then each source's rows up to there are loaded (and the records of scope-change rows).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any, NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.errors import ApiError
from portal.models import (
    AwaabScheduleRow,
    CaseRow,
    HazardVocabularyRow,
    PropertyRow,
    ResidentRow,
    ScopeChangeRow,
    TeamRow,
    TemplateRow,
    UserRow,
    VisitRow,
)
from portal.services import scope
from portal.services.sequence import current_seq, horizon, set_horizon, utcnow
from sync.protocol import ErrorCode

_MODELS: dict[str, Any] = {
    "team": TeamRow, "user": UserRow, "property": PropertyRow, "resident": ResidentRow,
    "case": CaseRow, "template": TemplateRow, "visit": VisitRow,
    "hazard_vocabulary": HazardVocabularyRow, "awaab_schedule": AwaabScheduleRow,
}


class _Source(NamedTuple):
    """One index-friendly part of the caller's scope in one record table."""

    entity: str
    model: Any
    condition: Any


def _sources(session: Session, caller: scope.Caller) -> list[_Source]:
    parts = scope.pull_sources(session, caller)
    return [_Source(entity, _MODELS[entity], condition) for entity, conditions in parts.items() for condition in conditions]


@dataclass(frozen=True)
class _Row:
    """One candidate change of a page: a record row, or a scope-change row (its record read later)."""

    seq: int
    entity: str
    id: str
    #: The record as of the snapshot (record rows; scope-change rows of the page once read).
    record: Any = field(default=None, compare=False)
    #: None for a record row; True for a tombstone, False for a grant (scope-change rows).
    scope_deleted: bool | None = None


def _cut(session: Session, sources: list[_Source], scope_seqs: list[int], cursor: int, limit: int) -> int | None:
    """The seq of the page's last row, or None when the rest of the scope fits in the page.

    Each source gives at most ``limit + 1`` seqs in order, so the first ``limit`` of the
    merge are the first ``limit`` of the whole scope, and one more means there are more.
    Only seqs here (index reads): the page's rows are loaded once the cut is known.
    """
    seqs = set(scope_seqs)
    for _, model, condition in sources:
        query = select(model.seq).where(model.seq > cursor, condition).order_by(model.seq).limit(limit + 1)
        seqs.update(session.scalars(query))  # a record reached through two sources is one seq
    if len(seqs) <= limit:
        return None
    return sorted(seqs)[limit - 1]


def _scope_rows(session: Session, caller: scope.Caller, cursor: int, limit: int) -> list[_Row]:
    query = (
        select(ScopeChangeRow.seq, ScopeChangeRow.entity, ScopeChangeRow.entity_id, ScopeChangeRow.deleted)
        .where(ScopeChangeRow.user_id == caller.id, ScopeChangeRow.seq > cursor).order_by(ScopeChangeRow.seq).limit(limit + 1)
    )
    return [_Row(seq, entity, entity_id, None, deleted) for seq, entity, entity_id, deleted in session.execute(query)]


def _record_rows(session: Session, sources: list[_Source], cursor: int, cut: int | None) -> set[_Row]:
    # A seq range, not a list of ids: the same index walk as the cut, and no IN list to plan.
    rows: set[_Row] = set()
    for entity, model, condition in sources:
        query = select(model).where(model.seq > cursor, condition)
        if cut is not None:
            query = query.where(model.seq <= cut)
        rows.update(_Row(r.seq, entity, r.id, r) for r in session.scalars(query))
    return rows


def _with_records(session: Session, rows: list[_Row]) -> list[_Row]:
    """Scope-change rows given their record's state as of the snapshot (one query per entity)."""
    wanted: dict[str, set[str]] = {}
    for row in rows:
        if row.scope_deleted is not None:
            wanted.setdefault(row.entity, set()).add(row.id)
    found: dict[tuple[str, str], Any] = {}
    for entity, ids in wanted.items():
        model = _MODELS[entity]
        found.update(((entity, r.id), r) for r in session.scalars(select(model).where(model.id.in_(ids))))
    return [replace(row, record=found.get((row.entity, row.id))) if row.scope_deleted is not None else row for row in rows]


def _change(row: _Row) -> dict[str, Any]:
    # A grant carries the record's state now; a tombstone (or a vanished record) no data.
    record = row.record
    deleted = row.scope_deleted is True or record is None
    return {
        "entity": row.entity, "id": row.id, "version": record.version if record is not None else 0,
        "seq": row.seq, "deleted": deleted, "data": None if deleted else record.data(),
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
    sources = _sources(session, caller)
    scope_rows = _scope_rows(session, caller, cursor, limit)
    cut = _cut(session, sources, [row.seq for row in scope_rows], cursor, limit)
    rows = _record_rows(session, sources, cursor, cut) | {row for row in scope_rows if cut is None or row.seq <= cut}
    page = sorted(rows, key=lambda row: row.seq)
    has_more = cut is not None
    # Within a page a record appears once, with its latest row.
    newest: dict[tuple[str, str], _Row] = {}
    for row in page:
        newest[(row.entity, row.id)] = row
    chosen = _with_records(session, sorted(newest.values(), key=lambda row: row.seq))
    if has_more:
        next_cursor = page[-1].seq
    else:
        # Everything up to the snapshot's counter is committed and seen: skip ahead.
        next_cursor = max(cursor, latest)
    return {"changes": [_change(row) for row in chosen], "next_cursor": next_cursor, "has_more": has_more}


def purge_tombstones(session: Session, tombstone_days: int) -> int:
    """Drop scope changes older than the retention and raise the horizon past them."""
    cutoff = utcnow() - timedelta(days=tombstone_days)
    old = session.scalars(select(ScopeChangeRow).where(ScopeChangeRow.created_at < cutoff)).all()
    if not old:
        return 0
    set_horizon(session, max(change.seq for change in old))
    for change in old:
        session.delete(change)
    return len(old)
