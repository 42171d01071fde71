"""Submit lists every missing answer at once, each a link to its question (real editor, real store)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt

from factory import open_new_visit, screenshot
from ui.visit_editor import MissingDialog


def _submit_and_wait_for_list(qtbot: Any, editor: Any) -> MissingDialog:
    editor.submit()
    qtbot.waitUntil(lambda: editor.missing_dialog is not None and editor.missing_dialog.isVisible(), timeout=10000)
    return editor.missing_dialog


def test_first_submit_lists_the_outcome_and_every_required_question(qtbot: Any, window: Any, artifacts: Path) -> None:
    """With nothing answered, one submit lists the required questions in form order and the outcome together."""
    editor = open_new_visit(qtbot, window)
    dialog = _submit_and_wait_for_list(qtbot, editor)
    assert dialog.keys() == ["mould_seen", "severity", "cause", "outcome"]
    for width, height, name in ((1280, 720, "1280x720"), (911, 512, "1366x768_at_150")):  # 150 %: logical pixels
        window.resize(width, height)
        screenshot(window, artifacts / f"ui_submit_list_{name}.png")
        screenshot(dialog, artifacts / f"ui_submit_list_dialog_{name}.png")


def test_clicking_a_listed_question_scrolls_to_it_and_focuses_it(qtbot: Any, window: Any) -> None:
    """One click on a line closes the list, scrolls the question into view and puts the cursor in it."""
    window.resize(1280, 720)
    editor = open_new_visit(qtbot, window)
    dialog = _submit_and_wait_for_list(qtbot, editor)
    row = dialog.keys().index("cause")
    rect = dialog.list.visualItemRect(dialog.list.item(row))
    qtbot.mouseClick(dialog.list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    target = editor.rows["cause"]
    qtbot.waitUntil(lambda: not dialog.isVisible())
    qtbot.waitUntil(lambda: window.focusWidget() is target.editor.focus_widget())
    top = target.mapTo(editor.scroll.widget(), target.rect().topLeft()).y()
    visible = editor.scroll.viewport().rect().translated(0, editor.scroll.verticalScrollBar().value())
    assert visible.top() <= top <= visible.bottom()
    assert target.problem.isVisible() and "must be answered" in target.problem.text()


def test_a_no_access_visit_lists_no_question(qtbot: Any, window: Any) -> None:
    """No access needs none of the inspection's answers: the visit is queued (the portal's rule too)."""
    editor = open_new_visit(qtbot, window)
    editor.outcome.setCurrentIndex(editor.outcome.findData("no_access"))
    with qtbot.waitSignal(editor.sig_submitted, timeout=10000):
        editor.submit()
    assert editor.missing_dialog is None
