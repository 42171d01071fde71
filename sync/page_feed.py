"""`PageFeed`: pull pages fetched ahead of the store by one worker thread, taken in groups.

The portal answering a page and the store applying one take about as long, so they
overlap: the worker fetches (network and JSON parsing) while the store writes. When
the store falls behind, the pages that have arrived meanwhile are taken together and
applied in one transaction: each commit of a first sync rewrites the index pages its
random ids touched, so one commit of four pages writes far less than four commits of
one (a 20,000-case first sync wrote 486 MB to the WAL page by page, 204 MB four at a
time). When the portal is the slower side each page is taken alone as it arrives, so
grouping never makes the store wait.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable

from sync.pull_page import Page  # one page as the client returns it: (protocol change dicts, next_cursor, has_more)

#: Pages fetched and waiting at most; enough to fill a group while the store commits one.
AHEAD = 4
#: Changes taken into one group at most: a group is one store transaction, which holds the
#: store's write lock (an officer's save waits for it), about 0.3 s for 4,000 changes.
GROUP_CHANGES = 4000


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

    def take(self, max_changes: int = GROUP_CHANGES) -> list[Page]:
        """The next pages in order: waits for one, then adds those already fetched, up to ``max_changes``.

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
        while group[-1][2] and count < max_changes:
            try:
                item = self._pages.get_nowait()
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
