"""Popups (date picker, combo list) belong to their field: Esc closes the popup only, and none outlives its screen."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractItemView, QApplication, QWidget

from factory import wait_idle
from test_screens import _start_visit


def _open_editor(qtbot: Any, window: Any) -> Any:
    case_id = next(r.id for r in window.case_list.model.rows() if not r.has_warnings)
    _start_visit(qtbot, window, case_id)
    editor = window.editor
    qtbot.waitUntil(lambda: editor.rows["next_date"].editor.edit.height() > 0)   # laid out
    return editor


def _open_calendar(qtbot: Any, editor: Any) -> QWidget:
    """Click the date field's Calendar button, as the officer does; returns the calendar popup."""
    button = editor.rows["next_date"].editor.pick
    editor.scroll.ensureWidgetVisible(button)
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: QApplication.activePopupWidget() is not None)
    return QApplication.activePopupWidget()


def _press_escape_in(qtbot: Any, popup: QWidget) -> None:
    """Esc where X delivers it: the popup's list or calendar table (which swallows Esc in a date picker)."""
    target = popup.findChild(QAbstractItemView) or popup
    qtbot.keyClick(target, Qt.Key.Key_Escape)


def test_escape_in_the_date_picker_closes_the_picker_not_the_visit(qtbot: Any, window: Any) -> None:
    """Esc in an open calendar closes it; the visit stays open and the date is as it was."""
    editor = _open_editor(qtbot, window)
    date = editor.rows["next_date"].editor
    date.today.click()
    chosen = date.value()
    popup = _open_calendar(qtbot, editor)
    assert popup.isVisible()
    _press_escape_in(qtbot, popup)
    qtbot.waitUntil(lambda: not popup.isVisible())
    assert window.pages.currentWidget() is editor
    assert date.value() == chosen
    qtbot.waitUntil(lambda: not editor.dirty)
    wait_idle(qtbot, window.ctx.tasks)
    assert window.ctx.store.visit(editor.visit.id).answers["next_date"] == chosen


def test_escape_in_a_combo_list_closes_the_list_not_the_visit(qtbot: Any, window: Any) -> None:
    """Esc in an open hazard or choice list closes the list only; a second Esc then goes back to the cases."""
    editor = _open_editor(qtbot, window)
    for combo in (editor.rows["severity"].editor.combo, editor.hazards.add_row().band, editor.outcome):
        combo.showPopup()
        qtbot.waitUntil(lambda: QApplication.activePopupWidget() is not None)
        popup = QApplication.activePopupWidget()
        _press_escape_in(qtbot, popup)
        qtbot.waitUntil(lambda: QApplication.activePopupWidget() is None)
        assert window.pages.currentWidget() is editor
        assert combo.currentIndex() == 0
    window.activateWindow()   # offscreen gives no window manager to hand activation back after a popup
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
    editor.notes.setFocus()
    qtbot.keyClick(editor.notes, Qt.Key.Key_Escape)
    assert window.pages.currentWidget() is window.cases_page


def test_no_popup_is_left_over_another_screen(qtbot: Any, window: Any) -> None:
    """When the screen changes under an open calendar or combo list, the popup closes with it."""
    editor = _open_editor(qtbot, window)
    popup = _open_calendar(qtbot, editor)
    window.show_attention()
    assert not popup.isVisible() and QApplication.activePopupWidget() is None
    window.open_visit(editor.visit.id)
    qtbot.waitUntil(lambda: window.pages.currentWidget() is editor)
    combo = editor.outcome
    combo.showPopup()
    qtbot.waitUntil(lambda: QApplication.activePopupWidget() is not None)
    window.show_cases()
    assert QApplication.activePopupWidget() is None
