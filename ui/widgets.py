"""Small widget helpers shared by the screens."""

from __future__ import annotations

from collections.abc import Collection

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QPainter, QPaintEvent
from PySide6.QtWidgets import QLabel, QLayout, QListWidget, QSizePolicy, QWidget


def wrapping_label(text: str, object_name: str | None = None) -> QLabel:
    """A label that wraps and can be selected (addresses and warnings get copied)."""
    widget = QLabel(text)
    widget.setWordWrap(True)
    widget.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    if object_name:
        widget.setObjectName(object_name)
    return widget


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


def clear_layout(layout: QLayout) -> None:
    """Remove and delete every item of a layout (nested layouts included)."""
    while layout.count():
        item = layout.takeAt(0)
        widget: QWidget | None = item.widget()
        if widget is not None:
            widget.deleteLater()
        elif item.layout() is not None:
            clear_layout(item.layout())


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
