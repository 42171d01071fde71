"""Benchmark: webhook deliveries per second from the PostgreSQL outbox to a loopback receiver.

Writes EVENTS ``case.created`` events into the outbox (as the causes' transactions do,
in batches), then runs one and then two delivery workers (as in two portal processes)
until a loopback receiver that verifies every signature has them all. Prints
deliveries per second, the latency from the event's commit to its receipt (p50, p95)
and the load average. Goal: well above what a council produces (a few events a
second at peak), with every event received exactly once.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from portal.core import migrate  # noqa: E402
from portal.core.db import Database  # noqa: E402
from portal.services import webhooks  # noqa: E402
from portal.webhook_worker import WebhookWorker  # noqa: E402
from tests.conftest import create_pg_database, drop_pg_database  # noqa: E402
from tests.portal.webhook_receiver import Receiver  # noqa: E402

EVENTS = int(os.environ.get("FIELDAPP_BENCH_EVENTS", "2000"))
BATCH = 100


def _run(db: Database, receiver: Receiver, workers: int) -> None:
    start_count = len(receiver.received)
    written: dict[str, float] = {}
    for start in range(0, EVENTS, BATCH):
        with db.plain(writes=True) as session:
            for _ in range(min(BATCH, EVENTS - start)):
                event = webhooks.Emission(webhooks.EventType.CASE_CREATED, {"case_id": str(uuid.uuid4())})
                webhooks.emit(session, event)
                written[event.id] = 0.0
        now = time.monotonic()
        for event_id, at in written.items():
            if at == 0.0:
                written[event_id] = now
    began = time.monotonic()
    running = [WebhookWorker(db, poll_seconds=0.01, clock_check_seconds=3600).start() for _ in range(workers)]
    try:
        receiver.wait_for(lambda r: len(r.received) - start_count >= EVENTS, timeout=600)
    finally:
        for worker in running:
            worker.stop()
    took = time.monotonic() - began
    got = receiver.received[start_count:]
    ids = [r.headers["webhook-id"] for r in got]
    assert len(set(ids)) == EVENTS == len(ids) and all(r.verified for r in got), "every event once, signed"
    latency = sorted(r.at - written[r.headers["webhook-id"]] for r in got)
    print(f"{workers} worker(s): {EVENTS} deliveries in {took:.2f} s = {EVENTS / took:.0f}/s; "
          f"commit-to-receipt p50 {statistics.median(latency):.2f} s, p95 {latency[int(0.95 * len(latency))]:.2f} s "
          f"(all written before the workers started); load average {os.getloadavg()[0]:.2f}")


def main() -> None:
    url = create_pg_database("fieldapp_bwh")
    db = Database(url)
    receiver = Receiver().start()
    try:
        migrate.upgrade(db.engine)
        with db.plain(writes=True) as session:
            receiver.secret = webhooks.create(session, receiver.url, ["case.created"], None).secret
        print(f"load average before: {os.getloadavg()[0]:.2f}")
        for workers in (1, 2):
            _run(db, receiver, workers)
    finally:
        receiver.stop()
        db.dispose()
        drop_pg_database(url)


if __name__ == "__main__":
    main()
