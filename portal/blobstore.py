"""Content-addressed photo storage behind a small interface.

``BlobStore`` is what the portal needs of a store: append a chunk to one uploader's
partial upload at a given offset, hash and read back a finished partial, promote it,
discard it, store a blob that arrived whole, and read or delete complete blobs.
``FileBlobStore`` keeps complete blobs at ``ab/abcdef....bin`` and partial uploads under
``partial/`` (one file per blob and uploader: another caller never writes into someone
else's upload); an object store (S3 multipart uploads) could implement the same methods.
Callers serialise uploads of one partial (a row lock on its upload record), so the store
itself need not lock.

Durability: every method that writes returns only once its bytes (and, for a new or
renamed file, the directory entry) are on disk, so the answer that confirms an offset
or a complete blob survives a power cut. That is one ``fdatasync`` per request, whatever
its size: the cost of the promise is paid per answer, not per megabyte. The bytes go
around the page cache where the file system allows it (``portal.directio``).
"""

from __future__ import annotations

import hashlib
import itertools
import os
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from portal.directio import write_at


class BlobStore(ABC):
    """Where blob bytes live. ``owner`` names whose partial upload it is (a user id)."""

    @abstractmethod
    def write_chunk(self, sha256: str, owner: str, offset: int, data: bytes) -> None:
        """Write ``data`` at ``offset`` of the owner's partial upload, dropping anything beyond it."""

    @abstractmethod
    def store_whole(self, sha256: str, data: bytes) -> None:
        """Make ``data`` (already checked against its hash) the complete blob in one step."""

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
        """Remove partial uploads (and temporary files) untouched for ``older_than_seconds`` (orphans of a crash); how many."""


def _sync_dir(path: Path) -> None:
    """Make a file's creation or rename in ``path`` durable (its directory entry)."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _datasync(fd: int) -> None:
    # fdatasync skips the inode's times (all a reader needs is the bytes and the size);
    # macOS and Windows have only fsync.
    (getattr(os, "fdatasync", None) or os.fsync)(fd)


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
        path = self._partial(sha256, owner)
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
            created = True
        except FileExistsError:
            fd = os.open(path, os.O_RDWR)
            created = False
        try:
            # A crashed writer may have left bytes past the committed offset: cut them.
            os.ftruncate(fd, offset)
            write_at(fd, offset, data)
            _datasync(fd)
        finally:
            os.close(fd)
        if created:
            _sync_dir(path.parent)

    def store_whole(self, sha256: str, data: bytes) -> None:
        final = self._final(sha256)
        final.parent.mkdir(exist_ok=True)
        # A unique temporary name: two callers may store the same blob at once.
        temp = final.with_name(f"{sha256}.{os.getpid()}.{threading.get_ident()}.tmp")
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            write_at(fd, 0, data)
            _datasync(fd)
        finally:
            os.close(fd)
        os.replace(temp, final)
        _sync_dir(final.parent)

    def partial_digest(self, sha256: str, owner: str) -> str:
        # Hashed from the file, not from states kept while writing: with several portal
        # processes, one may have discarded and restarted the upload since this one saw
        # its first chunks, and a kept state would vouch for bytes no longer on disk.
        # Only blobs larger than a chunk (4 MiB by default) take this path.
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
        # The partial's bytes were synced when its last chunk was written; the rename is not yet.
        os.replace(self._partial(sha256, owner), final)
        _sync_dir(final.parent)

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
        # Temporary files of ``store_whole`` that a crash left behind are partials too.
        leftovers = itertools.chain((self.root / "partial").glob("*.part"), self.root.glob("[0-9a-f][0-9a-f]/*.tmp"))
        for path in leftovers:
            try:
                if path.stat().st_mtime < cutoff:
                    path.unlink()
                    removed += 1
            except FileNotFoundError:
                pass  # another process swept it first
        return removed
