"""The rules behind webhook timing, without a portal: the default backoff and when a clock turns amber."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

from portal.clocks import AMBER, BREACHED, MET, RUNNING, clock_state, working_days_left
from portal.holidays import england
from portal.services.webhook_outbox import RetryPolicy


def test_default_backoff_first_retry_within_a_minute_then_up_to_hourly() -> None:
    """30 s, 2 min, 10 min, 30 min, 1 h, then hourly, each within ±20 %; the whole try lasts 24 hours."""
    policy = RetryPolicy(rng=random.Random(7))
    for _ in range(200):
        assert timedelta(seconds=24) <= policy.delay(1) <= timedelta(seconds=36)
    assert timedelta(seconds=96) <= policy.delay(2) <= timedelta(seconds=144)
    assert timedelta(minutes=8) <= policy.delay(3) <= timedelta(minutes=12)
    for attempts in (5, 6, 20):
        assert timedelta(minutes=48) <= policy.delay(attempts) <= timedelta(minutes=72)
    assert policy.give_up_after == timedelta(hours=24)


def test_amber_counts_bank_holidays() -> None:
    """Due Tue 29 Dec 2026 (Christmas Day and the Boxing Day substitute between): amber from Thursday the 24th, not Wednesday."""
    holidays = england()
    clock = {"stage": "summary", "due_at": "2026-12-29T23:59:59Z", "met_at": None}
    wednesday = datetime(2026, 12, 23, 10, 0, tzinfo=timezone.utc)
    thursday = wednesday + timedelta(days=1)
    assert working_days_left(holidays, datetime(2026, 12, 29, 23, 59, 59, tzinfo=timezone.utc), wednesday) == 2
    assert clock_state(clock, wednesday, holidays) == RUNNING
    assert clock_state(clock, thursday, holidays) == AMBER
    assert clock_state(clock, datetime(2026, 12, 30, 0, 0, 1, tzinfo=timezone.utc), holidays) == BREACHED
    assert clock_state({**clock, "met_at": "2026-12-28T09:00:00Z"}, thursday + timedelta(days=30), holidays) == MET
