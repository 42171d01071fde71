"""The database side of a whole-photo PUT, lean: the caller's lookup, and the blob's row in commits uploads share.

Why: a push PUTs each photo on its own, several at once into each portal process, and
through SQLAlchemy's Core the two database steps of one cost about as much CPU as the
photo's JPEG check (per photo: lookup 0.10-0.23 ms, row and commit 0.27-0.43 ms, of
~3.3 ms). Here both run on the DBAPI cursor of a pooled connection, skipping the
compilation, events and result objects of each call: the lookup is ``LIVE_CALLER``
(the token's liveness rules, read on every request so a revoke takes effect at once)
compiled once per dialect, the same SQL the Core path runs; the record is written SQL.
A driver's error is raised as SQLAlchemy raises it (``db.driver_error``: no row values).

Group commit: a record waits for its transaction's durable commit (SQLite's WAL sync,
PostgreSQL's ``synchronous_commit``), and uploads in flight in one process at once
share one. A record that finds no batch committing commits at once, alone (nothing
ever waits to gather a batch); records arriving meanwhile queue, and the first of them
commits all the queue holds once the batch before has committed. A failed batch is
retried record by record, so each upload gets its own outcome.

Measured (bench_ingest, 4 connections, 2 workers, medians of 3 at load 1.0-1.7): portal
CPU a photo 3.37 -> 2.83 ms on SQLite, 3.71 -> 3.11 ms on PostgreSQL; a lone row and
commit 0.28 -> 0.09 ms and 0.32 -> 0.16 ms.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from sqlalchemy import Dialect, Select, String, bindparam, event, exists

from portal.core.db import Database, begin_immediate, driver_error
from portal.models import BlobPartialRow, BlobRow, UserRow
from portal.services import scope
from portal.services.auth import LIVE_CALLER, live_params
from portal.services.imagecheck import ImageFacts
from portal.services.sequence import utcnow

_SHA = bindparam("sha", type_=String)
#: The token's caller (``LIVE_CALLER``), is the blob complete, has the caller a partial upload of it.
CALLER_AND_STATE: Select[Any] = LIVE_CALLER.add_columns(
    exists().where(BlobRow.sha256 == _SHA).label("complete"),
    exists().where(BlobPartialRow.sha256 == _SHA, BlobPartialRow.user_id == UserRow.id).label("own"),
)

# An existing row is only touched: a fresh upload restarts the grace period housekeeping
# gives unreferenced blobs (the bytes are the same: both hash to the name).
_SQLITE_ADD_BLOBS = """
INSERT INTO blobs (sha256, state, "offset", total, content_type, updated_at, width, height)
VALUES (?, 'complete', ?, ?, ?, ?, ?, ?)
ON CONFLICT (sha256) DO UPDATE SET updated_at = excluded.updated_at
"""
_SQLITE_ADD_UPLOADERS = "INSERT INTO blob_uploaders (sha256, user_id) VALUES (?, ?) ON CONFLICT DO NOTHING"
#: A batch as one statement on an autocommit connection: one round trip and one commit.
#: Rows in hash order, so two processes' batches lock a blob they share in the same order.
_PG_RECORD = """
WITH uploaded AS (
    SELECT * FROM unnest(%(sha)s::varchar[], %(user)s::varchar[], %(total)s::bigint[], %(type)s::varchar[],
                         %(width)s::integer[], %(height)s::integer[])
        AS u(sha256, user_id, total, content_type, width, height)
), made AS (
    INSERT INTO blobs (sha256, state, "offset", total, content_type, updated_at, width, height)
    SELECT DISTINCT ON (sha256) sha256, 'complete', total, total, content_type, %(now)s::timestamp, width, height
    FROM uploaded ORDER BY sha256
    ON CONFLICT (sha256) DO UPDATE SET updated_at = excluded.updated_at
)
INSERT INTO blob_uploaders (sha256, user_id) SELECT sha256, user_id FROM uploaded ORDER BY sha256, user_id
ON CONFLICT DO NOTHING
"""

#: ``_PG_RECORD`` for a batch of one (nearly every batch: uploads seldom meet at the commit):
#: plain values cost PostgreSQL and the driver 0.08 ms less CPU a photo than the arrays.
_PG_RECORD_ONE = """
WITH made AS (
    INSERT INTO blobs (sha256, state, "offset", total, content_type, updated_at, width, height)
    VALUES (%(sha)s, 'complete', %(total)s, %(total)s, %(type)s, %(now)s::timestamp, %(width)s, %(height)s)
    ON CONFLICT (sha256) DO UPDATE SET updated_at = excluded.updated_at
)
INSERT INTO blob_uploaders (sha256, user_id) VALUES (%(sha)s, %(user)s) ON CONFLICT DO NOTHING
"""

@dataclass(frozen=True)
class WholeRecord:
    """A blob stored whole (its file synced) and the caller who uploaded it."""

    user_id: str
    sha256: str
    total: int
    facts: ImageFacts


@dataclass(frozen=True)
class WholeState:
    """What a whole-blob PUT needs to know first: is the blob complete, has the caller a partial upload of it."""

    complete: bool
    own_partial: bool


def caller_and_state(db: Database, token: str, sha256: str) -> tuple[scope.Caller, WholeState] | None:
    """The token's caller (None: not live) and the blob's ``WholeState`` for them: ``CALLER_AND_STATE`` in one query."""
    lane = _lane(db)
    params = lane.lookup_params({**live_params(token), "sha": sha256})
    row = lane.connections.run(lane.lookup_sql, lambda cursor: cursor.execute(lane.lookup_sql, params).fetchone())
    if row is None:
        return None
    user_id, username, role, team_id, complete, own = row
    return scope.Caller(user_id, username, role, team_id), WholeState(bool(complete), bool(own))


def record(db: Database, whole: WholeRecord) -> None:
    """The blob's row (unless it exists: then touched) and its uploader, committed (durably) when this returns."""
    _lane(db).group.submit(whole)


def group_commit(db: Database) -> GroupCommit[WholeRecord]:
    """The group commit ``record`` goes through for this database, in this process."""
    return _lane(db).group


T = TypeVar("T")
R = TypeVar("R")


@dataclass(eq=False)
class _Waiter(Generic[T]):
    item: T
    woken: threading.Event = field(default_factory=threading.Event)
    #: Set by the batch before: this waiter commits the next batch.
    leads: bool = False
    committed: bool = False
    error: BaseException | None = None


class GroupCommit(Generic[T]):
    """Commits what concurrent callers submit, one batch at a time, each batch in one transaction.

    ``commit`` writes and commits a list of items in one transaction, or raises having
    committed none of them. ``submit`` returns once its item's transaction has committed,
    or raises the error of its item alone.
    """

    def __init__(self, commit: Callable[[Sequence[T]], None]) -> None:
        self._commit = commit
        self._lock = threading.Lock()
        self._queue: list[_Waiter[T]] = []
        self._committing = False

    @property
    def committing(self) -> bool:
        """A batch is being committed (submitted items queue for the next)."""
        return self._committing

    def queued(self) -> int:
        """How many items wait for the next batch."""
        with self._lock:
            return len(self._queue)

    def submit(self, item: T) -> None:
        waiter = _Waiter(item)
        with self._lock:
            self._queue.append(waiter)
            waiter.leads = not self._committing
            self._committing = True
        if not waiter.leads:
            waiter.woken.wait()
        if waiter.leads:
            self._lead()
        if waiter.error is not None:
            raise waiter.error

    def _lead(self) -> None:
        """Commit everything queued (this caller's item among it), then hand the queue to its first waiter."""
        with self._lock:
            batch, self._queue = self._queue, []
        try:
            self._commit_batch(batch)
        finally:
            with self._lock:
                successor = self._queue[0] if self._queue else None
                if successor is None:
                    self._committing = False
                else:
                    successor.leads = True
            for waiter in batch:
                if not waiter.committed and waiter.error is None:
                    waiter.error = RuntimeError("The upload's record was not committed: the batch holding it stopped.")
                waiter.woken.set()
            if successor is not None:
                successor.woken.set()

    def _commit_batch(self, batch: list[_Waiter[T]]) -> None:
        try:
            self._commit([waiter.item for waiter in batch])
        except Exception as exc:
            if len(batch) == 1:
                batch[0].error = exc
                return
            # One bad record must not fail the others: each on its own, with its own outcome.
            for waiter in batch:
                try:
                    self._commit([waiter.item])
                except Exception as own:
                    waiter.error = own
                else:
                    waiter.committed = True
            return
        for waiter in batch:
            waiter.committed = True


@dataclass
class _Lane:
    """One database's prepared SQL and group commit (per process: each holds its own)."""

    dialect: Dialect
    lookup_sql: str
    lookup_names: tuple[str, ...] | None
    processors: dict[str, Callable[[Any], Any]]
    connections: _Connections
    group: GroupCommit[WholeRecord] = field(init=False)

    def lookup_params(self, values: dict[str, Any]) -> Sequence[Any] | dict[str, Any]:
        """The lookup's parameters as the driver takes them (SQLite's by position), converted as SQLAlchemy would."""
        values = {name: self.processors[name](value) if name in self.processors else value for name, value in values.items()}
        return tuple(values[name] for name in self.lookup_names) if self.lookup_names is not None else values

    def timestamp(self) -> Any:
        """Now, as the driver takes a DateTime column's value."""
        return self.processors["now"](utcnow()) if "now" in self.processors else utcnow()


_lanes: weakref.WeakKeyDictionary[Database, _Lane] = weakref.WeakKeyDictionary()
_lanes_lock = threading.Lock()


def _lane(db: Database) -> _Lane:
    lane = _lanes.get(db)
    if lane is not None:
        return lane
    with _lanes_lock:
        lane = _lanes.get(db)
        if lane is None:
            lane = _lanes[db] = _new_lane(db)
    return lane


def _new_lane(db: Database) -> _Lane:
    dialect = db.engine.dialect
    compiled = CALLER_AND_STATE.compile(dialect=dialect)
    processors: dict[str, Callable[[Any], Any]] = {}
    for name, bind in compiled.binds.items():
        processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
        if processor is not None:
            processors[name] = processor
    names = tuple(compiled.positiontup) if compiled.positiontup else None
    lane = _Lane(dialect, compiled.string, names, processors, _Connections(db))
    lane.group = GroupCommit(lambda batch: _commit_sqlite(lane, batch) if db.sqlite else _commit_pg(lane, batch))
    return lane


def _commit_sqlite(lane: _Lane, batch: Sequence[WholeRecord]) -> None:
    now = lane.timestamp()

    def write(cursor: Any) -> None:
        begin_immediate(cursor)
        cursor.executemany(_SQLITE_ADD_BLOBS, [
            (r.sha256, r.total, r.total, r.facts.content_type, now, r.facts.width, r.facts.height) for r in batch])
        cursor.executemany(_SQLITE_ADD_UPLOADERS, [(r.sha256, r.user_id) for r in batch])
        cursor.execute("COMMIT")

    lane.connections.run(_SQLITE_ADD_BLOBS, write)


def _commit_pg(lane: _Lane, batch: Sequence[WholeRecord]) -> None:
    columns: dict[str, list[Any]] = {
        "sha": [r.sha256 for r in batch], "user": [r.user_id for r in batch], "total": [r.total for r in batch],
        "type": [r.facts.content_type for r in batch], "width": [r.facts.width for r in batch],
        "height": [r.facts.height for r in batch],
    }
    values: dict[str, Any] = {name: column[0] for name, column in columns.items()} if len(batch) == 1 else dict(columns)
    statement = _PG_RECORD_ONE if len(batch) == 1 else _PG_RECORD
    lane.connections.run(statement, lambda cursor: cursor.execute(statement, {**values, "now": lane.timestamp()}))


class _Connections:
    """Pooled connections this path keeps checked out between uses (a few), on PostgreSQL in autocommit.

    Why: a checkout from the engine's pool first pings the server (``pool_pre_ping``), a
    round trip of ~0.07 ms CPU and ~0.1 ms wait, twice a photo; so does the pool's reset
    on return. A kept connection skips both. One the server has closed since fails its
    statement as a disconnect: it is dropped, and the work (a read, or a record that is
    idempotent) runs once more on a fresh checkout, pinged as usual.
    """

    def __init__(self, db: Database, keep: int = 4) -> None:
        self._engine = db.engine
        self._dbapi_error = db.engine.dialect.loaded_dbapi.Error
        self._autocommit = not db.sqlite
        self._keep = keep
        self._idle: list[Any] = []
        self._lock = threading.Lock()
        event.listen(db.engine, "engine_disposed", lambda _engine: self.close())

    def run(self, statement: str, work: Callable[[Any], R]) -> R:
        """``work`` on a cursor; a driver's error raised as SQLAlchemy's (naming ``statement``)."""
        while True:
            raw, kept = self._take()
            try:
                cursor = raw.driver_connection.cursor()
                try:
                    found = work(cursor)
                finally:
                    cursor.close()
            except BaseException as exc:
                disconnected = isinstance(exc, self._dbapi_error) and self._engine.dialect.is_disconnect(exc, raw.driver_connection, None)
                self._after_error(raw, disconnected)
                if disconnected and kept:
                    continue
                if isinstance(exc, self._dbapi_error):
                    raise driver_error(self._engine.dialect, statement, exc) from None
                raise
            self._give_back(raw)
            return found

    def close(self) -> None:
        """Close the kept connections (the engine was disposed)."""
        with self._lock:
            idle, self._idle = self._idle, []
        for raw in idle:
            raw.detach()
            raw.close()

    def _take(self) -> tuple[Any, bool]:
        with self._lock:
            if self._idle:
                return self._idle.pop(), True
        raw: Any = self._engine.raw_connection()
        if self._autocommit:
            raw.driver_connection.autocommit = True
        return raw, False

    def _after_error(self, raw: Any, disconnected: bool) -> None:
        """End what the failed work left open (a SQLite transaction) and keep the connection, or drop it."""
        try:
            if not disconnected:
                raw.driver_connection.rollback()
                self._give_back(raw)
                return
        except self._dbapi_error:
            pass
        raw.invalidate()
        raw.close()

    def _give_back(self, raw: Any) -> None:
        with self._lock:
            if len(self._idle) < self._keep:
                self._idle.append(raw)
                return
        try:
            if self._autocommit:
                raw.driver_connection.autocommit = False  # as the pool's other users expect it
        except self._dbapi_error:
            raw.invalidate()
        raw.close()
