"""Small widget helpers shared by the screens."""

from __future__ import annotations

from collections.abc import Collection

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QLayout, QListWidget, QWidget


def wrapping_label(text: str, object_name: str | None = None) -> QLabel:
    """A label that wraps and can be selected (addresses and warnings get copied)."""
    widget = QLabel(text)
    widget.setWordWrap(True)
    widget.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    if object_name:
        widget.setObjectName(object_name)
    return widget


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
