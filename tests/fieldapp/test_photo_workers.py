"""The photo pool's helpers run at the priority of the thread that hands them work."""

from __future__ import annotations

import os
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from fieldapp.photo_workers import workers
from fieldapp.priority import lower_this_thread

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread niceness is Linux's")


def _niceness() -> int:
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


def _caller_and_helper(lowered: bool) -> tuple[int, int]:
    """The niceness of a (lowered or plain) thread and of the photo helper it hands work to."""
    with ThreadPoolExecutor(max_workers=1, initializer=lower_this_thread if lowered else None) as caller:
        return caller.submit(lambda: (_niceness(), workers().submit(_niceness).result())).result()


def test_helpers_of_a_lowered_thread_are_lowered_as_much_as_it() -> None:
    """The app's import thread is lowered, so its helpers leave the processor to saves and the window too."""
    caller, helper = _caller_and_helper(lowered=True)
    assert caller > os.getpriority(os.PRIO_PROCESS, os.getpid())
    assert helper == caller


def test_helpers_of_a_plain_thread_are_not_lowered() -> None:
    """A plain caller's helpers would otherwise wait behind every other program while it waits for them."""
    caller, helper = _caller_and_helper(lowered=False)
    assert helper == caller == os.getpriority(os.PRIO_PROCESS, os.getpid())
