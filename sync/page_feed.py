"""`PageFeed`: pull pages fetched ahead of the store by one worker thread, taken in groups.

The portal answering a page and the store applying one take about as long, so they
overlap: the worker fetches (network and JSON parsing) while the store writes. The store
takes the pages in groups of up to `GROUP_CHANGES` changes, each group applied in one
transaction: each commit of a first sync rewrites the index pages its random ids touched,
so one commit of four pages writes and costs far less than four commits of one (a
20,000-case first sync wrote 950 MB page by page, 400 MB four at a time, and its apply
took 4.3-4.8 s of CPU page by page, 3.2 s four at a time). A group takes the pages already
fetched, and waits for more at most `GROUP_WAIT` after its first: on loopback the next
pages come within that, on a slow link a page is taken alone rather than held back, and
the last page of the pull (``has_more`` false) is never waited after.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable

from sync.pull_page import Page  # one page as the client returns it: (protocol change dicts, next_cursor, has_more)

#: Pages fetched and waiting at most; enough to fill a group while the store commits one.
AHEAD = 4
#: Changes taken into one group at most: a group is one store transaction, which holds the
#: store's write lock (an officer's save waits for it), about 0.3 s for 4,000 changes.
GROUP_CHANGES = 4000
#: Seconds a group waits for more pages after its first has arrived (four loopback pages come in ~0.2 s).
GROUP_WAIT = 0.5


class PageFeed:
    """Fetches the pages after a cursor in one worker thread; `take` hands them over in order.

    A fetch that fails ends the feed: `take` raises its error after every page fetched
    before it has been taken. Only the worker uses ``fetch`` (the client) while the feed runs.
    """

    def __init__(self, fetch: Callable[[int], Page], cursor: int, *, ahead: int = AHEAD) -> None:
        self._fetch = fetch
        self._pages: queue.Queue[Page | BaseException] = queue.Queue(maxsize=ahead)
        self._stop = threading.Event()
        self._done = False
        self._failed: BaseException | None = None
        self._worker = threading.Thread(target=self._run, args=(cursor,), name="sync-pull", daemon=True)
        self._worker.start()

    def _run(self, cursor: int) -> None:
        while not self._stop.is_set():
            try:
                page = self._fetch(cursor)
            except BaseException as exc:  # noqa: BLE001 - handed to the taker, who raises it
                self._put(exc)
                return
            if not self._put(page) or not page[2]:
                return
            cursor = page[1]

    def _put(self, item: Page | BaseException) -> bool:
        """Queue an item, waiting for room; False when the feed was closed meanwhile."""
        while not self._stop.is_set():
            try:
                self._pages.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def take(self, max_changes: int = GROUP_CHANGES, wait: float = GROUP_WAIT) -> list[Page]:
        """The next pages in order: waits for one, then adds the pages that arrive within ``wait``, up to ``max_changes``.

        The last page of the group is the only one that may end the pull (``has_more`` false);
        after it, `take` must not be called again.
        """
        if self._done:
            raise RuntimeError("the pull has ended; nothing more to take")
        if self._failed is not None:
            self._done = True
            raise self._failed
        first = self._pages.get()
        if isinstance(first, BaseException):
            self._done = True
            raise first
        group, count = [first], len(first[0])
        deadline = time.monotonic() + wait
        while group[-1][2] and count < max_changes:
            try:
                item = self._pages.get(timeout=max(deadline - time.monotonic(), 0.0))
            except queue.Empty:
                break
            if isinstance(item, BaseException):
                self._failed = item   # raised by the next take, once the pages before it are applied
                break
            group.append(item)
            count += len(item[0])
        self._done = not group[-1][2]
        return group

    def close(self) -> None:
        """Stop fetching and wait for the worker (a request in flight is finished, then dropped)."""
        self._stop.set()
        self._worker.join()

    def __enter__(self) -> PageFeed:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
