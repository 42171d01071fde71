"""Content-addressed photo storage behind a small interface.

``BlobStore`` is what the portal needs of a store: append a chunk to a partial upload
at a given offset, promote a finished upload once its bytes hash to its name, discard,
and read. ``FileBlobStore`` keeps complete blobs at ``ab/abcdef....bin`` and partial
uploads under ``partial/``; an object store (S3 multipart uploads) could implement the
same methods. Callers serialise uploads of one blob (a row lock on its upload record),
so the store itself need not lock.
"""

from __future__ import annotations

import hashlib
import os
from abc import ABC, abstractmethod
from collections.abc import Iterator
from pathlib import Path


class BlobStore(ABC):
    """Where blob bytes live."""

    @abstractmethod
    def write_chunk(self, sha256: str, offset: int, data: bytes) -> None:
        """Write ``data`` at ``offset`` of the partial upload, dropping anything beyond it."""

    @abstractmethod
    def finish(self, sha256: str) -> bool:
        """Promote the partial upload if it hashes to ``sha256``; else discard it. True when promoted."""

    @abstractmethod
    def discard(self, sha256: str) -> None:
        """Drop a partial upload."""

    @abstractmethod
    def exists(self, sha256: str) -> bool:
        """True when the complete blob is stored."""

    @abstractmethod
    def read(self, sha256: str) -> Iterator[bytes]:
        """The complete blob's bytes, in chunks."""


class FileBlobStore(BlobStore):
    """Blobs in a directory tree; every write is flushed to disk before it is acknowledged."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        (self.root / "partial").mkdir(parents=True, exist_ok=True)

    def _final(self, sha256: str) -> Path:
        return self.root / sha256[:2] / f"{sha256}.bin"

    def _partial(self, sha256: str) -> Path:
        return self.root / "partial" / f"{sha256}.part"

    def write_chunk(self, sha256: str, offset: int, data: bytes) -> None:
        path = self._partial(sha256)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
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

    def finish(self, sha256: str) -> bool:
        path = self._partial(sha256)
        digest = hashlib.sha256()
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1024 * 1024), b""):
                digest.update(block)
        if digest.hexdigest() != sha256:
            path.unlink(missing_ok=True)
            return False
        final = self._final(sha256)
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(path, final)
        return True

    def discard(self, sha256: str) -> None:
        self._partial(sha256).unlink(missing_ok=True)

    def exists(self, sha256: str) -> bool:
        return self._final(sha256).is_file()

    def read(self, sha256: str) -> Iterator[bytes]:
        with self._final(sha256).open("rb") as handle:
            yield from iter(lambda: handle.read(256 * 1024), b"")
