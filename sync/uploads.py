"""The photos of a sync, uploaded over a small, bounded number of connections at once.

One connection sends one photo and waits for its answer before the next: on a 50 ms
field link the round trips, not the bytes, bound that. Here up to `CONNECTIONS` workers
each take the next photo (oldest queued visit first), each over its own `PortalClient`
(its own requests Session, so its own keep-alive connection), and upload it with
`BlobUploader` exactly as alone: in chunks, resumed from the portal's committed offset
after a failure (PROTOCOL.md, "Photo blobs"; every blob rule of revision 2 holds per
upload, concurrency changes none of them).

Only the calling thread hears of outcomes and bytes (so only it touches the store and the
progress callback). A photo that fails (`BlobFailed`) is reported and the others go on;
any other error (signed out, portal unreachable after its retries, cancel) stops every
worker between chunks and is raised once they have all stopped.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from fieldapp.types import BlobRef
from sync.blobs import BlobUploader
from sync.client import PortalClient
from sync.errors import BlobFailed, SyncCancelled

log = logging.getLogger(__name__)

#: Connections a sync uploads over at once: enough to hide a 4G round trip behind the
#: bytes of the others, few enough to be a polite client of a council's portal.
CONNECTIONS = 4
_POLL = 0.1  # seconds between the calling thread's looks at cancel and progress


@dataclass(frozen=True)
class Outcome:
    """One photo done: uploaded (``error`` None) or given up with the reason."""

    sha256: str
    error: BlobFailed | None = None


class ParallelUploads:
    """Uploads a list of photos through clones of one client, at most ``connections`` at a time."""

    def __init__(self, client: PortalClient, chunk_bytes: int, *, connections: int = CONNECTIONS,
                 cancel: threading.Event | None = None) -> None:
        if connections < 1:
            raise ValueError("connections must be at least 1")
        self._client = client
        self._chunk_bytes = chunk_bytes
        self._connections = connections
        self._cancel = cancel or threading.Event()

    def run(self, refs: Sequence[BlobRef], on_outcome: Callable[[Outcome], None],
            on_bytes: Callable[[int], None] | None = None, between: Callable[[], None] | None = None) -> None:
        """Upload ``refs``; ``on_outcome`` per photo, ``on_bytes(total confirmed)`` and ``between()``
        (other work while the workers upload: the engine pushes ready visits), all on this thread."""
        if not refs:
            return
        halt = threading.Event()          # set on cancel or a fatal error: workers stop between chunks
        outcomes: queue.SimpleQueue[Outcome] = queue.SimpleQueue()
        fatal: list[BaseException] = []
        lock = threading.Lock()
        sent = [0]
        todo: Iterator[BlobRef] = iter(list(refs))

        def next_ref() -> BlobRef | None:
            with lock:
                return None if halt.is_set() else next(todo, None)

        def counted(count: int) -> None:
            with lock:
                sent[0] += count

        def work(client: PortalClient) -> None:
            uploader = BlobUploader(client, self._chunk_bytes, cancel=halt, on_bytes=counted)
            while (ref := next_ref()) is not None:
                try:
                    uploader.upload(ref.sha256, ref.path)
                except BlobFailed as exc:
                    outcomes.put(Outcome(ref.sha256, exc))
                except BaseException as exc:  # noqa: BLE001 - handed to the calling thread, raised there
                    with lock:
                        fatal.append(exc)
                    halt.set()
                    return
                else:
                    outcomes.put(Outcome(ref.sha256))

        clients = [self._client.worker(cancel=halt) for _ in range(min(self._connections, len(refs)))]
        threads = [threading.Thread(target=work, args=(c,), name=f"sync-upload-{n}", daemon=True)
                   for n, c in enumerate(clients)]
        for thread in threads:
            thread.start()
        reported = -1
        try:
            while True:
                if self._cancel.is_set():
                    halt.set()
                alive = any(t.is_alive() for t in threads)
                self._drain(outcomes, on_outcome, 0)   # everything a stopped worker put is here already
                with lock:
                    total = sent[0]
                if on_bytes is not None and total != reported:
                    on_bytes(total)
                    reported = total
                if not alive:
                    break
                if between is not None:
                    between()
                self._drain(outcomes, on_outcome, _POLL)
        finally:
            halt.set()
            for thread in threads:
                thread.join()
            for client in clients:
                self._client.request_count += client.request_count
                client.close()
        errors = [e for e in fatal if not isinstance(e, SyncCancelled)]
        if errors:
            raise errors[0]
        if fatal or self._cancel.is_set():
            raise SyncCancelled("Sync cancelled.")

    @staticmethod
    def _drain(outcomes: "queue.SimpleQueue[Outcome]", on_outcome: Callable[[Outcome], None],
               wait: float) -> None:
        """Hand every waiting outcome to ``on_outcome``; wait up to ``wait`` seconds for the first."""
        try:
            first = outcomes.get(timeout=wait) if wait else outcomes.get_nowait()
        except queue.Empty:
            return
        on_outcome(first)
        while True:
            try:
                on_outcome(outcomes.get_nowait())
            except queue.Empty:
                return
