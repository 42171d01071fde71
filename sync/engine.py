"""`SyncEngine`: one sync of a data folder with the portal — pull, upload, push, pull.

1. Pull pages of changes, fetched ahead while earlier ones are applied (`sync.page_feed`);
   each page, or each group of pages that arrived while the store was busy, is applied
   with its cursor in one store transaction, so a crash between them loses nothing and
   repeats nothing.
   410 ``resync_required`` drops portal-owned data (keeping unsent work) and pulls from 0.
2. Upload the photos queued ops need that the portal lacks, a few at once over their own
   connections (`sync.uploads`), each resumable (`sync.blobs`).
3. Push the outbox in batches within the portal's limits; every result (applied,
   duplicate, conflict, rejected) goes back to the store, which turns conflicts and
   rejections into problems the officer can act on. One bad op never blocks the rest.
4. Pull again, so the officer sees the portal's versions of what was just pushed.

With nothing to send, a sync is a single request (one pull page with ``has_more``
false): meta, blob checks, push and the second pull are skipped.

Only one sync runs per data folder (`sync.lock`); progress is throttled
(`sync.progress`); cancel is checked between pages, chunks and batches.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from fieldapp.types import BlobRef, OutboxOp, counted, counted_parts
from sync import protocol as p
from sync.client import PortalClient
from sync.collector import older_objects_frozen
from sync.errors import PortalError, SyncCancelled, SyncError
from sync.lock import SyncLock
from sync.page_feed import PageFeed
from sync.progress import ProgressReporter, SyncProgress
from sync.uploads import CONNECTIONS, Outcome, ParallelUploads

from sync.store_api import SyncStore  # the engine needs only the interface, not the store's heavier package

log = logging.getLogger(__name__)

PULL_PAGE = 1000            # the protocol's largest page: fewest round trips
MISSING_BATCH = 5000        # BlobMissingRequest's limit
ENVELOPE_BYTES = 1024       # room for {"device_id": ..., "ops": [...]} around the ops


@dataclass(frozen=True)
class SyncReport:
    """What one sync did; ``ok`` only when everything queued was accepted."""

    pulled: int = 0
    blobs_uploaded: int = 0
    bytes_uploaded: int = 0
    ops_pushed: int = 0
    applied: int = 0          # applied + duplicate (accepted)
    conflicts: int = 0
    rejected: int = 0
    cancelled: bool = False
    ok: bool = False
    blob_failures: tuple[str, ...] = ()   # messages of photos that could not be uploaded
    left_in_outbox: int = 0
    message: str = ""


@dataclass
class _Tally:
    """Mutable counters during a run, frozen into a SyncReport at the end."""

    pulled: int = 0
    blobs_uploaded: int = 0
    bytes_uploaded: int = 0
    ops_pushed: int = 0
    applied: int = 0
    conflicts: int = 0
    rejected: int = 0
    blob_failures: list[str] = field(default_factory=list)
    blob_missing_seen: bool = False


@dataclass
class _Batches:
    """The state of one push phase: who pushes, the batch size (halved on 413), and ops already answered."""

    device_id: str
    max_ops: int
    seen: set[str] = field(default_factory=set)
    pushed: bool = False


class SyncEngine:
    """Syncs one `FieldStore` with the portal of one `PortalClient`."""

    def __init__(self, store: SyncStore, client: PortalClient, *, pull_limit: int = PULL_PAGE,
                 connections: int = CONNECTIONS) -> None:
        self.store = store
        self.client = client
        self.pull_limit = pull_limit
        self.connections = connections
        self._meta: p.SyncMeta | None = None

    # ------------------------------------------------------------ the run

    def run(self, progress: Callable[[SyncProgress], None] | None = None,
            cancel: threading.Event | None = None) -> SyncReport:
        """Sync once. Raises AuthRequired, PortalUnreachable, PortalError, SyncBusy; cancel gives ``cancelled``."""
        reporter = ProgressReporter(progress)
        tally = _Tally()
        cancel = cancel or threading.Event()
        self._meta = None
        with SyncLock(self.store.data_dir), older_objects_frozen():
            self.client.cancel = cancel
            try:
                self._sync(tally, reporter, cancel)
            except SyncCancelled:
                reporter.phase("done", message="Sync cancelled; everything not sent stays queued.")
                return self._report(tally, cancelled=True)
            finally:
                self.client.cancel = None
        report = self._report(tally, cancelled=False)
        reporter.phase("done", message=report.message)
        return report

    def _sync(self, tally: _Tally, reporter: ProgressReporter, cancel: threading.Event) -> None:
        self._pull(tally, reporter, cancel)
        pushed_any = False
        for _round in range(3):  # more rounds only when the portal lost a blob (blob_missing): upload, push again
            if not self._has_outbox():
                break
            tally.blob_missing_seen = False
            batches = self._batches()
            self._upload(tally, reporter, cancel, batches)
            pushed_any = self._push(tally, reporter, cancel, batches) or pushed_any
            if not tally.blob_missing_seen:
                break
        if pushed_any:
            self._pull(tally, reporter, cancel)
        if tally.pulled or pushed_any:
            # Only a pulled tombstone or sent work can let a case go; skipping the purge otherwise keeps
            # a sync with nothing to do at one request and a few milliseconds of local work.
            purged = self.store.purge_out_of_scope()
            if purged:
                log.info("removed %d cases that left this officer's scope", purged)
        self.store.mark_synced(p.utc_now())

    # ------------------------------------------------------------ pull

    def _pull(self, tally: _Tally, reporter: ProgressReporter, cancel: threading.Event) -> None:
        """Pull every page after the stored cursor; pages download while earlier ones are applied."""
        reporter.phase("pull", message="Fetching changes from the portal")
        cursor = self.store.sync_state().cursor
        resynced = False
        while True:
            _check(cancel)
            try:
                # Only the feed's worker uses the client during the pull; the store is only touched here.
                with PageFeed(self._fetch, cursor) as feed:
                    self._apply_pages(feed, cursor, tally, reporter, cancel)
                return
            except PortalError as exc:
                if exc.status != 410 or resynced:
                    raise
                log.warning("portal asked for a full resync (cursor %d too old)", cursor)
                self.store.reset_portal_data()
                cursor, resynced = 0, True
                reporter.update(message="Fetching everything again (the portal asked for a full refresh)",
                                force=True)

    def _apply_pages(self, feed: PageFeed, cursor: int, tally: _Tally, reporter: ProgressReporter,
                     cancel: threading.Event) -> None:
        """Apply the feed's pages until the last; each group of pages with its cursor in one transaction.

        A group is applied as one page: its changes in order, then the last page's cursor, so a
        crash between groups resumes after the last one committed and repeats nothing.
        """
        while True:
            group = feed.take()
            changes = group[0][0] if len(group) == 1 else [change for page in group for change in page[0]]
            next_cursor, has_more = group[-1][1], group[-1][2]
            if changes or next_cursor != cursor:
                self.store.apply_changes(changes, next_cursor)   # nothing new: no write transaction
            cursor = next_cursor
            tally.pulled += len(changes)
            reporter.update(done=tally.pulled)
            if not has_more:
                return
            _check(cancel)

    def _fetch(self, cursor: int) -> tuple[list[dict[str, Any]], int, bool]:
        """One page as the store takes it: (protocol change dicts, next_cursor, has_more)."""
        return self.client.pull_page(cursor, self.pull_limit)

    # ------------------------------------------------------------ upload

    def _upload(self, tally: _Tally, reporter: ProgressReporter, cancel: threading.Event,
                batches: _Batches) -> None:
        """Upload the photos the portal lacks; meanwhile push every batch whose photos are all there.

        Batches are taken in outbox order and only whole: a batch goes while photos are still
        uploading only when every photo its ops name is confirmed, so each visit still reaches
        the portal after its photos (PROTOCOL.md), and no op overtakes an older one.
        """
        refs = self.store.blobs_to_upload()
        if not refs:
            return
        reporter.phase("upload", total=len(refs), bytes_total=sum(r.bytes for r in refs),
                       message="Checking which photos the portal needs")
        wanted = self._missing_on_portal(refs)
        already = [r.sha256 for r in refs if r.sha256 not in wanted]
        if already:
            self.store.mark_blobs_uploaded(already)
        todo = [r for r in refs if r.sha256 in wanted]
        bytes_total = sum(r.bytes for r in todo)
        reporter.phase("upload", total=len(todo), bytes_total=bytes_total, message="Uploading photos")
        state = {"bytes": 0}
        # Confirmed hashes are written to the store in batches (one transaction per second or so, not
        # one per photo): after a crash the few unrecorded ones are found complete by /blobs/missing.
        confirmed: list[str] = []
        last_flush = time.monotonic()

        waiting = {r.sha256 for r in todo}
        needs: dict[str, set[str]] = {"hashes": set()}

        def ready(batch: Sequence[OutboxOp]) -> bool:
            needs["hashes"] = {photo.get("sha256") for op in batch for photo in op.data.get("photos") or ()} & waiting
            return not needs["hashes"]

        def between() -> None:
            # The next batch is read again only once every photo it waited for is confirmed.
            if needs["hashes"] & waiting or tally.blob_missing_seen:
                return
            while self._push_batch(tally, reporter, batches, ready):
                _check(cancel)

        def on_outcome(outcome: Outcome) -> None:
            nonlocal confirmed, last_flush
            if outcome.error is None:
                waiting.discard(outcome.sha256)
            if outcome.error is not None:
                # This photo's visit will come back `blob_missing` and become a problem; the rest go on.
                log.warning("photo %s not uploaded: %s", outcome.sha256, outcome.error)
                tally.blob_failures.append(str(outcome.error))
                return
            confirmed.append(outcome.sha256)
            tally.blobs_uploaded += 1
            reporter.update(done=tally.blobs_uploaded)
            if time.monotonic() - last_flush >= 1.0:
                self.store.mark_blobs_uploaded(confirmed)
                confirmed, last_flush = [], time.monotonic()

        def on_bytes(total: int) -> None:
            state["bytes"] = total
            reporter.update(bytes_done=total)

        uploads = ParallelUploads(self.client, self._meta_now().chunk_bytes, connections=self.connections,
                                  cancel=cancel)
        try:
            uploads.run(todo, on_outcome, on_bytes, between)
        finally:
            if confirmed:
                self.store.mark_blobs_uploaded(confirmed)
            tally.bytes_uploaded += state["bytes"]

    def _missing_on_portal(self, refs: Sequence[BlobRef]) -> set[str]:
        hashes = sorted({r.sha256 for r in refs})
        missing: set[str] = set()
        for start in range(0, len(hashes), MISSING_BATCH):
            missing.update(self.client.blobs_missing(hashes[start:start + MISSING_BATCH]))
        return missing

    # ------------------------------------------------------------ push

    def _push(self, tally: _Tally, reporter: ProgressReporter, cancel: threading.Event,
              batches: "_Batches | None" = None) -> bool:
        """Push the outbox (what is left of it after the pushes made during the upload)."""
        pending = self.store.pending()
        reporter.phase("push", total=tally.ops_pushed + pending.queued, message="Sending visits, decisions and hazard reports")
        reporter.update(done=tally.ops_pushed)
        batches = batches or self._batches()
        while not tally.blob_missing_seen:
            _check(cancel)
            if not self._push_batch(tally, reporter, batches):
                break
        return batches.pushed

    def _batches(self) -> "_Batches":
        return _Batches(self.store.sync_state().device_id, self._meta_now().max_push_ops)

    def _push_batch(self, tally: _Tally, reporter: ProgressReporter, batches: "_Batches",
                    ready: Callable[[Sequence[OutboxOp]], bool] | None = None) -> bool:
        """Push the next batch; False when there is none (or, with ``ready``, when not all of it is ready).

        A 413 halves the batch size and counts as a step; a lone op the portal still finds too
        large is recorded as rejected (one bad op never blocks the rest).
        """
        batch = self._next_batch(batches.max_ops, self._meta_now().max_push_bytes)
        if not [op for op in batch if op.op_id not in batches.seen]:
            # Empty outbox, or the store kept ops it already got results for: stop, never loop.
            return False
        if ready is not None and not ready(batch):
            return False
        try:
            response = self.client.push(batches.device_id, batch)
        except PortalError as exc:
            if exc.status != 413:
                raise
            if len(batch) > 1:
                batches.max_ops = max(1, len(batch) // 2)  # the portal counts bytes its own way: halve and retry
                return True
            self._record(tally, batch, [_too_large(batch[0], exc)])
            batches.seen.add(batch[0].op_id)
            return True
        self._record(tally, batch, response.results)
        batches.seen.update(op.op_id for op in batch)
        tally.ops_pushed += len(batch)
        batches.pushed = True
        reporter.update(done=tally.ops_pushed)
        # After a blob_missing the store re-queued that visit under a new op id: its photos go up first.
        return not tally.blob_missing_seen

    def _next_batch(self, max_ops: int, max_push_bytes: int) -> list[OutboxOp]:
        batch = self.store.outbox(limit=max_ops, max_bytes=max(1, max_push_bytes - ENVELOPE_BYTES))
        if not batch:
            # An op larger than max_push_bytes on its own: send it alone, the portal will say 413.
            batch = self.store.outbox(limit=1)
        return batch

    def _record(self, tally: _Tally, ops: Sequence[OutboxOp], results: Sequence[p.OpResult]) -> None:
        # A visit whose photos the portal lost is queued again, not refused: it counts as
        # rejected only once the store gives up on it (then it is a problem the officer sees).
        queued_again = self.store.record_results(ops, results)
        for result in results:
            if result.accepted:
                tally.applied += 1
            elif result.status == p.OpStatus.CONFLICT:
                tally.conflicts += 1
            elif result.status == p.OpStatus.REJECTED:
                tally.rejected += 1
        tally.rejected -= queued_again
        tally.blob_missing_seen = tally.blob_missing_seen or queued_again > 0

    # ------------------------------------------------------------ helpers

    def _meta_now(self) -> p.SyncMeta:
        if self._meta is None:
            self._meta = self.client.meta()
        return self._meta

    def _has_outbox(self) -> bool:
        return bool(self.store.outbox(limit=1))

    def _report(self, tally: _Tally, *, cancelled: bool) -> SyncReport:
        left = len(self.store.outbox(limit=10_000))
        ok = not cancelled and left == 0 and tally.conflicts == 0 and tally.rejected == 0 and not tally.blob_failures
        return SyncReport(
            pulled=tally.pulled, blobs_uploaded=tally.blobs_uploaded, bytes_uploaded=tally.bytes_uploaded,
            ops_pushed=tally.ops_pushed, applied=tally.applied, conflicts=tally.conflicts, rejected=tally.rejected,
            cancelled=cancelled, ok=ok, blob_failures=tuple(tally.blob_failures), left_in_outbox=left,
            message=_summary(tally, cancelled, left),
        )


def _check(cancel: threading.Event) -> None:
    if cancel.is_set():
        raise SyncCancelled("Sync cancelled.")


def _too_large(op: OutboxOp, exc: PortalError) -> p.OpResult:
    """A synthetic `rejected` result for an op the portal will never take in any batch."""
    return p.OpResult(op_id=op.op_id, status=p.OpStatus.REJECTED, error=p.ErrorBody(
        code=p.ErrorCode.PAYLOAD_TOO_LARGE, details=exc.details,
        message="This item is too large for the portal to accept. " + exc.message))


def _summary(tally: _Tally, cancelled: bool, left: int) -> str:
    # Only what happened: the status bar has room for one short sentence, and "0 photos uploaded"
    # crowded out what still waits.
    parts = counted_parts((tally.pulled, "change", "received"), (tally.blobs_uploaded, "photo", "uploaded"),
                          (tally.applied, "item", "accepted"), (tally.conflicts, "conflict"),
                          (tally.rejected, "item", "rejected"), (len(tally.blob_failures), "photo", "failed"))
    if parts:
        text = ", ".join(parts) + "."
    else:   # "Nothing new to send" beside "2 items still waiting to be sent" contradicted itself
        text = "Nothing new received." if left and not cancelled else "Nothing new to send or receive."
    if cancelled:
        return "Sync cancelled; " + text + " Everything not sent stays queued."
    if left:
        text += f" {counted(left, 'item', 'still waiting to be sent')}."
    if tally.conflicts or tally.rejected:
        text += " See Needs attention for what to do."   # the window's name for the problems' page
    return text


__all__ = ["SyncEngine", "SyncReport", "SyncProgress", "SyncError"]
