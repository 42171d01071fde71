"""Background threads run at the app's priority lowered once, whichever thread made them."""

from __future__ import annotations

import os
import sys
import threading

import pytest

from fieldapp.priority import BACKGROUND_NICENESS, lower_this_thread

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread niceness is Linux's")


def _niceness_of_lowered_thread(started_from_lowered: bool) -> int:
    """The niceness of a thread that lowered itself, made by a plain or by a lowered thread."""
    seen: list[int] = []

    def lowered() -> None:
        lower_this_thread()
        seen.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))

    def maker() -> None:
        lower_this_thread()
        inner = threading.Thread(target=lowered)
        inner.start()
        inner.join()

    outer = threading.Thread(target=maker if started_from_lowered else lowered)
    outer.start()
    outer.join()
    return seen[0]


def test_a_thread_made_by_a_lowered_thread_is_lowered_once_not_twice() -> None:
    """The photo pool is made by the lowered import thread: its threads get the import thread's priority, not lower."""
    expected = min(os.getpriority(os.PRIO_PROCESS, os.getpid()) + BACKGROUND_NICENESS, 19)
    assert _niceness_of_lowered_thread(False) == expected
    assert _niceness_of_lowered_thread(True) == expected
