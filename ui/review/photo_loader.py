"""Fetches a visit's photos for a lead, off the GUI thread, and decodes them as `QImage`.

A lead's laptop has only the photo records after a sync; the files come on demand:
the database executor asks the store whether the file is already kept, the network
pool downloads it (`PortalClient.download_blob`), the database executor keeps it
(`FieldStore.save_blob`, hash verified), and the image is decoded on the pool.
Each photo is fetched at most once per loader and kept by the store, so opening the
visit again costs no second download.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from PySide6.QtCore import QObject, Signal, SignalInstance
from PySide6.QtGui import QImage

from fieldapp.types import Photo
from ui.images import load_image
from ui.tasks import Op, TaskFailure

if TYPE_CHECKING:
    from fieldapp.store import FieldStore

log = logging.getLogger(__name__)

THUMBNAIL_EDGE = 240


@runtime_checkable  # so the review page tells a client from a function giving one
class BlobSource(Protocol):
    """What the loader needs of a portal client."""

    def download_blob(self, sha256: str) -> bytes: ...


class ReviewPhotoLoader(QObject):
    """Gets photo files and images for the review view; results arrive as signals."""

    sig_thumbnail = Signal(str, QImage)   # sha256, small image
    sig_full = Signal(str, QImage)        # sha256, full-size image
    sig_failed = Signal(str, str)         # sha256, a sentence saying what went wrong
    sig_downloaded = Signal(str)          # sha256: the file came from the portal just now

    def __init__(self, store: FieldStore, client: Callable[[], BlobSource | None], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._store = store
        self._client = client
        self._paths: dict[str, Path] = {}
        # Callbacks waiting for a file that is being fetched, so one fetch serves them all.
        self._waiting: dict[str, list[Callable[[Path], None]]] = {}

    def known_path(self, sha256: str) -> Path | None:
        """The file of a photo if this loader already has it."""
        return self._paths.get(sha256)

    def request_thumbnail(self, photo: Photo) -> None:
        """Fetch if needed, then emit `sig_thumbnail` (or `sig_failed`)."""
        source = photo.thumbnail_path if photo.thumbnail_path and photo.thumbnail_path.exists() else None
        if source is not None:
            self._decode(photo.sha256, source, THUMBNAIL_EDGE, self.sig_thumbnail)
            return
        self._with_file(photo, lambda path: self._decode(photo.sha256, path, THUMBNAIL_EDGE, self.sig_thumbnail))

    def request_full(self, photo: Photo) -> None:
        """Fetch if needed, then emit `sig_full` with the image at full size."""
        self._with_file(photo, lambda path: self._decode(photo.sha256, path, None, self.sig_full))

    # ------------------------------------------------------------------ steps

    def _with_file(self, photo: Photo, then: Callable[[Path], None]) -> None:
        sha = photo.sha256
        known = self._paths.get(sha) or (photo.path if photo.path and photo.path.exists() else None)
        if known is not None:
            self._paths[sha] = known
            then(known)
            return
        if sha in self._waiting:
            self._waiting[sha].append(then)
            return
        self._waiting[sha] = [then]
        store = self._store
        (Op(self, lambda: store.photo_file(sha))
         .success(lambda path: self._have(sha, path) if path else self._download(sha))
         .failure(lambda f: self._fail(sha, f))
         .run())

    def _download(self, sha: str) -> None:
        client = self._client()
        if client is None:
            self._fail_text(sha, "This photo is not on this laptop yet. Sign in and connect to the portal to see it.")
            return
        (Op(self, lambda: client.download_blob(sha), network=True)
         .success(lambda data: self._keep(sha, data))
         .failure(lambda f: self._fail(sha, f))
         .run())

    def _keep(self, sha: str, data: bytes) -> None:
        store = self._store
        (Op(self, lambda: store.save_blob(sha, data))
         .success(lambda path: self._downloaded(sha, Path(path)))
         .failure(lambda f: self._fail(sha, f))
         .run())

    def _downloaded(self, sha: str, path: Path) -> None:
        self.sig_downloaded.emit(sha)
        self._have(sha, path)

    def _have(self, sha: str, path: Path) -> None:
        self._paths[sha] = path
        for then in self._waiting.pop(sha, []):
            then(path)

    def _decode(self, sha: str, path: Path, edge: int | None, signal: SignalInstance) -> None:
        # Decoding is CPU work: it goes to the pool, never to the serial database thread.
        (Op(self, lambda: load_image(path, edge), network=True)
         .success(lambda image: signal.emit(sha, image))
         .failure(lambda f: self._fail(sha, f))
         .run())

    def _fail(self, sha: str, failure: TaskFailure) -> None:
        self._fail_text(sha, failure.message)

    def _fail_text(self, sha: str, message: str) -> None:
        self._waiting.pop(sha, None)
        log.info("Photo %s not shown: %s", sha[:12], message)
        self.sig_failed.emit(sha, message)
