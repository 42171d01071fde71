"""Dates are typed (dd/mm/yyyy, "today") or picked from a calendar that opens on today; an empty date stays empty."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import QApplication

from factory import open_new_visit, screenshot, wait_idle
from ui.date_input import DateTextError, parse_date_text

TODAY = date(2026, 12, 1)


@pytest.mark.parametrize(("typed", "expected"), [
    ("05/03/2026", date(2026, 3, 5)), ("5/3/2026", date(2026, 3, 5)), ("05.03.2026", date(2026, 3, 5)),
    ("2026-03-05", date(2026, 3, 5)), (" Today ", TODAY), ("", None)])
def test_typed_dates_are_read_day_first(typed: str, expected: date | None) -> None:
    """British order, ISO and "today" are read; an empty box is no date."""
    assert parse_date_text(typed, TODAY) == expected


@pytest.mark.parametrize("typed", ["31/02/2026", "03/05", "next week", "2026/13/01"])
def test_text_that_is_not_a_date_says_how_to_type_one(typed: str) -> None:
    """Impossible or unreadable text is refused with a sentence naming the format."""
    with pytest.raises(DateTextError, match="dd/mm/yyyy|calendar"):
        parse_date_text(typed, TODAY)


def _date_editor(qtbot: Any, window: Any) -> tuple[Any, Any]:
    editor = open_new_visit(qtbot, window)
    question = editor.rows["next_date"].editor
    editor.scroll.ensureWidgetVisible(question)
    return editor, question


def _type_and_enter(qtbot: Any, window: Any, editor: Any, question: Any, text: str) -> Any:
    """Type into the date box, press Enter; the stored answer once saved."""
    question.edit.setFocus()
    question.edit.selectAll()
    qtbot.keyClicks(question.edit, text)
    with qtbot.waitSignal(editor.sig_saved, timeout=10000):
        qtbot.keyClick(question.edit, Qt.Key.Key_Return)
    wait_idle(qtbot, window.ctx.tasks)
    return window.ctx.store.visit(editor.visit.id).answers.get("next_date")


def test_a_typed_date_and_today_are_saved_as_dates(qtbot: Any, window: Any) -> None:
    """Typing 5/3/2026 then Enter saves 2026-03-05 and shows 05/03/2026; "today" becomes today's date."""
    editor, question = _date_editor(qtbot, window)
    assert _type_and_enter(qtbot, window, editor, question, "5/3/2026") == "2026-03-05"
    assert question.edit.text() == "05/03/2026"
    assert _type_and_enter(qtbot, window, editor, question, "today") == date.today().isoformat()
    assert question.edit.text() == date.today().strftime("%d/%m/%Y")


def test_a_wrong_date_is_kept_as_typed_and_explained(qtbot: Any, window: Any, artifacts: Path) -> None:
    """31/02/2026 stays in the box and in the store as typed, with a message saying what to do."""
    editor, question = _date_editor(qtbot, window)
    assert _type_and_enter(qtbot, window, editor, question, "31/02/2026") == "31/02/2026"
    assert question.edit.text() == "31/02/2026"
    problem = editor.rows["next_date"].problem
    qtbot.waitUntil(problem.isVisible)
    assert "check the day and month" in problem.text() and "YYYY" not in problem.text()
    for width, height, name in ((1280, 720, "1280x720"), (911, 512, "1366x768_at_150")):  # 150 %: logical pixels
        window.resize(width, height)
        editor.scroll.ensureWidgetVisible(question)
        screenshot(window, artifacts / f"ui_date_typed_wrong_{name}.png")


def test_an_empty_date_stays_empty_and_the_calendar_opens_on_today(qtbot: Any, window: Any, artifacts: Path) -> None:
    """Keys, wheel and an opened-then-closed calendar give an unanswered date no value; the calendar shows today."""
    editor, question = _date_editor(qtbot, window)
    question.edit.setFocus()
    for key in (Qt.Key.Key_Up, Qt.Key.Key_Down, Qt.Key.Key_PageUp, Qt.Key.Key_Tab):
        qtbot.keyClick(QApplication.focusWidget(), key)
    qtbot.mouseClick(question.pick, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: QApplication.activePopupWidget() is question.calendar)
    today = QDate.currentDate()
    assert question.calendar.selectedDate() == today
    assert (question.calendar.yearShown(), question.calendar.monthShown()) == (today.year(), today.month())
    window.resize(1280, 720)
    screenshot(question.calendar, artifacts / "ui_date_calendar_open.png")
    qtbot.keyClick(question.calendar.focusWidget() or question.calendar, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not question.calendar.isVisible())
    assert question.edit.text() == "" and question.value() is None
    editor.flush()
    wait_idle(qtbot, window.ctx.tasks)
    assert "next_date" not in window.ctx.store.visit(editor.visit.id).answers


def test_a_date_picked_in_the_calendar_is_saved(qtbot: Any, window: Any) -> None:
    """Enter on a day of the calendar (moved by arrow keys) chooses it, closes the calendar and saves it."""
    editor, question = _date_editor(qtbot, window)
    qtbot.mouseClick(question.pick, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: QApplication.activePopupWidget() is question.calendar)
    table = question.calendar.focusWidget() or question.calendar
    qtbot.keyClick(table, Qt.Key.Key_Right)
    with qtbot.waitSignal(editor.sig_saved, timeout=10000):
        qtbot.keyClick(table, Qt.Key.Key_Return)
    tomorrow = QDate.currentDate().addDays(1)
    assert not question.calendar.isVisible()
    assert question.edit.text() == tomorrow.toString("dd/MM/yyyy")
    wait_idle(qtbot, window.ctx.tasks)
    assert window.ctx.store.visit(editor.visit.id).answers["next_date"] == tomorrow.toString("yyyy-MM-dd")
