"""Housekeeping: what the portal removes once it is of no further use.

Long-closed cases leave the devices, tombstones past their retention go, partial
uploads nobody continued are discarded, and complete blobs no visit references are
removed once their grace period since the last upload has passed (a device that
uploaded photos and then failed to push still has that long to push). A blob a visit
references is never removed. Webhook deliveries finished ``webhook_days`` ago go,
with the outbox events nothing waits on any more. Run by ``fieldapp-portal housekeeping`` (cron) and at
most hourly by each serving process.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from portal.blobstore import BlobStore
from portal.core.config import PortalSettings
from portal.core.db import Database
from portal.services import pull as pull_service
from portal.services import webhook_outbox
from portal.services.blobs import discard_stale_partials, unreferenced_blobs
from portal.services.records import purge_closed_cases
from portal.services.sequence import utcnow


@dataclass(frozen=True)
class HousekeepingReport:
    """How much each step removed."""

    purged_cases: int
    tombstones: int
    partial_uploads: int
    orphan_partial_files: int
    unreferenced_blobs: int
    webhook_events: int = 0

    def summary(self) -> str:
        """One line for the log and the command line."""
        return (f"purged {self.purged_cases} closed cases, {self.tombstones} tombstones, "
                f"{self.partial_uploads} stale partial uploads ({self.orphan_partial_files} orphan files), "
                f"{self.unreferenced_blobs} unreferenced photos, {self.webhook_events} old webhook events")


def run(db: Database, store: BlobStore, settings: PortalSettings) -> HousekeepingReport:
    """Every step, each in its own transaction."""
    with db.write() as session:
        cases = purge_closed_cases(session, settings.closed_case_days)
    with db.write() as session:
        tombstones = pull_service.purge_tombstones(session, settings.tombstone_days)
    with db.plain(writes=True) as session:
        partials = discard_stale_partials(session, store, settings.partial_blob_days)
    # Files left by a crash between writing a chunk and committing its row, or from the old layout.
    orphans = store.sweep_partials(settings.partial_blob_days * 86400.0)
    with db.plain(writes=True) as session:
        gone = unreferenced_blobs(session, utcnow() - timedelta(days=settings.unreferenced_blob_days))
    # Bytes go only after the rows' removal committed: a failed commit leaves both.
    for sha256 in gone:
        store.delete(sha256)
    with db.plain(writes=True) as session:
        events = webhook_outbox.purge(session, utcnow() - timedelta(days=settings.webhook_days))
    return HousekeepingReport(cases or 0, tombstones or 0, partials, orphans, len(gone), events)
