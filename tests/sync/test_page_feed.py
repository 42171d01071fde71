"""`PageFeed`: pages fetched ahead in order, taken in groups of what arrives within the wait, errors after the pages before."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from sync.errors import PortalError
from sync.page_feed import Page, PageFeed


class Pages:
    """A portal of ``count`` pages of ten changes; page ``fail_at`` (1-based) raises; ``gate`` holds page 2."""

    def __init__(self, count: int, *, fail_at: int | None = None, gate: threading.Event | None = None) -> None:
        self.count, self.fail_at, self.gate = count, fail_at, gate
        self.asked: list[int] = []

    def fetch(self, cursor: int) -> Page:
        self.asked.append(cursor)
        number = cursor // 10 + 1
        if number == 2 and self.gate is not None:
            self.gate.wait(10)
        if number == self.fail_at:
            raise PortalError(503, "unavailable", "try later")
        changes = [{"seq": cursor + n + 1} for n in range(10)]
        return changes, cursor + 10, number < self.count


def wait_for(condition: Any) -> None:
    deadline = time.monotonic() + 10
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


def worker_ended() -> bool:
    return not any(t.name == "sync-pull" for t in threading.enumerate())


def test_pages_already_fetched_are_taken_together_up_to_the_limit_in_order() -> None:
    pages = Pages(6)
    with PageFeed(pages.fetch, 0, ahead=4) as feed:
        wait_for(lambda: len(pages.asked) == 5)          # four queued, the fifth waits for room
        assert [p[1] for p in feed.take(max_changes=30)] == [10, 20, 30]
        wait_for(worker_ended)                             # pages 5 and 6 queued: the last ends the worker
        assert [p[1] for p in feed.take(max_changes=30)] == [40, 50, 60]
        assert pages.asked == [0, 10, 20, 30, 40, 50]     # each cursor once, in order; none after the last


def test_a_page_is_taken_alone_when_the_next_does_not_arrive_within_the_wait() -> None:
    gate = threading.Event()
    pages = Pages(2, gate=gate)
    with PageFeed(pages.fetch, 0) as feed:
        started = time.monotonic()
        group = feed.take(wait=0.2)
        assert [p[1] for p in group] == [10] and group[0][2]
        assert 0.2 <= time.monotonic() - started < 5
        gate.set()
        last = feed.take()
        assert [p[1] for p in last] == [20] and not last[0][2]
        with pytest.raises(RuntimeError):
            feed.take()


def test_pages_that_arrive_within_the_wait_join_the_group() -> None:
    """Page 2 is held back a moment: the group waits for it (and page 3) instead of committing page 1 alone."""
    gate = threading.Event()
    pages = Pages(3, gate=gate)
    with PageFeed(pages.fetch, 0) as feed:
        threading.Timer(0.1, gate.set).start()
        assert [p[1] for p in feed.take(wait=5)] == [10, 20, 30]


def test_the_last_page_is_not_waited_after() -> None:
    pages = Pages(1)
    with PageFeed(pages.fetch, 0) as feed:
        started = time.monotonic()
        assert [p[1] for p in feed.take(wait=5)] == [10]
        assert time.monotonic() - started < 2


def test_a_failed_fetch_is_raised_after_the_pages_before_it() -> None:
    pages = Pages(5, fail_at=3)
    with PageFeed(pages.fetch, 0) as feed:
        wait_for(worker_ended)                             # the error is queued behind pages 1 and 2
        assert [p[1] for p in feed.take()] == [10, 20]
        with pytest.raises(PortalError):
            feed.take()
    assert pages.asked == [0, 10, 20]


def test_close_stops_a_worker_waiting_for_room() -> None:
    pages = Pages(100)
    feed = PageFeed(pages.fetch, 0, ahead=2)
    wait_for(lambda: len(pages.asked) == 3)
    started = time.monotonic()
    feed.close()
    assert time.monotonic() - started < 1 and len(pages.asked) == 3
