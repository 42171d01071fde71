"""Pull: the changes in a caller's scope after a cursor, one consistent snapshot per page.

Sources are the record tables (filtered by the caller's scope, ``seq > cursor``) and
the caller's own scope-change rows (tombstones and grants). Every row has its own seq,
so merging the sources by seq and cutting at ``limit`` rows never splits a seq.

A page is served in two steps so that its cost is the page's, not the caller's scope's:
each source's first seqs and ids (an index walk in seq order) find where the page ends,
then the records of the page, each once however many sources reach it, are read by
primary key as plain columns.
"""

from __future__ import annotations

import math
from collections import namedtuple
from collections.abc import Callable
from functools import lru_cache
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from portal.errors import ApiError
from portal.models import (
    AwaabScheduleRow,
    CaseRow,
    HazardVocabularyRow,
    PropertyRow,
    PullChainRow,
    ResidentRow,
    ScopeChangeRow,
    TeamRow,
    TemplateRow,
    UserRow,
    VisitRow,
)
from portal.services import scope
from portal.services.bulk import among, dialect_insert
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


class _Row(NamedTuple):
    """One candidate change of a page: a record row, or a scope-change row (its record read once the page is cut).

    A plain tuple: a page's cut weighs thousands of candidates, and a record reached
    through two sources is one candidate (same seq, entity and id).
    """

    seq: int
    entity: str
    id: str
    #: None for a record row; True for a tombstone, False for a grant (scope-change rows).
    scope_deleted: bool | None = None


#: Rows each source is first asked for. A page's big sources (cases, properties, residents)
#: share it, so each needs only a part of ``limit``.
_FIRST_CHUNK = 128
#: The least a source is asked for again, and the margin on its estimated share of the rest.
_MIN_CHUNK, _MARGIN = 32, 1.25


class _Walk:
    """One source read in seq order, a chunk at a time (``LIMIT`` on an index walk), as far as the page needs."""

    def __init__(self, fetch: Callable[[int, int], list[_Row]], cursor: int, limit: int) -> None:
        self._fetch = fetch
        self.room = limit + 1  # a source's own limit + 1 rows settle the page: it never reads more
        #: The last seq read: every row of this source up to it has been read.
        self.reached = cursor
        self.taken = 0
        self.done = False

    def step(self, count: int) -> list[_Row]:
        count = min(count, self.room)
        rows = self._fetch(self.reached, count)
        self.room -= len(rows)
        self.taken += len(rows)
        self.done = len(rows) < count  # read to its end
        if rows:
            self.reached = rows[-1].seq
        return rows


def _candidates(walks: list[_Walk], limit: int) -> set[_Row]:
    """Every source's rows up to the page's end (and some past it), as (seq, entity, id): index walks, no record read.

    Up to the lowest seq an unfinished source has reached, every row of every source has
    been read; once that holds ``limit + 1`` seqs, the page's end and whether more follow
    are known. Until then the source furthest behind reads on, asked for its share so far
    of the seqs still missing (one that has read ``limit + 1`` rows is never asked again:
    up to where it reached, it alone holds enough).
    """
    rows: set[_Row] = set()
    for walk in walks:
        rows.update(walk.step(_FIRST_CHUNK))
    while True:
        unfinished = [walk for walk in walks if not walk.done]
        if not unfinished:
            return rows
        behind = min(unfinished, key=lambda walk: walk.reached)
        settled = len({row.seq for row in rows if row.seq <= behind.reached})
        if settled > limit:
            return rows
        share = behind.taken / settled  # settled holds all the rows it read
        rows.update(behind.step(max(_MIN_CHUNK, math.ceil((limit + 1 - settled) * share * _MARGIN))))


def _cut(rows: set[_Row], limit: int) -> int | None:
    """The seq of the page's last row, or None when the rest of the scope fits in the page.

    `_candidates` read every source up to a seq with at least ``limit + 1`` seqs below it
    (or read every source to its end), so the first ``limit`` of the merge are the first
    ``limit`` of the whole scope, one more means there are more, and every row of any
    source up to that seq is among the candidates.
    """
    seqs = sorted({row.seq for row in rows})
    return seqs[limit - 1] if len(seqs) > limit else None


def _record_walk(session: Session, source: _Source) -> Callable[[int, int], list[_Row]]:
    entity, model, condition = source
    core = session.connection()  # the session's transaction, without the ORM's per-statement work (a page runs ~15 walks)

    def fetch(after: int, count: int) -> list[_Row]:
        query = select(model.seq, model.id).where(model.seq > after, condition).order_by(model.seq).limit(count)
        return [_Row(seq, entity, record_id) for seq, record_id in core.execute(query)]
    return fetch


def _scope_walk(session: Session, caller: scope.Caller) -> Callable[[int, int], list[_Row]]:
    core = session.connection()
    def fetch(after: int, count: int) -> list[_Row]:
        query = (
            select(ScopeChangeRow.seq, ScopeChangeRow.entity, ScopeChangeRow.entity_id, ScopeChangeRow.deleted)
            .where(ScopeChangeRow.user_id == caller.id, ScopeChangeRow.seq > after).order_by(ScopeChangeRow.seq).limit(count)
        )
        return [_Row(seq, entity, entity_id, deleted) for seq, entity, entity_id, deleted in core.execute(query)]
    return fetch


def _records(session: Session, rows: list[_Row]) -> dict[tuple[str, str], Any]:
    """The page's records as of the snapshot, by (entity, id): one query per entity, by primary key.

    Each a named tuple of the table's columns, which each model's ``data`` reads as it reads
    its ORM object: a first sync pulls tens of thousands of records, and building an ORM
    object for each, only to read its columns once, was most of a page's cost; reading a
    column of a SQLAlchemy ``Row`` by name costs several times reading a named tuple's.
    """
    wanted: dict[str, set[str]] = {}
    for row in rows:
        wanted.setdefault(row.entity, set()).add(row.id)
    found: dict[tuple[str, str], Any] = {}
    for entity, ids in wanted.items():
        model = _MODELS[entity]
        record_of = _record_type(model.__table__)
        query = select(*model.__table__.columns).where(among(session, model.id, ids))
        found.update(((entity, record.id), record) for record in map(record_of, session.execute(query)))
    return found


@lru_cache(maxsize=None)
def _record_type(table: Any) -> Callable[[Any], Any]:
    """A table's rows as named tuples (by column key): one type per table, made once."""
    record: Any = namedtuple(f"{table.name}_record", [column.key for column in table.columns])  # type: ignore[misc]
    return record._make


def _change(row: _Row, record: Any) -> dict[str, Any]:
    # A grant carries the record's state now; a tombstone (or a vanished record) no data.
    deleted = row.scope_deleted is True or record is None
    return {
        "entity": row.entity, "id": row.id, "version": record.version if record is not None else 0,
        "seq": row.seq, "deleted": deleted, "data": None if deleted else _MODELS[row.entity].data(record),
    }


def pull(session: Session, caller: scope.Caller, cursor: int, limit: int, tombstone_days: int) -> dict[str, Any]:
    """One page of changes; raises 410 resync_required below the tombstone horizon.

    A cursor below the horizon that this portal handed out mid-way through a recent pull
    from 0 is not too old: see `PullChainRow` and `remember_chain`.
    """
    if 0 < cursor < horizon(session) and _chain_started(session, caller.id, cursor, tombstone_days) is None:
        raise ApiError(
            410, ErrorCode.RESYNC_REQUIRED,
            "This device has been away too long to catch up; it must download everything again.",
            {"horizon": horizon(session)},
        )
    latest = current_seq(session)
    if latest <= cursor:
        # Every row (record or scope change) has seq <= the counter: nothing can follow the cursor.
        return {"changes": [], "next_cursor": cursor, "has_more": False}
    fetches = [_record_walk(session, source) for source in _sources(session, caller)] + [_scope_walk(session, caller)]
    candidates = _candidates([_Walk(fetch, cursor, limit) for fetch in fetches], limit)
    cut = _cut(candidates, limit)
    page = sorted((row for row in candidates if cut is None or row.seq <= cut), key=lambda row: row.seq)
    has_more = cut is not None
    # Within a page a record appears once, with its latest row.
    newest: dict[tuple[str, str], _Row] = {}
    for row in page:
        newest[(row.entity, row.id)] = row
    chosen = sorted(newest.values(), key=lambda row: row.seq)
    records = _records(session, chosen)
    if has_more:
        next_cursor = page[-1].seq
    else:
        # Everything up to the snapshot's counter is committed and seen: skip ahead.
        next_cursor = max(cursor, latest)
    changes = [_change(row, records.get((row.entity, row.id))) for row in chosen]
    return {"changes": changes, "next_cursor": next_cursor, "has_more": has_more}


def _chain_started(session: Session, user_id: str, cursor: int, tombstone_days: int) -> datetime | None:
    """When the pull from 0 that handed out ``cursor`` began, if it is recent enough to go on from."""
    started: datetime | None = session.scalar(select(PullChainRow.started_at).where(
        PullChainRow.user_id == user_id, PullChainRow.cursor == cursor))
    return started if started is not None and started >= utcnow() - timedelta(days=tombstone_days) else None


def chain_start(session: Session, user_id: str, cursor: int, page: dict[str, Any], tombstone_days: int) -> datetime | None:
    """When the pull from 0 that this page continues began, if its next cursor must be noted (else None).

    Read in the page's own transaction; an ordinary catch-up (not from 0) and a last page need nothing.
    """
    if not page["has_more"]:
        return None
    return utcnow() if cursor == 0 else _chain_started(session, user_id, cursor, tombstone_days)


def remember_chain(session: Session, user_id: str, next_cursor: int, started: datetime) -> None:
    """Note a cursor a pull from 0 hands out mid-way, before the page is answered.

    A first sync of many pages would otherwise fall below the horizon on a portal that has
    purged tombstones, and be told to start again from 0, for ever.
    """
    session.execute(dialect_insert(session)(PullChainRow).values(
        user_id=user_id, cursor=next_cursor, started_at=started).on_conflict_do_nothing())


def purge_tombstones(session: Session, tombstone_days: int) -> int:
    """Drop scope changes older than the retention and raise the horizon past them (and expired chain cursors)."""
    cutoff = utcnow() - timedelta(days=tombstone_days)
    session.execute(delete(PullChainRow).where(PullChainRow.started_at < cutoff))
    old = session.scalars(select(ScopeChangeRow).where(ScopeChangeRow.created_at < cutoff)).all()
    if not old:
        return 0
    set_horizon(session, max(change.seq for change in old))
    for change in old:
        session.delete(change)
    return len(old)
