"""The task manager's background thread: heavy work off the database thread, at low priority, one job at a time."""

from __future__ import annotations

import os
import sys
import threading
from typing import Any

import pytest

from ui.tasks import Op, TaskManager


def test_background_work_runs_on_its_own_lowered_thread_in_order(qtbot: Any, tasks: TaskManager) -> None:
    """Background ops share one thread that is neither the GUI's nor the database's; results arrive in order."""
    seen: list[tuple[str, int]] = []
    results: list[int] = []

    def work(n: int) -> int:
        seen.append((threading.current_thread().name, threading.get_native_id()))
        return n

    db_thread: list[str] = []
    Op(None, lambda: db_thread.append(threading.current_thread().name)).run()
    for n in range(5):
        Op(None, lambda n=n: work(n), background=True).success(results.append).run()
    qtbot.waitUntil(lambda: len(results) == 5 and bool(db_thread))
    assert results == list(range(5))
    names = {name for name, _ in seen}
    assert len(names) == 1 and names != {db_thread[0]} and names != {threading.current_thread().name}
    if sys.platform.startswith("linux"):
        assert os.getpriority(os.PRIO_PROCESS, seen[0][1]) > os.getpriority(os.PRIO_PROCESS, 0)


def test_shutdown_cancels_running_background_work_and_waits_for_it(qapp: Any) -> None:
    """Shutdown sets the running background job's cancel event and waits until it has stopped."""
    manager = TaskManager()
    cancel = manager.new_cancel()
    outcome: list[bool] = []
    started = threading.Event()

    def work() -> None:
        started.set()
        outcome.append(cancel.wait(20))

    manager.submit(work, None, network=False, background=True)
    assert started.wait(5)
    manager.shutdown()
    assert outcome == [True]
    with pytest.raises(RuntimeError):
        manager.submit(lambda: None, None, network=False, background=True)
