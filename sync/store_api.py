"""What the sync engine needs of the laptop's store (the `SyncStore` protocol), and signing in (`SessionStore`).

`fieldapp.store.FieldStore` is the real one; the engine's unit tests use an in-memory
double (tests/sync/fakes.py) that a test checks against this protocol and against
FieldStore's own signatures, so the double cannot drift from the store it stands for.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from fieldapp.types import BlobRef, OutboxOp, Pending, SyncState, UserInfo

if TYPE_CHECKING:
    from fieldapp.wire import OpResult


class SyncStore(Protocol):
    """The sync-facing half of `FieldStore`."""

    @property
    def data_dir(self) -> Path: ...

    def sync_state(self) -> SyncState: ...

    def apply_changes(self, changes: Sequence[Mapping[str, Any]], next_cursor: int) -> None: ...

    def reset_portal_data(self) -> None: ...

    def outbox(self, limit: int = 100, max_bytes: int | None = None) -> list[OutboxOp]: ...

    def blobs_to_upload(self) -> list[BlobRef]: ...

    def mark_blobs_uploaded(self, hashes: Sequence[str]) -> None: ...

    def record_results(self, ops: Sequence[OutboxOp], results: Sequence[OpResult]) -> int:
        """Apply push results; returns how many ops are queued again to be pushed after their photos."""
        ...

    def pending(self) -> Pending: ...

    def purge_out_of_scope(self) -> int: ...

    def mark_synced(self, at: datetime) -> None: ...


class SessionStore(Protocol):
    """What signing in and out (`sync.session`) needs of the store."""

    def sync_state(self) -> SyncState: ...

    def sign_in(self, user: UserInfo, portal_url: str) -> None: ...
