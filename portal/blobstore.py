"""Content-addressed photo storage behind a small interface.

``BlobStore`` is what the portal needs of a store: append a chunk to one uploader's
partial upload at a given offset, hash and read back a finished partial, promote it,
discard it, and read or delete complete blobs. ``FileBlobStore`` keeps complete blobs
at ``ab/abcdef....bin`` and partial uploads under ``partial/`` (one file per blob and
uploader: another caller never writes into someone else's upload); an object store
(S3 multipart uploads) could implement the same methods. Callers serialise uploads of
one partial (a row lock on its upload record), so the store itself need not lock.
"""

from __future__ import annotations

import hashlib
import os
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO


class BlobStore(ABC):
    """Where blob bytes live. ``owner`` names whose partial upload it is (a user id)."""

    @abstractmethod
    def write_chunk(self, sha256: str, owner: str, offset: int, data: bytes) -> None:
        """Write ``data`` at ``offset`` of the owner's partial upload, dropping anything beyond it."""

    @abstractmethod
    def partial_digest(self, sha256: str, owner: str) -> str:
        """The SHA-256 (hex) of the owner's partial upload as it stands."""

    @abstractmethod
    def open_partial(self, sha256: str, owner: str) -> BinaryIO:
        """The owner's partial upload, for reading (the caller closes it)."""

    @abstractmethod
    def promote(self, sha256: str, owner: str) -> None:
        """Make the owner's finished partial upload the complete blob."""

    @abstractmethod
    def discard(self, sha256: str, owner: str) -> None:
        """Drop the owner's partial upload (nothing happens if there is none)."""

    @abstractmethod
    def exists(self, sha256: str) -> bool:
        """True when the complete blob is stored."""

    @abstractmethod
    def read(self, sha256: str) -> Iterator[bytes]:
        """The complete blob's bytes, in chunks."""

    @abstractmethod
    def read_range(self, sha256: str, start: int, length: int) -> bytes:
        """``length`` bytes of the complete blob from ``start`` (fewer at its end)."""

    @abstractmethod
    def delete(self, sha256: str) -> None:
        """Remove the complete blob (housekeeping of blobs no visit references)."""

    @abstractmethod
    def sweep_partials(self, older_than_seconds: float) -> int:
        """Remove partial uploads untouched for ``older_than_seconds`` (orphans of a crash); how many."""


class FileBlobStore(BlobStore):
    """Blobs in a directory tree; every write is flushed to disk before it is acknowledged."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        (self.root / "partial").mkdir(parents=True, exist_ok=True)

    def _final(self, sha256: str) -> Path:
        return self.root / sha256[:2] / f"{sha256}.bin"

    def _partial(self, sha256: str, owner: str) -> Path:
        # Owners are user ids (UUIDs); keep only what is safe in a file name regardless.
        safe = "".join(c for c in owner if c.isalnum() or c == "-")[:64]
        return self.root / "partial" / f"{sha256}.{safe}.part"

    def write_chunk(self, sha256: str, owner: str, offset: int, data: bytes) -> None:
        fd = os.open(self._partial(sha256, owner), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            # A crashed writer may have left bytes past the committed offset: cut them.
            os.ftruncate(fd, offset)
            os.lseek(fd, offset, os.SEEK_SET)
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fsync(fd)
        finally:
            os.close(fd)

    def partial_digest(self, sha256: str, owner: str) -> str:
        digest = hashlib.sha256()
        with self._partial(sha256, owner).open("rb") as handle:
            for block in iter(lambda: handle.read(1024 * 1024), b""):
                digest.update(block)
        return digest.hexdigest()

    def open_partial(self, sha256: str, owner: str) -> BinaryIO:
        return self._partial(sha256, owner).open("rb")

    def promote(self, sha256: str, owner: str) -> None:
        final = self._final(sha256)
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(self._partial(sha256, owner), final)

    def discard(self, sha256: str, owner: str) -> None:
        self._partial(sha256, owner).unlink(missing_ok=True)

    def exists(self, sha256: str) -> bool:
        return self._final(sha256).is_file()

    def read(self, sha256: str) -> Iterator[bytes]:
        with self._final(sha256).open("rb") as handle:
            yield from iter(lambda: handle.read(256 * 1024), b"")

    def read_range(self, sha256: str, start: int, length: int) -> bytes:
        with self._final(sha256).open("rb") as handle:
            handle.seek(start)
            return handle.read(length)

    def delete(self, sha256: str) -> None:
        self._final(sha256).unlink(missing_ok=True)

    def sweep_partials(self, older_than_seconds: float) -> int:
        cutoff = time.time() - older_than_seconds
        removed = 0
        for path in (self.root / "partial").glob("*.part"):
            try:
                if path.stat().st_mtime < cutoff:
                    path.unlink()
                    removed += 1
            except FileNotFoundError:
                pass  # another process swept it first
        return removed
