"""The commit-safe change sequence.

Every write transaction first locks the counter row (see ``Database.write``), then
takes one number per changed row with ``UPDATE ... RETURNING``. Writers therefore
serialise on the row and numbers are handed out in commit order: a reader that sees
number N committed has also seen every number below N.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from portal.core.db import HORIZON_COUNTER, SEQ_COUNTER
from portal.models import Case, Counter, OpRecord, Visit


_COUNTERS = Counter.__table__
_CASES = Case.__table__
_OPS = OpRecord.__table__


def next_seq(session: Session) -> int:
    """The next change number, inside the caller's write transaction."""
    # A Core statement on the table: an ORM-enabled UPDATE would scan the session's
    # identity map on every call to synchronise it.
    return int(
        session.execute(
            update(_COUNTERS).where(_COUNTERS.c.name == SEQ_COUNTER).values(value=_COUNTERS.c.value + 1).returning(_COUNTERS.c.value)
        ).scalar_one()
    )


def stamp(session: Session, record: Any) -> int:
    """Give a flushed record the next change number, as late in the transaction as possible.

    On PostgreSQL the counter increment and the record's update are one statement, so a
    writer holds the counter lock only for that statement and its commit. The record's
    ``seq`` attribute is set without marking it dirty.
    """
    table = record.__table__
    if session.get_bind().dialect.name == "postgresql":
        counter = (
            update(_COUNTERS).where(_COUNTERS.c.name == SEQ_COUNTER).values(value=_COUNTERS.c.value + 1)
            .returning(_COUNTERS.c.value).cte("next_seq")
        )
        statement = (
            update(table).where(table.c.id == record.id).values(seq=select(counter.c.value).scalar_subquery())
            .returning(table.c.seq)
        )
        value = int(session.execute(statement).scalar_one())
    else:
        value = next_seq(session)
        session.execute(update(table).where(table.c.id == record.id).values(seq=value))
    set_committed_value(record, "seq", value)
    return value


# The last statements of a visit submit on PostgreSQL, sent with COMMIT in one pipeline:
# the counter lock is taken by the first of them and released by the COMMIT, so it is
# held for the server's work only, never across a round trip to this process (where a
# busy interpreter could keep every other writer waiting for milliseconds).
_PG_MARK_VISITED = """
WITH next_seq AS (UPDATE counters SET value = value + 1 WHERE name = %(counter)s RETURNING value)
UPDATE cases SET status = 'visited', version = version + 1, seq = (SELECT value FROM next_seq)
WHERE id = %(case_id)s AND status IN ('open', 'scheduled')
"""
_PG_STAMP_VISIT = """
WITH next_seq AS (UPDATE counters SET value = value + 1 WHERE name = %(counter)s RETURNING value),
stamped AS (UPDATE visits SET seq = (SELECT value FROM next_seq) WHERE id = %(visit_id)s RETURNING seq)
INSERT INTO op_results (op_id, user_id, result, created_at)
SELECT %(op_id)s::text, %(user_id)s::text,
       json_build_object('op_id', %(op_id)s::text, 'status', 'applied', 'version', %(version)s::int, 'seq', stamped.seq),
       %(now)s
FROM stamped
RETURNING (result ->> 'seq')::bigint
"""


def commit_submit(session: Session, *, visit_id: str, version: int, op_id: str, user_id: str, mark_case: str | None) -> int:
    """Stamp a submitted visit with the next seq, store the op's result and COMMIT; returns the seq.

    ``mark_case`` names a case to move from open/scheduled to visited first (it gets the
    number before the visit's). Everything else of the transaction must be done before
    this call: the counter lock is taken here and released by the commit.
    """
    dialect = session.get_bind().dialect
    if dialect.name != "postgresql" or dialect.driver != "psycopg":
        return _commit_submit_portable(session, visit_id=visit_id, version=version, op_id=op_id, user_id=user_id, mark_case=mark_case)
    import psycopg  # the PostgreSQL driver; SQLite deployments need not have it

    raw = session.connection().connection.driver_connection
    params = {"counter": SEQ_COUNTER, "visit_id": visit_id, "op_id": op_id, "user_id": user_id, "version": version, "now": utcnow()}
    try:
        with raw.pipeline():
            if mark_case is not None:
                raw.execute(_PG_MARK_VISITED, {"counter": SEQ_COUNTER, "case_id": mark_case})
            cursor = raw.execute(_PG_STAMP_VISIT, params)
            raw.commit()
    except psycopg.IntegrityError as exc:
        # A concurrent push of the same op committed first; the caller evaluates again.
        raise IntegrityError(_PG_STAMP_VISIT, params, exc) from exc
    row = cursor.fetchone()
    # The session's own COMMIT on leaving its block finds no open transaction: a no-op.
    return int(row[0])


def _commit_submit_portable(session: Session, *, visit_id: str, version: int, op_id: str, user_id: str, mark_case: str | None) -> int:
    # SQLite: the writer holds the database lock from BEGIN IMMEDIATE anyway.
    if mark_case is not None:
        value = next_seq(session)
        session.execute(
            update(_CASES).where(_CASES.c.id == mark_case, _CASES.c.status.in_(("open", "scheduled")))
            .values(status="visited", version=_CASES.c.version + 1, seq=value)
        )
    value = next_seq(session)
    visits = Visit.__table__
    session.execute(update(visits).where(visits.c.id == visit_id).values(seq=value))
    result = {"op_id": op_id, "status": "applied", "version": version, "seq": value}
    session.execute(insert(_OPS).values(op_id=op_id, user_id=user_id, result=result, created_at=utcnow()))
    return value


def current_seq(session: Session) -> int:
    """The last change number committed as of the session's snapshot."""
    return int(session.execute(select(Counter.value).where(Counter.name == SEQ_COUNTER)).scalar_one())


def horizon(session: Session) -> int:
    """Cursors below this number may have missed purged tombstones (410 resync_required)."""
    return int(session.execute(select(Counter.value).where(Counter.name == HORIZON_COUNTER)).scalar_one())


def set_horizon(session: Session, value: int) -> None:
    """Raise the tombstone horizon (it never goes down)."""
    session.execute(
        update(_COUNTERS).where(_COUNTERS.c.name == HORIZON_COUNTER, _COUNTERS.c.value < value).values(value=value)
    )


def utcnow() -> datetime:
    """Now, as the naive UTC the database columns hold."""
    return datetime.now(timezone.utc).replace(tzinfo=None)
