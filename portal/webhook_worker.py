"""The webhook delivery worker of the served portal: fan out, deliver, retry, and check the clocks.

One thread per portal process (started by ``create_app``'s lifespan, so ``fieldapp-portal
serve`` runs it) loops: fan waiting events out, claim due deliveries, POST each (a small
pool, so one slow receiver does not hold the rest), record the attempt; and now and
then run the clock check. Nothing lives only in memory: a portal stopped with
deliveries pending finds them in the database when it starts again, and several
processes share the work through the outbox's row locks and leases.

Deliveries follow the Standard Webhooks specification, signed by its reference library
(``standardwebhooks``): ``webhook-id`` is the event's id (the same on every retry, so a
receiver can drop a duplicate), ``webhook-timestamp`` the attempt's time in Unix
seconds, ``webhook-signature`` ``v1,`` + base64 HMAC-SHA256 of ``id.timestamp.body``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from standardwebhooks.webhooks import Webhook as Signer

from portal.core.config import PortalSettings
from portal.core.db import Database
from portal.services import clock_events, webhook_outbox
from portal.services.sequence import utcnow
from portal.services.webhook_outbox import Claimed, RetryPolicy
from portal.webhook_http import post

log = logging.getLogger(__name__)


def signed_headers(claimed: Claimed, moment: datetime) -> dict[str, str]:
    """The three headers of the specification for one attempt."""
    return {
        "webhook-id": claimed.event_id,
        "webhook-timestamp": str(int(moment.timestamp())),
        "webhook-signature": Signer(claimed.secret).sign(claimed.event_id, moment, claimed.body),
    }


class WebhookWorker:
    """Delivers the outbox; ``start()`` runs it on a thread, ``run_once()`` does one round (tests)."""

    def __init__(
        self, db: Database, *, policy: RetryPolicy | None = None, timeout: float = 10.0, poll_seconds: float = 1.0,
        concurrency: int = 4, clock_check_seconds: float = 60.0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.db = db
        self.policy = policy or RetryPolicy()
        self.timeout = timeout
        self.poll_seconds = poll_seconds
        self.concurrency = concurrency
        self.batch = concurrency * 4
        # Long enough for a whole claimed batch at the worst timeout, with room to record.
        self.lease = timedelta(seconds=timeout * (self.batch / concurrency + 1) + 30)
        self.clock_check_seconds = clock_check_seconds
        #: The statutory clocks are judged by this (tests move it); deliveries use real time.
        self.clock = clock
        self._next_clock_check = 0.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="webhook-post")

    @classmethod
    def from_settings(cls, db: Database, settings: PortalSettings) -> WebhookWorker:
        """A worker with the portal's configured timing."""
        policy = RetryPolicy(delays=settings.webhook_retry_delays, give_up_after=timedelta(hours=settings.webhook_retry_hours))
        return cls(db, policy=policy, timeout=settings.webhook_timeout_seconds, poll_seconds=settings.webhook_poll_seconds,
                   clock_check_seconds=settings.clock_check_seconds)

    def run_once(self) -> int:
        """One round: clock check when due, fan-out, one batch of deliveries; how much was done."""
        done = 0
        if time.monotonic() >= self._next_clock_check:
            self._next_clock_check = time.monotonic() + self.clock_check_seconds
            done += clock_events.check(self.db, self.clock())
        now = utcnow()
        if not webhook_outbox.has_due(self.db, now):
            return done
        done += webhook_outbox.fan_out(self.db, now)
        claimed = webhook_outbox.claim(self.db, utcnow(), self.batch, self.lease)
        list(self._pool.map(self._deliver, claimed))
        return done + len(claimed)

    def _deliver(self, claimed: Claimed) -> None:
        try:
            moment = datetime.now(UTC)
            answer = post(claimed.url, claimed.body.encode("utf-8"), signed_headers(claimed, moment), self.timeout)
            status = webhook_outbox.record(self.db, claimed, answer, utcnow(), self.policy)
        except Exception:
            log.exception("Webhook delivery %s could not be recorded; it is tried again when its lease ends.", claimed.delivery_id)
            return
        if status == webhook_outbox.FAILED:
            log.warning("Webhook delivery %s (event %s) failed for good: %s", claimed.delivery_id, claimed.event_id, answer.error)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                worked = self.run_once()
            except Exception:
                log.exception("The webhook worker's round failed; trying again shortly.")
                worked = 0
            if not worked:
                self._stop.wait(self.poll_seconds)

    def start(self) -> WebhookWorker:
        """Run on a daemon thread until ``stop()``."""
        self._thread = threading.Thread(target=self._loop, name="webhook-worker", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 30.0) -> None:
        """Finish the round under way (its attempts are recorded), then stop."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self._pool.shutdown(wait=True)
