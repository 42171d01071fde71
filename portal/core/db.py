"""Engines and sessions: PostgreSQL in production, SQLite (WAL, serialised writers) for demos.

Two kinds of transaction exist. A *write* transaction serialises on the change counter
(``SELECT ... FOR UPDATE`` on PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite), so sequence
numbers are handed out in commit order. A *read* transaction sees one snapshot
(``REPEATABLE READ`` on PostgreSQL, one deferred transaction on SQLite), so a pull never
mixes two points in time.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pydantic_core
from sqlalchemy import Connection, Dialect, Engine, create_engine, event, text
from sqlalchemy.exc import DBAPIError, StatementError
from sqlalchemy.orm import Session, sessionmaker

SEQ_COUNTER = "change_seq"
HORIZON_COUNTER = "tombstone_horizon"
#: Audit event ids: taken in the writing transaction, so ids are in commit order.
AUDIT_COUNTER = "audit_seq"


def normalise_url(url: str) -> str:
    """Use psycopg 3 for plain ``postgresql://`` URLs."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def is_sqlite(engine: Engine) -> bool:
    """True for the embedded SQLite backend."""
    return engine.dialect.name == "sqlite"


#: How long a SQLite writer waits for the write lock before "database is locked".
SQLITE_BUSY_MS = 30_000


def begin_immediate(cursor: Any) -> None:
    """``BEGIN IMMEDIATE`` on a SQLite DBAPI cursor, trying for the write lock every 0.1-2 ms (for ``SQLITE_BUSY_MS``).

    Why not SQLite's busy handler: it sleeps 1, 2, 5, 10 ms between tries, while another
    portal process holds the lock about half a millisecond (a photo's row and its
    commit's sync); a fifth of the photos' records waited 1-4 ms for a lock that was
    free after 0.5.
    """
    cursor.execute("PRAGMA busy_timeout=0")
    try:
        deadline = time.monotonic() + SQLITE_BUSY_MS / 1000
        pause = 0.0001
        while True:
            try:
                cursor.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if getattr(exc, "sqlite_errorcode", None) != sqlite3.SQLITE_BUSY or time.monotonic() > deadline:
                    raise
            time.sleep(pause)
            pause = min(pause * 2, 0.002)
    finally:
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_MS}")


def _install_sqlite_pragmas(engine: Engine) -> None:
    # pysqlite's own transaction handling starts transactions late and never for
    # SELECTs; take control so reads get one snapshot and writers BEGIN IMMEDIATE.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        # FULL: a commit the portal has answered survives a power cut, as on PostgreSQL
        # (synchronous_commit on). The laptop forgets what the portal confirmed; under
        # NORMAL a WAL commit could still be rolled back by a power cut.
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        immediate = connection.get_execution_options().get("fieldapp_write", False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _load_json(text: str | bytes) -> Any:
    """A JSON column's value: parsed in Rust (4× faster for the small lists a pull reads by the thousand).

    ``json.loads`` takes what pydantic_core refuses (a lone surrogate escape), so nothing stored reads differently.
    """
    try:
        return pydantic_core.from_json(text)
    except ValueError:
        return json.loads(text)


def make_engine(url: str) -> Engine:
    """An engine for the URL with the pragmas and pool this portal relies on."""
    url = normalise_url(url)
    # hide_parameters: a failing statement's error (and so the log) must never carry
    # its bound values: password hashes, residents' names, phones, vulnerabilities.
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, hide_parameters=True,
                               json_deserializer=_load_json)
        _install_sqlite_pragmas(engine)
        return engine
    engine = create_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True, hide_parameters=True,
                           json_deserializer=_load_json)
    _install_error_scrubber(engine)
    return engine


def _install_error_scrubber(engine: Engine) -> None:
    @event.listens_for(engine, "handle_error")
    def _on_error(context: Any) -> BaseException | None:
        if not _primary_message(context.original_exception) or context.sqlalchemy_exception is None:
            return None
        return _scrubbed(engine.dialect, context.statement, context.parameters, context.original_exception, context.is_disconnect)


def _primary_message(orig: BaseException) -> str | None:
    return getattr(getattr(orig, "diag", None), "message_primary", None)


def _scrubbed(dialect: Dialect, statement: str | None, parameters: Any, orig: Exception, is_disconnect: bool) -> StatementError:
    # PostgreSQL's DETAIL line of an error quotes data: "Failing row contains (<every
    # value of the row>)" or "Key (x)=(<value>)". Keep only the primary message (and
    # the constraint name), so no resident's details reach an exception or a log.
    primary = _primary_message(orig)
    if primary:
        constraint = getattr(orig.diag, "constraint_name", None)  # type: ignore[attr-defined]
        orig.args = (f"{primary} (constraint {constraint})" if constraint else primary,)
    return DBAPIError.instance(
        statement, parameters, orig, dialect.loaded_dbapi.Error,
        hide_parameters=True, connection_invalidated=is_disconnect, dialect=dialect,
    )


def driver_error(dialect: Dialect, statement: str, orig: Exception) -> StatementError:
    """A DBAPI error from a driver's own cursor (a hot path's), as SQLAlchemy raises one: its type, values scrubbed."""
    return _scrubbed(dialect, statement, None, orig, False)


class Database:
    """The engine plus factories of write and read sessions."""

    def __init__(self, url: str) -> None:
        self.engine = make_engine(url)
        self.sqlite = is_sqlite(self.engine)
        write_bind = self._write_bind = self.engine.execution_options(fieldapp_write=True)
        read_bind = self.engine if self.sqlite else self.engine.execution_options(isolation_level="REPEATABLE READ")
        self._write = sessionmaker(bind=write_bind, expire_on_commit=False)
        self._read = sessionmaker(bind=read_bind, expire_on_commit=False)
        self._plain = sessionmaker(bind=self.engine, expire_on_commit=False)
        # One read statement needs no transaction: on PostgreSQL autocommit saves the
        # BEGIN and COMMIT round trips. (SQLite keeps its plain transaction: the begin
        # hook above would open one that autocommit never closes.)
        once_bind = self._once_bind = self.engine if self.sqlite else self.engine.execution_options(isolation_level="AUTOCOMMIT")
        self._once = sessionmaker(bind=once_bind, expire_on_commit=False)

    @contextmanager
    def write(self, *, serialise: bool = True) -> Iterator[Session]:
        """A transaction that changes field data, committed on exit.

        With ``serialise`` the counter row is locked first, so the whole transaction
        runs alone among writers (scope changes need that: they compare before and
        after). Without it the lock is taken by the first ``next_seq``, and the caller
        protects its reads with row locks; the time writers wait on each other then
        shrinks to the writes and the commit.
        """
        with self._write() as session, session.begin():
            if serialise and not self.sqlite:
                session.execute(text("SELECT value FROM counters WHERE name = :n FOR UPDATE"), {"n": SEQ_COUNTER})
            yield session

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only transaction over one snapshot."""
        with self._read() as session, session.begin():
            yield session

    @contextmanager
    def plain(self, *, writes: bool = False) -> Iterator[Session]:
        """A short transaction for reads and bookkeeping rows (tokens, login failures, blob uploads).

        ``writes`` matters on SQLite only: the transaction then takes the write lock at
        its start, so a read followed by a write cannot fail on a stale snapshot.
        """
        factory = self._write if writes and self.sqlite else self._plain
        with factory() as session, session.begin():
            yield session

    @contextmanager
    def read_once(self) -> Iterator[Session]:
        """A session for a single read statement (e.g. the token lookup of every request)."""
        with self._once() as session, session.begin():
            yield session

    @contextmanager
    def plain_connection(self, *, writes: bool = False) -> Iterator[Connection]:
        """``plain`` without the ORM session, for Core statements on a hot path (the blob upload): committed on exit."""
        with (self._write_bind if writes and self.sqlite else self.engine).begin() as connection:
            yield connection

    @contextmanager
    def read_once_connection(self) -> Iterator[Connection]:
        """``read_once`` without the ORM session."""
        with self._once_bind.connect() as connection:
            yield connection

    @contextmanager
    def write_once_connection(self) -> Iterator[Connection]:
        """For a single write statement on PostgreSQL: autocommit, so it is committed (durably) when it returns.

        (On SQLite use ``plain_connection(writes=True)``: its begin hook needs a transaction.)
        """
        if self.sqlite:
            raise ValueError("write_once_connection is for PostgreSQL; SQLite writes in plain_connection(writes=True)")
        with self._once_bind.connect() as connection:
            yield connection

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()
