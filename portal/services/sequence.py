"""The commit-safe change sequence.

Every write transaction first locks the counter row (see ``Database.write``), then
takes one number per changed row with ``UPDATE ... RETURNING``. Writers therefore
serialise on the row and numbers are handed out in commit order: a reader that sees
number N committed has also seen every number below N.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, cast

from sqlalchemy import Table, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from portal.core.db import HORIZON_COUNTER, SEQ_COUNTER
from portal.models import CounterRow

_COUNTERS = cast(Table, CounterRow.__table__)


def next_seq(session: Session) -> int:
    """The next change number, inside the caller's write transaction."""
    # A Core statement on the table: an ORM-enabled UPDATE would scan the session's
    # identity map on every call to synchronise it.
    return int(
        session.execute(
            update(_COUNTERS).where(_COUNTERS.c.name == SEQ_COUNTER).values(value=_COUNTERS.c.value + 1).returning(_COUNTERS.c.value)
        ).scalar_one()
    )


def next_seqs(session: Session, count: int) -> range:
    """``count`` consecutive change numbers in one statement (for many rows of one transaction)."""
    if count <= 0:
        return range(0)
    top = int(
        session.execute(
            update(_COUNTERS).where(_COUNTERS.c.name == SEQ_COUNTER).values(value=_COUNTERS.c.value + count).returning(_COUNTERS.c.value)
        ).scalar_one()
    )
    return range(top - count + 1, top + 1)


def stamp(session: Session, record: Any) -> int:
    """Give a flushed record the next change number, as late in the transaction as possible.

    On PostgreSQL the counter increment and the record's update are one statement, so a
    writer holds the counter lock only for that statement and its commit. The record's
    ``seq`` attribute is set without marking it dirty.
    """
    table = cast(Table, record.__table__)
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


def current_seq(session: Session) -> int:
    """The last change number committed as of the session's snapshot."""
    return int(session.execute(select(CounterRow.value).where(CounterRow.name == SEQ_COUNTER)).scalar_one())


def horizon(session: Session) -> int:
    """Cursors below this number may have missed purged tombstones (410 resync_required)."""
    return int(session.execute(select(CounterRow.value).where(CounterRow.name == HORIZON_COUNTER)).scalar_one())


def set_horizon(session: Session, value: int) -> None:
    """Raise the tombstone horizon (it never goes down)."""
    session.execute(
        update(_COUNTERS).where(_COUNTERS.c.name == HORIZON_COUNTER, _COUNTERS.c.value < value).values(value=value)
    )


def utcnow() -> datetime:
    """Now, as the naive UTC the database columns hold."""
    return datetime.now(timezone.utc).replace(tzinfo=None)
