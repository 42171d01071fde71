"""The per-folder sync lock, progress throttling and the retry arithmetic."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path

import pytest

from sync.errors import SyncBusy
from sync.lock import SyncLock
from sync.progress import ProgressReporter, SyncProgress
from sync.retry import RetryPolicy, is_retryable_status, parse_retry_after


def test_second_sync_on_same_folder_is_refused(tmp_path: Path) -> None:
    """While one sync holds the folder, another gets SyncBusy naming the holder; after release it works."""
    with SyncLock(tmp_path):
        with pytest.raises(SyncBusy, match=str(os.getpid())):
            SyncLock(tmp_path).acquire()
    with SyncLock(tmp_path):
        pass


def test_lock_is_released_when_holder_is_killed(tmp_path: Path) -> None:
    """kill -9 of the holding process frees the lock (no stale lock blocks the next sync)."""
    code = ("import sys,time; from sync.lock import SyncLock; l=SyncLock(sys.argv[1]); l.acquire(); "
            "print('held', flush=True); time.sleep(60)")
    proc = subprocess.Popen([sys.executable, "-c", code, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "held"
        with pytest.raises(SyncBusy):
            SyncLock(tmp_path).acquire()
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    with SyncLock(tmp_path):
        pass


def test_progress_is_throttled_but_phase_changes_always_pass() -> None:
    """Many updates within 100 ms give one callback; a phase change is always delivered."""
    now = [0.0]
    seen: list[SyncProgress] = []
    reporter = ProgressReporter(seen.append, min_interval=0.1, clock=lambda: now[0])
    reporter.phase("pull")
    for i in range(90):
        now[0] += 0.001
        reporter.update(done=i)
    assert len(seen) == 1
    now[0] += 0.02
    reporter.update(done=100)
    reporter.phase("upload", total=3, bytes_total=10)
    assert [(p.phase, p.done) for p in seen] == [("pull", 0), ("pull", 100), ("upload", 0)]
    assert seen[-1].bytes_total == 10


def test_full_jitter_stays_within_the_exponential_ceiling() -> None:
    """Waits are uniform in [0, min(max, base*2^(n-1))], and vary (jitter)."""
    policy = RetryPolicy(base_delay=0.5, max_delay=4.0, rng=random.Random(1))
    for n, ceiling in [(1, 0.5), (2, 1.0), (3, 2.0), (4, 4.0), (9, 4.0)]:
        waits = [policy.backoff(n) for _ in range(200)]
        assert 0 <= min(waits) and max(waits) <= ceiling and max(waits) > ceiling * 0.8


def test_retry_after_is_honoured_and_capped() -> None:
    """Retry-After (seconds or HTTP date) sets the wait, up to the cap."""
    policy = RetryPolicy(base_delay=0.1, max_retry_after=10, rng=random.Random(1))
    assert 5 <= policy.delay(1, 5.0) <= 5.1
    assert 10 <= policy.delay(1, 500.0) <= 10.1
    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    assert parse_retry_after(format_datetime(now + timedelta(seconds=30), usegmt=True), now) == 30
    assert parse_retry_after("7") == 7 and parse_retry_after("soon") is None and parse_retry_after(None) is None


def test_only_5xx_and_429_are_retryable() -> None:
    """4xx other than 429 are final."""
    assert [s for s in (400, 401, 404, 409, 410, 413, 422, 429, 500, 502, 503) if is_retryable_status(s)] == \
        [429, 500, 502, 503]
