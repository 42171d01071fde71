"""No failure is silent: every background failure is logged with its traceback and, unless a caller handles it, shown."""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QWidget

from factory import TEMPLATE_ID, wait_idle, write_jpeg
from fieldapp.errors import StoreError, ValidationError
from ui.tasks import Op, TaskFailure, TaskManager


def _tracebacks(caplog: pytest.LogCaptureFixture, kind: type[BaseException]) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.exc_info and isinstance(r.exc_info[1], kind)]


def test_an_unhandled_failure_is_logged_and_shown_in_the_window(qtbot: Any, window: Any,
                                                                 caplog: pytest.LogCaptureFixture) -> None:
    """Work without a failure handler that raises puts a readable message on screen and its traceback in the log."""
    def broken() -> None:
        raise KeyError("template")

    Op(window, broken, what="read the case").run()
    notice = window.failures
    qtbot.waitUntil(lambda: notice.box is not None and notice.box.isVisible())
    assert "read the case" in notice.box.text() and "Something went wrong" in notice.box.text()
    [record] = _tracebacks(caplog, KeyError)
    assert record.levelno == logging.ERROR and "read the case" in record.getMessage()


def test_repeated_failures_share_one_message(qtbot: Any, window: Any) -> None:
    """Failures arriving while the message is up update it (with a count), never stack dialogs."""
    for _ in range(3):
        Op(window, lambda: (_ for _ in ()).throw(OSError(5, "Input/output error"))).run()
    wait_idle(qtbot, window.ctx.tasks)
    notice = window.failures
    assert notice.box is not None and notice.box.isVisible() and "3 times" in notice.box.text()
    assert len([w for w in window.findChildren(QWidget) if w.objectName() == "failureNotice"]) == 1


def test_a_handled_failure_is_logged_too(qtbot: Any, tasks: TaskManager, caplog: pytest.LogCaptureFixture) -> None:
    """Even an expected failure (our own error, handled by the caller) leaves its traceback in the log."""
    failures: list[TaskFailure] = []

    def refuse() -> None:
        raise ValidationError("Enter a number of at most 5.")

    Op(None, refuse).failure(failures.append).run()
    qtbot.waitUntil(lambda: bool(failures))
    [record] = _tracebacks(caplog, ValidationError)
    assert record.levelno == logging.WARNING


def test_a_failure_after_its_widget_closed_is_still_logged(qtbot: Any, tasks: TaskManager,
                                                           caplog: pytest.LogCaptureFixture) -> None:
    """When the widget that asked is gone, the failure still reaches the log."""
    widget = QWidget()
    gate = threading.Event()

    def slow_failure() -> None:
        gate.wait(5)
        raise RuntimeError("disk gone")

    Op(widget, slow_failure).run()
    widget.deleteLater()
    qtbot.waitUntil(lambda: not __import__("shiboken6").isValid(widget))
    gate.set()
    qtbot.waitUntil(lambda: bool(_tracebacks(caplog, RuntimeError)))


def test_a_broken_callback_is_shown_not_swallowed(qtbot: Any, window: Any, caplog: pytest.LogCaptureFixture) -> None:
    """A success callback that raises is a failure too: logged with its traceback and shown."""
    def bad_callback(_result: object) -> None:
        raise ZeroDivisionError("division by zero")

    Op(window, lambda: 1).success(bad_callback).run()
    qtbot.waitUntil(lambda: window.failures.box is not None and window.failures.box.isVisible())
    assert _tracebacks(caplog, ZeroDivisionError)


def test_status_bar_says_what_to_do_when_counts_cannot_be_read(qtbot: Any, window: Any, store: Any,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """If the waiting counts cannot be read, the status bar says so and that the work is kept."""
    def broken() -> None:
        raise StoreError("The local database is busy.")

    monkeypatch.setattr(store, "pending", broken)
    window.refresh_status()
    line = window.status_line
    qtbot.waitUntil(lambda: "could not be read" in line.pending.text())
    assert "kept" in line.message.text() and "restart" in line.message.text().lower()


def test_photo_panel_says_when_its_photos_cannot_be_shown(qtbot: Any, window: Any, store: Any, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """A failed reload of the photo list, or a thumbnail that cannot be decoded, is said under the photos."""
    case_id = next(c.id for c in store.cases() if not c.has_warnings)
    visit = store.start_visit(case_id, TEMPLATE_ID)
    store.add_photo(visit.id, write_jpeg(tmp_path / "a.jpg", 400, 300))
    with qtbot.waitSignal(window.editor.sig_loaded, timeout=10000):
        window.open_visit(visit.id)
    panel = window.editor.photos
    wait_idle(qtbot, window.ctx.tasks)

    def broken(_visit_id: str) -> None:
        raise StoreError("The local database is busy.")

    monkeypatch.setattr(store, "visit", broken)
    panel.reload()
    qtbot.waitUntil(lambda: panel.message.isVisible() and "could not be shown" in panel.message.text())
    assert "kept" in panel.message.text()
    monkeypatch.undo()
    photo = store.visit(visit.id).photos[0]
    photo.thumbnail_path.write_bytes(b"not an image")
    photo.path.write_bytes(b"not an image")
    panel.message.hide()
    panel.model.set_rows([])
    panel.set_photos(visit.id, store.visit(visit.id).photos, {})
    qtbot.waitUntil(lambda: panel.message.isVisible() and "thumbnail" in panel.message.text().lower())
