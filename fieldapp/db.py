"""The SQLite engine of the local store, its pragmas, and the migration runner.

Every connection gets ``foreign_keys=ON``, ``journal_mode=WAL``, ``synchronous=FULL``
(a saved visit survives a power cut) and a ``busy_timeout``. The driver's own
transaction handling is switched off and transactions are begun explicitly: writers
``BEGIN IMMEDIATE``, so two threads (the UI's worker and the sync engine) queue on
the busy timeout instead of failing with "database is locked" when a read
transaction tries to become a write transaction.

Migrations (Alembic, ``fieldapp/migrations``) run on open: only when one is pending,
the file is backed up, migrated in one transaction with foreign keys off, and
``PRAGMA foreign_key_check`` must then come back empty, else the migration is rolled
back, the backup restored and `StoreError` raised.

SQLAlchemy is imported only by the functions that build an engine or migrate: a sync
with nothing to do reads the file through `connect` alone (`fieldapp.lazy_store`).
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fieldapp.errors import StoreError
from fieldapp.resources import package_path

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine

log = logging.getLogger(__name__)

#: The newest migration. Compared with the file's revision on open, so that an
#: up-to-date store never loads Alembic (a test checks it matches the scripts).
HEAD_REVISION = "0010"
#: ``PRAGMA cache_size`` of every connection, negative: KiB, not pages.
CACHE_KIB = -64 * 1024

DB_FILENAME = "fieldapp.db"
#: The write-ahead log a pulled page's commit leaves unchecked below (`checkpoint_deferred`).
PULL_WAL_BYTES = 64 * 1024 * 1024
#: ``PRAGMA journal_size_limit``: the WAL file is cut back to this when SQLite starts it afresh, so its
#: size on disk tells how much it holds (what `checkpoint_deferred` reads), and a first sync's log
#: does not keep its disk space for ever.
WAL_KEPT_BYTES = 16 * 1024 * 1024
BUSY_TIMEOUT_MS = 15_000
_WRITE_OPTION = "fieldapp_write"


def migrations_dir() -> Path:
    """The Alembic scripts folder, in a checkout, an installed package or a PyInstaller bundle.

    A bundle must ship ``fieldapp/migrations`` as data files: Alembic reads the
    scripts as files, it does not import them from the archive.
    """
    return package_path("fieldapp", "migrations")


def _set_pragmas(dbapi_connection: sqlite3.Connection, foreign_keys: bool) -> None:
    # No implicit transactions by the driver: `_begin` issues BEGIN itself.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        cursor.execute(f"PRAGMA foreign_keys = {'ON' if foreign_keys else 'OFF'}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = FULL")
        cursor.execute(f"PRAGMA journal_size_limit = {WAL_KEPT_BYTES}")
        # The page cache may grow to 64 MiB (SQLite's default is 2 MiB): a first sync's inserts into
        # the indexes and the case search of 20,000 cases took twice as long re-reading evicted pages.
        cursor.execute(f"PRAGMA cache_size = {CACHE_KIB}")
    finally:
        cursor.close()


def connect(path: Path) -> sqlite3.Connection:
    """A driver connection to an existing store file, with the engine's pragmas; never creates the file.

    Transactions are begun explicitly (``BEGIN`` / ``BEGIN IMMEDIATE``), as on the engine's connections.
    """
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=rw", uri=True, timeout=BUSY_TIMEOUT_MS / 1000,
                           check_same_thread=False)
    try:
        _set_pragmas(conn, foreign_keys=True)
    except BaseException:
        conn.close()
        raise
    return conn


def make_engine(path: Path, *, foreign_keys: bool = True) -> Engine:
    """An engine over the SQLite file, safe to share between threads (a session per call)."""
    from sqlalchemy import create_engine, event

    engine = create_engine(
        f"sqlite+pysqlite:///{path}",
        connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_MS / 1000},
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
        _set_pragmas(dbapi_connection, foreign_keys)

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get(_WRITE_OPTION, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def writer(engine: Engine) -> Engine:
    """The same engine (same pool), whose transactions take the write lock at BEGIN."""
    return engine.execution_options(**{_WRITE_OPTION: True})


@contextmanager
def checkpoint_deferred(engine: Engine, db_path: Path) -> Iterator[Connection]:
    """A connection whose commits leave the write-ahead log to grow, up to `PULL_WAL_BYTES`, unchecked.

    For pulled pages: each commit of a first sync rewrites thousands of index pages, and
    SQLite's checkpoint after every commit past 1,000 WAL pages wrote each of them a second
    time into the database file (a 20,000-case first sync: 400 MB written, 200 MB with the
    checkpoints deferred). The commits are as durable in the log (synchronous FULL); the next
    ordinary commit, or the first page that finds the log over the bound, checkpoints it once,
    each page at its latest version. The connection's own setting is restored before it goes
    back to the pool.
    """
    with engine.connect() as connection:
        driver = connection.connection.driver_connection
        assert isinstance(driver, sqlite3.Connection)
        wal = db_path.with_name(db_path.name + "-wal")
        defer = not wal.exists() or wal.stat().st_size < PULL_WAL_BYTES
        previous = int(driver.execute("PRAGMA wal_autocheckpoint").fetchone()[0])
        if defer:
            driver.execute("PRAGMA wal_autocheckpoint = 0")
        try:
            yield connection
        finally:
            if defer:
                try:
                    driver.execute(f"PRAGMA wal_autocheckpoint = {previous}")
                except sqlite3.Error:
                    connection.invalidate()   # never back to the pool with checkpoints off


# ---------------------------------------------------------------- migrations


def current_revision(db_path: Path) -> str | None:
    """The file's Alembic revision, or None for a new (empty) database.

    Read through the driver itself: an engine for this one row (its dialect set-up and
    first-connect checks) cost ~7 ms of every open, a no-op `fieldapp sync` included. A
    driver error is raised as the engine would have wrapped it (locked, not a database).
    """
    try:
        conn = sqlite3.connect(db_path, timeout=BUSY_TIMEOUT_MS / 1000)
        try:
            return read_revision(conn)
        finally:
            conn.close()
    except sqlite3.Error as exc:
        from sqlalchemy.exc import DBAPIError

        raise DBAPIError.instance("reading alembic_version", None, exc, sqlite3.Error) from exc


def read_revision(conn: sqlite3.Connection) -> str | None:
    """The Alembic revision recorded in the database of ``conn``, or None when it has none."""
    has_table = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'").fetchone()
    row = conn.execute("SELECT version_num FROM alembic_version").fetchone() if has_table else None
    return str(row[0]) if row else None


def alembic_config(connection: Connection | None = None) -> Any:
    """A programmatic Alembic configuration (no alembic.ini needed), optionally bound to a connection."""
    from alembic.config import Config  # loaded only when a migration is due

    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def _sqlite_copy(source: Path, target: Path) -> None:
    # The backup API copies a consistent snapshot, WAL contents included.
    src = sqlite3.connect(source)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()


def backup_path(db_path: Path, revision: str | None) -> Path:
    """Where the copy taken before migrating from ``revision`` goes."""
    return db_path.with_name(f"{db_path.name}.bak-{revision or 'empty'}")


def upgrade_to(db_path: Path, revision: str = "head") -> None:
    """Migrate the file to ``revision`` (any pending step), backing it up first; StoreError on failure."""
    current = current_revision(db_path)
    if current == HEAD_REVISION and revision == "head":
        return
    backup: Path | None = None
    if current is not None:
        backup = backup_path(db_path, current)
        _sqlite_copy(db_path, backup)
        log.info("Backed up %s to %s before migrating from %s", db_path, backup, current)
    engine = make_engine(db_path, foreign_keys=False)
    try:
        _run_migrations(engine, revision)
    except StoreError:
        engine.dispose()
        if backup is not None:
            _sqlite_copy(backup, db_path)
        raise
    finally:
        engine.dispose()


def _run_migrations(engine: Engine, revision: str) -> None:
    from alembic import command
    from alembic.util import CommandError
    from sqlalchemy.exc import SQLAlchemyError

    with engine.connect() as conn:
        try:
            with conn.begin():
                command.upgrade(alembic_config(conn), revision)
                broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    tables = sorted({row[0] for row in broken})
                    raise StoreError(
                        f"Updating the local database left {len(broken)} broken link(s) in "
                        f"{', '.join(tables)}; nothing was changed. Keep this laptop's data folder "
                        "and contact IT support.")
        except CommandError as exc:
            raise StoreError(
                f"The local database cannot be updated ({exc}). It may have been made by a newer "
                "Fieldapp: install the latest version.") from exc
        except SQLAlchemyError as exc:
            raise StoreError(f"The local database cannot be updated: {exc}. Contact IT support.") from exc
