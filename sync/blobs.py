"""Resumable upload of photo blobs in chunks (PROTOCOL.md, "Photo blobs").

Each blob is streamed from its file one chunk at a time (at most ``chunk_bytes`` in
memory). After any failure the portal is asked how many bytes it committed
(``GET /blobs/{h}/upload``) and the upload resumes from there, so a dropped
connection in the middle of a 2 MB photo costs at most one chunk. A 409
``offset_mismatch`` (for example an upload left partial by an earlier, killed sync)
carries the committed offset and is resumed from directly.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from sync.client import PortalClient
from sync.errors import BlobFailed, PortalError, PortalUnavailable, PortalUnreachable, SyncCancelled, TLSVerificationFailed

log = logging.getLogger(__name__)


class BlobUploader:
    """Uploads one blob at a time through a `PortalClient`, resuming after failures."""

    def __init__(self, client: PortalClient, chunk_bytes: int, *, cancel: threading.Event | None = None,
                 on_bytes: Callable[[int], None] | None = None) -> None:
        if chunk_bytes < 1:
            raise ValueError("chunk_bytes must be positive")
        self._client = client
        self._chunk_bytes = chunk_bytes
        self._cancel = cancel
        self._on_bytes = on_bytes or (lambda n: None)

    def upload(self, sha256: str, path: Path) -> int:
        """Upload the file named by its hash; returns its size. Raises BlobFailed for this blob only."""
        try:
            handle = open(path, "rb")  # noqa: SIM115 (closed below)
        except OSError as exc:
            raise BlobFailed(sha256, f"The photo file {path} cannot be read ({exc.strerror}); it was not uploaded.") from exc
        with handle:
            size = os.fstat(handle.fileno()).st_size
            if size == 0:
                raise BlobFailed(sha256, f"The photo file {path} is empty; it was not uploaded.")
            return self._send(sha256, handle, size)

    def _send(self, sha256: str, handle: BinaryIO, size: int) -> int:
        """The upload loop; progress counts the bytes the portal confirms holding."""
        offset: int | None = 0
        confirmed = 0
        failures = 0
        while offset is not None:
            if self._cancel is not None and self._cancel.is_set():
                raise SyncCancelled("Sync cancelled.")
            handle.seek(offset)
            chunk = handle.read(min(self._chunk_bytes, size - offset))
            try:
                result = self._client.put_chunk(sha256, chunk, offset, size)
            except TLSVerificationFailed:
                raise
            except PortalError as exc:
                failures = self._count_failure(failures, sha256, exc)
                if exc.code == "offset_mismatch" and isinstance(exc.details.get("offset"), int):
                    offset = self._checked(exc.details["offset"], size)
                elif isinstance(exc, PortalUnavailable):
                    offset = self._resume_offset(sha256, size, failures, exc.retry_after)
                else:
                    raise BlobFailed(sha256, f"The portal refused photo {sha256[:12]}…: {exc.message}") from exc
            except PortalUnreachable as exc:
                failures = self._count_failure(failures, sha256, exc)
                offset = self._resume_offset(sha256, size, failures, None)
            else:
                failures = 0
                offset = None if result.complete else self._checked(result.offset, size)
            held = size if offset is None else offset
            if held > confirmed:
                self._on_bytes(held - confirmed)
                confirmed = held
        return size

    def _resume_offset(self, sha256: str, size: int, failures: int, retry_after: float | None) -> int | None:
        """Wait (backoff), then ask the portal how much it committed; None when the blob is complete."""
        self._client.backoff_wait(self._client.retry.delay(failures, retry_after), f"upload of {sha256[:12]}")
        state = self._client.upload_state(sha256)
        return None if state.state == "complete" else self._checked(state.offset, size)

    @staticmethod
    def _checked(offset: int, size: int) -> int:
        if offset < 0 or offset >= size:
            raise PortalUnreachable(f"The portal reported an impossible upload offset {offset} for a {size}-byte photo.")
        return offset

    def _count_failure(self, failures: int, sha256: str, exc: Exception) -> int:
        """One more failure of this blob; re-raises ``exc`` once the retry budget is spent."""
        failures += 1
        if failures >= self._client.retry.attempts:
            log.warning("upload of %s failed %d times in a row: %s", sha256, failures, exc)
            raise exc
        return failures
