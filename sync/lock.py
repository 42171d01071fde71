"""One sync at a time per data folder, with a lock the operating system releases on crash.

The lock is an OS file lock (``fcntl.flock`` on POSIX, ``msvcrt.locking`` on Windows)
on ``<data_dir>/sync.lock``: if the syncing process is killed, even with ``kill -9``,
the kernel drops the lock with the process, so no stale lock file ever blocks the
next sync. The file holds the PID of the holder, for the message only.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from types import TracebackType
from typing import IO

from sync.errors import SyncBusy

LOCK_NAME = "sync.lock"


class SyncLock:
    """A non-blocking exclusive lock on a data folder, used as a context manager."""

    def __init__(self, data_dir: Path | str) -> None:
        self.path = Path(data_dir) / LOCK_NAME
        self._file: IO[bytes] | None = None

    def acquire(self) -> None:
        """Take the lock or raise SyncBusy at once."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a+b")  # noqa: SIM115 (held open for the lock's life)
        try:
            _lock(handle)
        except OSError:
            handle.seek(0)
            holder = handle.read(32).decode("ascii", "replace").strip() or "another program"
            handle.close()
            raise SyncBusy(
                f"A sync is already running for this data folder (process {holder}). "
                "Wait for it to finish, then sync again."
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()).encode("ascii"))
        handle.flush()
        self._file = handle

    def release(self) -> None:
        if self._file is None:
            return
        try:
            self._file.seek(0)
            self._file.truncate()
            _unlock(self._file)
        finally:
            self._file.close()
            self._file = None

    def __enter__(self) -> "SyncLock":
        self.acquire()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.release()


if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
    import msvcrt

    def _lock(handle: IO[bytes]) -> None:
        # Lock a byte far past the PID text, so reading the PID is never blocked by the lock itself.
        handle.seek(1 << 20)
        msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)

    def _unlock(handle: IO[bytes]) -> None:
        handle.seek(1 << 20)
        msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _lock(handle: IO[bytes]) -> None:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)

    def _unlock(handle: IO[bytes]) -> None:
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
