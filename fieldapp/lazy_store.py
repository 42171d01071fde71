"""`LazyStore`: the store of a `fieldapp sync` process, opened in full only once the sync has work for it.

A sync with nothing to do asks its store little: who is signed in and where, the pull
cursor, whether anything waits in the outbox (photos go up only for queued visits), the
cases of the drafts left (to say they were not sent: mid-day, an officer has some), and
it records when it finished. Opening `FieldStore` for that means importing SQLAlchemy
and the ORM models: most of a no-op `fieldapp sync` process. So
`LazyStore` answers those questions from the SQLite file through the standard library,
and opens `FieldStore` (migrations included) at the first call that needs more — a pulled
page that changes something, a queued op, drafts to list, a sign-in that changes who
works here — and hands every call to it from then on. The sync engine and its rules are
the same either way; only the store it is given starts light.

A file that is missing, at an older migration, or without its sync state yet is opened
through `FieldStore` at once, so set-up and migrations run as on every open.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fieldapp.clock import as_utc
from fieldapp.db import DB_FILENAME, HEAD_REVISION, connect, read_revision
from fieldapp.private import prepare_data_folder, private_umask
from fieldapp.types import BlobRef, Draft, OutboxOp, Pending, SyncState, UserInfo, VisitState

if TYPE_CHECKING:
    from fieldapp.store import FieldStore
    from fieldapp.wire import OpResult

#: Anything queued to push (every photo to upload belongs to a queued visit: `outbox.blobs_waiting`).
_ANY_OP = "SELECT 1 FROM outbox LIMIT 1"
#: `fieldapp.drafts.is_draft` in SQL over the visits table aliased ``v`` (a test holds the two to the same rows).
_IS_DRAFT = ("v.own = 1 AND (v.state = ? OR (v.state = ? AND v.local_edits = 1))",
             (VisitState.DRAFT.value, VisitState.RETURNED.value))
_ANY_DRAFT = f"SELECT 1 FROM visits v WHERE {_IS_DRAFT[0]} LIMIT 1", _IS_DRAFT[1]
#: The case of each draft as `draft_cases` names it, in the order `fieldapp.drafts.list_drafts` gives them.
_DRAFT_CASES = (f"SELECT coalesce(nullif(c.reference, ''), v.case_id) FROM visits v "
                f"LEFT JOIN cases c ON c.id = v.case_id WHERE {_IS_DRAFT[0]} ORDER BY v.started_at, v.id", _IS_DRAFT[1])
_STATE = ("SELECT cursor, last_sync_at, portal_url, device_id, user_id, username, display_name, role, team_id "
          "FROM sync_state WHERE id = 1")


def stored_datetime(moment: datetime) -> str:
    """A datetime as the store's columns hold it: naive UTC text with microseconds, as SQLAlchemy writes it."""
    return as_utc(moment).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


def _open_field_store(data_dir: Path) -> FieldStore:
    from fieldapp.store import FieldStore

    return FieldStore.open(data_dir)


class LazyStore:
    """The sync-facing calls of `FieldStore` (and sign-in, drafts, close), answered without it while it can."""

    def __init__(self, data_dir: Path, conn: sqlite3.Connection | None,
                 open_full: Callable[[Path], FieldStore]) -> None:
        """Use `LazyStore.open`."""
        self._data_dir = data_dir
        self._conn = conn
        self._open_full = open_full
        self._full: FieldStore | None = None
        # Re-entrant: a quick answer and the switch to the full store are made under the same lock.
        self._lock = threading.RLock()

    @classmethod
    def open(cls, data_dir: Path | str, *,
             open_full: Callable[[Path], FieldStore] = _open_field_store) -> LazyStore:
        """The store in ``data_dir``; ``open_full`` opens the full store when it is needed (`FieldStore.open`)."""
        folder = Path(data_dir).expanduser()
        prepare_data_folder(folder)
        store = cls(folder, _quick_connection(folder / DB_FILENAME), open_full)
        if store._conn is None:
            store.full()
        return store

    @property
    def data_dir(self) -> Path:
        """The folder holding the database and the photos."""
        return self._data_dir

    @property
    def is_open_in_full(self) -> bool:
        """Whether the full store was needed (and is open) by now."""
        return self._full is not None

    def full(self) -> FieldStore:
        """The full store, opened now if it was not yet; the quick connection is closed then."""
        with self._lock:
            if self._full is None:
                self._full = self._open_full(self._data_dir)
                self._close_quick()
            return self._full

    def close(self) -> None:
        """Release the database; the store is unusable afterwards."""
        with self._lock:
            self._close_quick()
            if self._full is not None:
                self._full.close()

    # ------------------------------------------------------------ answered from the file while nothing changes

    def sync_state(self) -> SyncState:
        """Cursor, last sync, user, portal and this laptop's device id."""
        with self._lock:
            if self._conn is not None:
                cursor, last_sync, portal_url, device_id, *user = self._conn.execute(_STATE).fetchone()
                return SyncState(cursor=cursor, last_sync_at=as_utc(datetime.fromisoformat(last_sync)) if last_sync
                                 else None, user=UserInfo.recorded(*user), portal_url=portal_url, device_id=device_id)
        return self.full().sync_state()

    def outbox(self, limit: int = 100, max_bytes: int | None = None) -> list[OutboxOp]:
        """The oldest ops waiting to be pushed, within the limits."""
        if self._none_found(_ANY_OP):
            return []
        return self.full().outbox(limit, max_bytes)

    def blobs_to_upload(self) -> list[BlobRef]:
        """Photo files referenced by queued ops that the portal has not confirmed."""
        if self._none_found(_ANY_OP):
            return []
        return self.full().blobs_to_upload()

    def drafts(self, case_id: str | None = None) -> list[Draft]:
        """The officer's drafts (of one case, or all), oldest first, with what each holds."""
        if self._none_found(*_ANY_DRAFT):
            return []
        return self.full().drafts(case_id)

    def draft_cases(self) -> list[str]:
        """The case of each draft (its reference, else its id), oldest draft first: what a sync says it did not send."""
        with self._lock:
            if self._conn is not None:
                return [case for (case,) in self._conn.execute(*_DRAFT_CASES)]
        return [draft.case_reference or draft.case_id for draft in self.full().drafts()]

    def sign_in(self, user: UserInfo, portal_url: str) -> None:
        """Record who works in this store; the full store's rules apply unless it records this very user already."""
        with self._lock:
            if self._conn is not None:
                state = self.sync_state()
                if state.user == user and state.portal_url == portal_url:
                    return   # the same user of the same portal: signing in again changes nothing here
        self.full().sign_in(user, portal_url)

    def mark_synced(self, at: datetime) -> None:
        """Remember when a sync last completed."""
        with self._lock:
            if self._conn is not None:
                self._conn.execute("BEGIN IMMEDIATE")
                try:
                    self._conn.execute("UPDATE sync_state SET last_sync_at = ? WHERE id = 1", (stored_datetime(at),))
                    self._conn.execute("COMMIT")
                except BaseException:
                    self._conn.execute("ROLLBACK")
                    raise
                return
        self.full().mark_synced(at)

    # ------------------------------------------------------------ always the full store

    def apply_changes(self, changes: Sequence[Mapping[str, Any]], next_cursor: int) -> None:
        """Apply one pulled page (protocol change dicts) and its cursor in one transaction."""
        self.full().apply_changes(changes, next_cursor)

    def reset_portal_data(self) -> None:
        """After 410 resync_required: drop portal-owned data, keep unsent work, cursor 0."""
        self.full().reset_portal_data()

    def mark_blobs_uploaded(self, hashes: Sequence[str]) -> None:
        """The portal holds these blobs completely."""
        self.full().mark_blobs_uploaded(hashes)

    def record_results(self, ops: Sequence[OutboxOp], results: Sequence[OpResult]) -> int:
        """Apply push results (one per op, in order); how many ops are queued again (lost photos)."""
        return self.full().record_results(ops, results)

    def pending(self) -> Pending:
        """Unsent work: visits, reviews, photos and bytes queued to be sent, and drafts not yet submitted."""
        return self.full().pending()

    def purge_out_of_scope(self) -> int:
        """Remove tombstoned cases (and their people) once no unsent work needs them."""
        return self.full().purge_out_of_scope()

    # ------------------------------------------------------------ helpers

    def _none_found(self, sql: str, parameters: Sequence[str] = ()) -> bool:
        """True when the quick connection is still in use and ``sql`` finds no row."""
        with self._lock:
            return self._conn is not None and self._conn.execute(sql, parameters).fetchone() is None

    def _close_quick(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def _quick_connection(path: Path) -> sqlite3.Connection | None:
    """A driver connection to a store file ready as it is (newest migration, sync state made), else None."""
    try:
        with private_umask():   # opening may create the -wal and -shm files beside it
            conn = connect(path)
    except sqlite3.Error:
        return None   # missing or unreadable: the full store creates it, or says what is wrong
    try:
        if read_revision(conn) == HEAD_REVISION and conn.execute("SELECT 1 FROM sync_state WHERE id = 1").fetchone():
            return conn
    except sqlite3.Error:
        pass
    conn.close()
    return None
