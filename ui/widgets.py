"""Small widget helpers shared by the screens."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence

import shiboken6
from PySide6.QtCore import QAbstractItemModel, QEvent, QObject, QSize, Qt
from PySide6.QtGui import QPainter, QPaintEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QLayout,
    QListWidget,
    QPushButton,
    QSizePolicy,
    QTableView,
    QWidget,
)


def wrapping_label(text: str, object_name: str | None = None) -> QLabel:
    """A label that wraps and can be selected (addresses and warnings get copied)."""
    widget = QLabel(text)
    _wrap(widget)
    if object_name:
        widget.setObjectName(object_name)
    return widget


def _wrap(widget: QLabel) -> None:
    widget.setWordWrap(True)
    widget.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)


class ProblemLabel(QLabel):
    """A screen's or a field's problem line (``QLabel#problem``): hidden until it has something to `say`."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        _wrap(self)
        self.setObjectName("problem")
        self.hide()

    def say(self, text: str | None) -> None:
        """Show ``text``; none (``None`` or empty) hides the line, as ``hide()`` does."""
        self.setText(text or "")
        self.setVisible(bool(text))

    def warn(self, message: str | None) -> None:
        """A field's problem, marked ⚠ beside the field; none hides it."""
        self.say(f"⚠ {message}" if message else None)


class ElidedLabel(QLabel):
    """A one-line label that shrinks to a few letters with "…" where space is short; the tooltip keeps all of it.

    A plain label's minimum width is its whole text, so on a small screen (1366x768 at
    150 %) a long status or user name pushed everything beside it off the window.
    """

    def __init__(self, text: str = "", parent: QWidget | None = None, *, min_chars: int = 8) -> None:
        super().__init__(text, parent)
        self._min_chars = min_chars
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        self.setText(text)

    def setText(self, text: str) -> None:
        super().setText(text)
        self.setToolTip(text)

    def minimumSizeHint(self) -> QSize:
        hint = super().minimumSizeHint()
        width = self.fontMetrics().averageCharWidth() * self._min_chars
        return QSize(min(hint.width(), width + self.contentsMargins().left() + self.contentsMargins().right()),
                     hint.height())

    def is_elided(self) -> bool:
        """Whether the whole text does not fit (the tooltip then tells it)."""
        return self.fontMetrics().horizontalAdvance(self.text()) > self.contentsRect().width()

    def paintEvent(self, _event: QPaintEvent) -> None:
        painter = QPainter(self)
        rect = self.contentsRect()
        text = self.fontMetrics().elidedText(self.text(), Qt.TextElideMode.ElideRight, rect.width())
        self.style().drawItemText(painter, rect, int(self.alignment()), self.palette(), self.isEnabled(), text,
                                  self.foregroundRole())


def action_buttons(dialog: QDialog, action: str,
                   on_action: Callable[[], None] | None = None) -> tuple[QDialogButtonBox, QPushButton]:
    """A dialog's Cancel and its one primary action button (named ``action``): the buttons and the action's button.

    Cancel (and Escape) rejects the dialog; the action calls ``on_action``, or accepts the dialog.
    """
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
    button = buttons.addButton(action, QDialogButtonBox.ButtonRole.AcceptRole)
    button.setProperty("primary", True)
    buttons.accepted.connect(on_action or dialog.accept)
    buttons.rejected.connect(dialog.reject)
    return buttons, button


def row_table(model: QAbstractItemModel, name: str, *, alternating: bool = True) -> QTableView:
    """A list of records as the app shows one: read-only, one whole row selected at a time, no row numbers.

    Cells never wrap (a row stays one line; what does not fit is elided). ``name`` is what a
    screen reader calls the table.
    """
    table = QTableView()
    table.setModel(model)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setAlternatingRowColors(alternating)
    table.setWordWrap(False)
    table.verticalHeader().hide()
    table.setAccessibleName(name)
    return table


class ColumnFitter(QObject):
    """Keeps a table's columns to its width, most useful first, so it never needs a sideways scroll.

    On a small screen (1366x768 at 150 %) the last columns in ``by_use`` are left out (the
    page beside or behind the table shows the whole record), and the right-most column shown
    takes what is left. ``chars`` are each column's width in average characters (the font's,
    so scaling keeps them readable). The officer may still drag a column wider.
    """

    def __init__(self, table: QTableView, chars: Sequence[int], by_use: Sequence[int]) -> None:
        super().__init__(table)
        self._table, self._by_use = table, tuple(by_use)
        header = table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        width = table.fontMetrics().averageCharWidth()
        self._widths = [count * width + 16 for count in chars]
        self._least = width * 12   # a column narrower than this says nothing
        for column, pixels in enumerate(self._widths):
            table.setColumnWidth(column, pixels)
        self._viewport = table.viewport()
        self._viewport.installEventFilter(self)   # its width, less the scroll bar, is the room

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        # A table being destroyed still resizes its viewport: nothing to fit then.
        if event.type() == QEvent.Type.Resize and watched is self._viewport and shiboken6.isValid(self._table):
            self.fit()
        return super().eventFilter(watched, event)

    def fit(self) -> None:
        """Show the columns that fit the table's width now."""
        table, least = self._table, self._least
        room = table.viewport().width()
        used = 0
        for column in self._by_use:
            wanted = self._widths[column]
            shown = used == 0 or room - used >= min(wanted, least)
            table.setColumnHidden(column, not shown)
            if shown:
                table.setColumnWidth(column, max(least, min(wanted, room - used)))
                used += wanted
        # The right-most column shown takes what is left (stretching would only grow it, never shrink it).
        header = table.horizontalHeader()
        shown_columns = [c for c in self._by_use if not header.isSectionHidden(c)]
        end = max(shown_columns, key=header.visualIndex)
        others = sum(header.sectionSize(c) for c in shown_columns if c != end)
        table.setColumnWidth(end, max(room - others, least))


def clear_layout(layout: QLayout) -> None:
    """Remove and delete every item of a layout (nested layouts included)."""
    while layout.count():
        item = layout.takeAt(0)
        if item is None:  # only past the end, which count() rules out
            break
        widget: QWidget | None = item.widget()
        inner = item.layout()
        if widget is not None:
            widget.deleteLater()
        elif inner is not None:
            clear_layout(inner)


def repolish(widget: QWidget) -> None:
    """Re-apply the stylesheet after a dynamic property changed."""
    widget.style().unpolish(widget)
    widget.style().polish(widget)


def checked_values(widget: QListWidget) -> list[str]:
    """The data of every ticked item of a tick-box list, top to bottom (headings carry none)."""
    items = (widget.item(i) for i in range(widget.count()))
    return [item.data(Qt.ItemDataRole.UserRole) for item in items
            if item.checkState() == Qt.CheckState.Checked and item.data(Qt.ItemDataRole.UserRole)]


def tick_values(widget: QListWidget, chosen: Collection[str]) -> None:
    """Tick exactly the items of a tick-box list whose data is in ``chosen`` (headings left alone)."""
    for i in range(widget.count()):
        item = widget.item(i)
        value = item.data(Qt.ItemDataRole.UserRole)
        if value:
            item.setCheckState(Qt.CheckState.Checked if value in chosen else Qt.CheckState.Unchecked)
