"""The editor's progress line counts only the required questions that apply, and Ctrl+J goes to the next unanswered one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from factory import open_new_visit, screenshot
from test_form_rules_ui import _open as open_room_by_room_visit


def _press_next(qtbot: Any, editor: Any) -> None:
    """Ctrl+J where the keyboard focus is (the editor or one of its fields)."""
    target = QApplication.focusWidget() if editor.isAncestorOf(QApplication.focusWidget()) else editor
    qtbot.keyClick(target, Qt.Key.Key_J, Qt.KeyboardModifier.ControlModifier)


def test_progress_follows_show_if_repeats_and_the_outcome(qtbot: Any, window: Any, artifacts: Path) -> None:
    """A shown question adds to the count, each room adds its required ones, a hidden one leaves, no access needs none."""
    editor = open_room_by_room_visit(qtbot, window)
    line = editor.progress_line
    assert line.isVisible()
    assert line.text.text() == "Required answered 0 of 2 · Sections complete 0 of 2"
    editor.rows["mould"].editor.group.buttons()[0].click()              # yes: "Where is the mould?" applies
    assert line.text.text().startswith("Required answered 1 of 3")
    rooms = editor.repeats["rooms"]
    rooms.add_button.click()
    rooms.add_button.click()                                            # two rooms: "Room" twice
    assert line.text.text().startswith("Required answered 1 of 4")
    for repetition in rooms.repetitions:
        repetition.rows["room"].editor.combo.setCurrentIndex(1)
    assert line.text.text() == "Required answered 3 of 4 · Sections complete 1 of 2"
    for width, height, name in ((1280, 720, "1280x720"), (911, 512, "1366x768_at_150")):  # 150 %: logical pixels
        window.resize(width, height)
        screenshot(window, artifacts / f"ui_progress_line_{name}.png")
    editor.setFocus()
    _press_next(qtbot, editor)
    qtbot.waitUntil(lambda: QApplication.focusWidget() is editor.rows["where"].editor.focus_widget())
    editor.rows["mould"].editor.group.buttons()[1].click()              # no: "Where" hidden, no longer counted
    # Every question answered, but a visit is not submitted without its outcome: not ready yet.
    assert line.text.text() == "Required answered 3 of 3 · Sections complete 2 of 2 · choose the outcome to submit"
    # The line asks for the outcome: Next unanswered (Ctrl+J) goes there, rather than greying out.
    assert line.next_button.isEnabled()
    _press_next(qtbot, editor)
    qtbot.waitUntil(lambda: QApplication.focusWidget() is editor.outcome)
    editor.outcome.setCurrentIndex(editor.outcome.findData("completed"))
    assert line.text.text() == "Required answered 3 of 3 · Sections complete 2 of 2  ✓ ready to submit"
    editor.outcome.setCurrentIndex(editor.outcome.findData("no_access"))
    assert line.text.text().startswith("No required questions for this outcome")


def test_next_unanswered_walks_the_form_by_keyboard_and_wraps(qtbot: Any, window: Any) -> None:
    """Ctrl+J goes from question to unanswered question in form order, then back to the first; answered ones are skipped."""
    editor = open_new_visit(qtbot, window)
    line = editor.progress_line
    assert line.text.text().startswith("Required answered 0 of 3")
    editor.setFocus()
    order = []
    for _ in range(4):
        _press_next(qtbot, editor)
        focus = QApplication.focusWidget()
        order.append(next(q for q, row in editor.rows.items() if row.editor.focus_widget() is focus))
    assert order == ["mould_seen", "severity", "cause", "mould_seen"]
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Space)        # answers "Yes" from the keyboard
    assert line.text.text().startswith("Required answered 1 of 3")
    _press_next(qtbot, editor)
    assert QApplication.focusWidget() is editor.rows["severity"].editor.focus_widget()
