"""The task manager: database work on one serial thread, results on the GUI thread, errors as failures."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from fieldapp.errors import ValidationError
from ui.tasks import Op, TaskFailure, TaskManager, TaskProgress, describe_error


def test_db_work_runs_serially_off_the_gui_thread_and_callbacks_on_it(qtbot: Any, tasks: TaskManager) -> None:
    """Every database op runs on the same non-GUI thread, in order; success callbacks run on the GUI thread."""
    gui = threading.get_ident()
    worker_threads: list[int] = []
    order: list[int] = []
    callback_threads: list[int] = []

    def work(n: int) -> int:
        worker_threads.append(threading.get_ident())
        order.append(n)
        return n

    for n in range(20):
        Op(None, lambda n=n: work(n)).success(lambda _r: callback_threads.append(threading.get_ident())).run()
    qtbot.waitUntil(lambda: len(callback_threads) == 20)
    assert order == list(range(20))
    assert len(set(worker_threads)) == 1 and worker_threads[0] != gui
    assert set(callback_threads) == {gui}


def test_exceptions_become_readable_failures(qtbot: Any, tasks: TaskManager) -> None:
    """A raised exception reaches the failure callback as a sentence, never the event loop."""
    failures: list[TaskFailure] = []

    def boom() -> None:
        raise ValidationError("Enter a number of at most 5.")

    def crash() -> None:
        raise KeyError("x")

    Op(None, boom).failure(failures.append).run()
    Op(None, crash, network=True).failure(failures.append).run()
    qtbot.waitUntil(lambda: len(failures) == 2)
    messages = sorted(f.message for f in failures)
    assert "Enter a number of at most 5." in messages
    assert any(m.startswith("Something went wrong") for m in messages)


def test_progress_arrives_and_cancel_stops_the_work(qtbot: Any, tasks: TaskManager) -> None:
    """A work function gets progress and cancel; cancelling ends it as a 'Cancelled.' failure."""
    seen: list[TaskProgress] = []
    failures: list[TaskFailure] = []
    started = threading.Event()

    def work(progress: Any, cancel: threading.Event) -> None:
        progress(0.1, "first")
        started.set()
        while True:
            progress(0.5, "waiting")  # raises Cancelled once cancel is set
            cancel.wait(0.01)

    op = Op(None, work, network=True).progress(seen.append).failure(failures.append)
    op.run()
    qtbot.waitUntil(lambda: started.is_set() and bool(seen))
    assert op.cancel_event is not None
    op.cancel_event.set()
    qtbot.waitUntil(lambda: bool(failures))
    assert failures[0].message == "Cancelled."
    assert seen[0] == TaskProgress(0.1, "first")


def test_callbacks_skip_deleted_parents(qtbot: Any, tasks: TaskManager) -> None:
    """A result for a widget that was deleted meanwhile is dropped, not delivered to a dead object."""
    from PySide6.QtWidgets import QWidget

    widget = QWidget()
    gate = threading.Event()
    called: list[int] = []
    finished: list[int] = []
    Op(widget, lambda: gate.wait(5)).success(lambda _r: called.append(1)).run()
    widget.deleteLater()
    qtbot.waitUntil(lambda: not __import__("shiboken6").isValid(widget))
    gate.set()
    Op(None, lambda: 1).success(finished.append).run()
    qtbot.waitUntil(lambda: bool(finished))
    assert called == []


def test_shutdown_finishes_queued_database_work(qapp: Any) -> None:
    """Shutting down waits for queued database work (an autosave must reach the disk)."""
    manager = TaskManager()
    done: list[int] = []
    for n in range(5):
        manager.submit(lambda n=n: done.append(n), None, network=False)
    manager.shutdown()
    assert done == [0, 1, 2, 3, 4]
    with pytest.raises(RuntimeError):
        manager.submit(lambda: None, None, network=False)


def test_describe_error_names_the_file() -> None:
    """OS errors say which file could not be read."""
    message = describe_error(FileNotFoundError(2, "No such file or directory", "/tmp/x.jpg"))
    assert "/tmp/x.jpg" in message


def test_shutdown_cancels_network_work_and_waits_for_it(qapp: Any) -> None:
    """Shutdown sets the cancel event of running network work, drops queued work, and waits for the running one."""
    manager = TaskManager(network_workers=1)
    previous, Op.manager = Op.manager, manager
    started, stopped, queued_ran = threading.Event(), threading.Event(), threading.Event()

    def long_download(cancel: threading.Event) -> None:
        started.set()
        cancel.wait(10)
        stopped.set()

    try:
        Op(None, long_download, network=True).run()
        Op(None, queued_ran.set, network=True).run()
        assert started.wait(5)
        manager.shutdown(timeout=5)
        assert stopped.is_set() and not queued_ran.is_set()
    finally:
        Op.manager = previous


def test_a_closed_window_refreshes_nothing_when_late_work_reports(qtbot: Any, window: Any) -> None:
    """Work finishing after the main window closed (a save, a sync) asks no task manager for a refresh."""
    window.close()
    previous, Op.manager = Op.manager, None   # as after the app's task manager shut down
    try:
        window.ctx.signals.sig_data_changed.emit()
        window.ctx.signals.sig_drafts_changed.emit()
        window.ctx.signals.sig_visit_changed.emit("visit-1")
        qtbot.wait(10)
    finally:
        Op.manager = previous
    assert not window._status_soon.isActive()
