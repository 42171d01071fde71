"""A date question the officer can type (dd/mm/yyyy or "today") or pick from a calendar that opens on today.

Replaces a spin-box date edit whose "not answered" was the date 1 January 1900: its
calendar opened in 1900, and a stray arrow key or wheel turn gave an unanswered
question a date nobody chose. Here an empty date is an empty box and stays empty
until the officer types or picks one (the first rule); a text box takes no wheel.
What they type is kept as typed while it is not a date yet, and the store reports it
beside the question (as a number question does), so nothing typed is lost.
"""

from __future__ import annotations

import re
from datetime import date

from PySide6.QtCore import QDate, QPoint, QSize, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QCalendarWidget,
    QHBoxLayout,
    QLineEdit,
    QTableView,
    QToolButton,
    QWidget,
)

from fieldapp.types import Question
from ui.questions import Answer, QuestionWidget

#: How dates are shown and typed (the council's own, British order).
DISPLAY_FORMAT = "%d/%m/%Y"
_TYPED = re.compile(r"(\d{1,2})[/.\- ](\d{1,2})[/.\- ](\d{4})")
_ISO = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
WORDS_FOR_TODAY = frozenset({"today"})


class DateTextError(ValueError):
    """Typed text that is not a date; the message says how to type one."""


def parse_date_text(text: str, today: date) -> date | None:
    """The date the officer typed (dd/mm/yyyy, d/m/yyyy, yyyy-mm-dd, "today"); None for an empty box."""
    cleaned = text.strip().lower()
    if not cleaned:
        return None
    if cleaned in WORDS_FOR_TODAY:
        return today
    typed, iso = _TYPED.fullmatch(cleaned), _ISO.fullmatch(cleaned)
    if typed is None and iso is None:
        raise DateTextError("Type the date as dd/mm/yyyy (for example 05/03/2026), or \"today\".")
    parts = typed.groups() if typed is not None else tuple(reversed(iso.groups())) if iso is not None else ()
    day, month, year = (int(g) for g in parts)
    try:
        return date(year, month, day)
    except ValueError:
        raise DateTextError(f"There is no {day:02d}/{month:02d}/{year} in the calendar: check the day and month.") from None


def shown_date(value: Answer) -> str:
    """A stored answer as the box shows it: an ISO date as dd/mm/yyyy, anything else as it was typed."""
    if isinstance(value, str) and _ISO.fullmatch(value):
        try:
            return date.fromisoformat(value).strftime(DISPLAY_FORMAT)
        except ValueError:
            return value
    return "" if value is None else str(value)


class CalendarPopup(QCalendarWidget):
    """The calendar as a popup under its button; Esc closes it without choosing."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setWindowFlags(Qt.WindowType.Popup)
        self.setGridVisible(True)
        self.setFirstDayOfWeek(Qt.DayOfWeek.Monday)

    def shortfall(self) -> QSize:
        """How much more room the weeks need than the size hint gave them.

        The stylesheet's header padding makes each week's row taller than the widget's own
        size hint allows for: sized by the hint alone, the last week was cut off.
        """
        view = self.findChild(QTableView)
        if view is None:
            return QSize(0, 0)
        return QSize(max(0, view.horizontalHeader().length() - view.viewport().width()),
                     max(0, view.verticalHeader().length() - view.viewport().height()))

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape:
            self.close()
            return
        super().keyPressEvent(event)


class DateAnswerWidget(QuestionWidget):
    """A date typed as dd/mm/yyyy or "today", a calendar that opens on today, Today and Clear."""

    def __init__(self, question: Question, parent: QWidget | None = None) -> None:
        super().__init__(question, parent)
        self.edit = QLineEdit()
        self.edit.setPlaceholderText("dd/mm/yyyy, or today")
        self.edit.setMaxLength(40)
        self.edit.setAccessibleName(question.label)
        self.edit.setMinimumWidth(self.fontMetrics().horizontalAdvance("dd/mm/yyyy, or today") + 24)
        self.pick = QToolButton()
        self.pick.setText("Calendar…")
        self.pick.setToolTip("Choose the date from a calendar (opens on today, or on the date given)")
        self.pick.clicked.connect(self.open_calendar)
        self.today = QToolButton()
        self.today.setText("Today")
        self.today.clicked.connect(lambda: self._choose(date.today()))
        self.clear = QToolButton()
        self.clear.setText("Clear")
        self.clear.clicked.connect(self._on_clear_clicked)
        # Made on first use: most date questions are typed, and a form of many dates stays light.
        self.calendar: CalendarPopup | None = None
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        for child in (self.edit, self.pick, self.today, self.clear):
            row.addWidget(child)
        row.addStretch(1)
        self.setLayout(row)
        self.setFocusProxy(self.edit)
        self.edit.textEdited.connect(self._on_typed)
        self.edit.editingFinished.connect(self._on_editing_finished)

    def typed_date(self) -> date | None:
        """The date in the box; DateTextError when the text is not one."""
        return parse_date_text(self.edit.text(), date.today())

    def value(self) -> Answer:
        try:
            chosen = self.typed_date()
        except DateTextError:
            return self.edit.text()  # kept as typed; the store says what is wrong with it
        return None if chosen is None else chosen.isoformat()

    def _show(self, value: Answer) -> None:
        self.edit.setText(shown_date(value))

    def explain(self, message: str) -> str:
        """The store asks for YYYY-MM-DD (the protocol's form); the officer types dd/mm/yyyy, so say that."""
        try:
            self.typed_date()
        except DateTextError as error:
            return str(error)
        return message

    def set_read_only(self, read_only: bool) -> None:
        self.edit.setReadOnly(read_only)
        for button in (self.pick, self.today, self.clear):
            button.setEnabled(not read_only)

    def open_calendar(self) -> None:
        """Show the calendar under the box, on the date given or else today (never 1900)."""
        try:
            current = self.typed_date()
        except DateTextError:
            current = None
        shown = current or date.today()
        if self.calendar is None:
            self.calendar = CalendarPopup(self)
            self.calendar.clicked.connect(self._on_calendar_chosen)
            self.calendar.activated.connect(self._on_calendar_chosen)
        self.calendar.setSelectedDate(QDate(shown.year, shown.month, shown.day))
        self.calendar.show()
        self.calendar.move(self._calendar_place())
        self.calendar.setFocus(Qt.FocusReason.PopupFocusReason)

    def _calendar_place(self) -> QPoint:
        """Under the box, or above it when the screen's bottom is near; never past the screen's edges."""
        assert self.calendar is not None
        self.calendar.resize(self.calendar.sizeHint())
        self.calendar.resize(self.calendar.size() + self.calendar.shortfall())
        below = self.edit.mapToGlobal(QPoint(0, self.edit.height()))
        screen = self.screen().availableGeometry()
        size = self.calendar.size()
        y = below.y() if below.y() + size.height() <= screen.bottom() else below.y() - self.edit.height() - size.height()
        x = min(below.x(), screen.right() - size.width())
        return QPoint(max(screen.left(), x), max(screen.top(), y))

    def _on_calendar_chosen(self, chosen: QDate) -> None:
        if self.calendar is not None:
            self.calendar.close()
        self._choose(date(chosen.year(), chosen.month(), chosen.day()))
        self.edit.setFocus(Qt.FocusReason.OtherFocusReason)

    def _choose(self, chosen: date) -> None:
        self.edit.setText(chosen.strftime(DISPLAY_FORMAT))
        self._emit()

    def _on_clear_clicked(self) -> None:
        self.edit.clear()
        self._emit()

    def _on_typed(self, _text: str) -> None:
        if not self._setting:
            self.sig_typing.emit()

    def _on_editing_finished(self) -> None:
        """Enter or leaving the box: "today" and 5/3/2026 are written out in full, and saved."""
        try:
            chosen = self.typed_date()
        except DateTextError:
            chosen = None
        if chosen is not None and self.edit.text() != chosen.strftime(DISPLAY_FORMAT):
            self.edit.setText(chosen.strftime(DISPLAY_FORMAT))
        self._emit()
