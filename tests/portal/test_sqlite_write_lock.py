"""``db.begin_immediate``: a SQLite writer takes the write lock soon after another lets it go, and gives up as before."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest

from portal.core import db as portal_db


def _connect(path: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute(f"PRAGMA busy_timeout={portal_db.SQLITE_BUSY_MS}")
    return connection


def test_the_lock_is_taken_soon_after_it_is_freed_and_the_busy_timeout_is_kept(tmp_path: Path) -> None:
    """Another connection holds the lock 35 ms: the writer has it within a few ms of its release, not SQLite's 10-25 ms steps."""
    holder, writer = _connect(tmp_path / "w.db"), _connect(tmp_path / "w.db")
    holder.execute("CREATE TABLE t (x)")
    holder.execute("BEGIN IMMEDIATE")
    taken: list[float] = []

    def write() -> None:
        cursor = writer.cursor()
        portal_db.begin_immediate(cursor)
        taken.append(time.perf_counter())
        cursor.execute("INSERT INTO t VALUES (1)")
        cursor.execute("COMMIT")

    thread = threading.Thread(target=write)
    thread.start()
    time.sleep(0.035)  # SQLite's own handler tries at 33 ms, then at 53
    released = time.perf_counter()
    holder.execute("COMMIT")
    thread.join(10)
    assert taken and taken[0] - released < 0.010
    assert writer.execute("PRAGMA busy_timeout").fetchone() == (portal_db.SQLITE_BUSY_MS,)
    assert writer.execute("SELECT count(*) FROM t").fetchone() == (1,)


def test_a_lock_never_freed_is_database_is_locked_after_the_busy_timeout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(portal_db, "SQLITE_BUSY_MS", 200)
    holder, writer = _connect(tmp_path / "w.db"), _connect(tmp_path / "w.db")
    holder.execute("BEGIN IMMEDIATE")
    started = time.monotonic()
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        portal_db.begin_immediate(writer.cursor())
    assert 0.2 <= time.monotonic() - started < 2
    assert not writer.in_transaction
