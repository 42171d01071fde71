"""Does a window fit? Every visible button, input and label of it is reachable and not clipped.

`misfits(window)` walks the shown widgets of a window or dialog and returns one sentence
per fault: a control cut by the window's edge or by a parent too small for it, a control
only reachable by scrolling sideways, a toolbar action pushed into the overflow menu, a
button or label whose text does not fit it, a combo box that clips its chosen text.
Vertical scrolling is allowed (long forms scroll); needing to scroll sideways is not.
"""

from __future__ import annotations

from PySide6.QtCore import QRect, Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractScrollArea,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QSlider,
    QStyle,
    QStyleOptionComboBox,
    QTextEdit,
    QToolBar,
    QWidget,
)

from ui.widgets import ElidedLabel

#: The logical size of the window at each target screen: 1366x768 at 150% scaling is a
#: 911x512 logical screen (less a taskbar: 480 high), and 1280x720 at 100% (less a taskbar).
SIZES = {"1366x768@150": (911, 480), "1280x720": (1280, 690)}

CONTROLS = (QAbstractButton, QLineEdit, QComboBox, QAbstractSpinBox, QTextEdit, QPlainTextEdit, QSlider, QLabel)


def _name(widget: QWidget) -> str:
    text = ""
    for getter in ("text", "currentText", "placeholderText", "accessibleName", "toolTip"):
        value = getattr(widget, getter, None)
        if callable(value):
            text = str(value() or "")
        if text:
            break
    return f"{type(widget).__name__} {text[:50]!r}"


def _rect_in(widget: QWidget, ancestor: QWidget) -> QRect:
    return QRect(widget.mapTo(ancestor, widget.rect().topLeft()), widget.size())


def _scroll_area_of(viewport: QWidget) -> QAbstractScrollArea | None:
    parent = viewport.parentWidget()
    if isinstance(parent, QAbstractScrollArea) and parent.viewport() is viewport:
        return parent
    return None


def _clipping(widget: QWidget, window: QWidget) -> str | None:
    """Why part of ``widget`` cannot be seen (None when all of it can, vertical scrolling allowed)."""
    visible = _rect_in(widget, window)
    rect, expected = QRect(visible), visible.size()
    ancestor = widget.parentWidget()
    while ancestor is not None and ancestor is not window:
        area = _scroll_area_of(ancestor)
        bounds = _rect_in(ancestor, window)
        if area is not None:
            # Long content may scroll vertically: scrolled to, it shows at the top of the viewport,
            # and what is taller than the viewport (a letter's page) is read by scrolling through it.
            rect = QRect(rect.left(), bounds.top(), rect.width(), min(rect.height(), bounds.height()))
            expected.setHeight(min(expected.height(), bounds.height()))
        rect = rect.intersected(bounds)
        ancestor = ancestor.parentWidget()
    rect = rect.intersected(QRect(0, 0, window.width(), window.height()))
    if rect.size() != expected:
        return (f"cut to {rect.width()}x{rect.height()} of {visible.width()}x{visible.height()} "
                f"at ({visible.x()},{visible.y()}) in a {window.width()}x{window.height()} window")
    return None


def _text_cut(widget: QWidget) -> str | None:
    """Why the widget's own text does not fit it (None when it does)."""
    if isinstance(widget, QComboBox) and not widget.isEditable() and widget.currentText():
        option = QStyleOptionComboBox()
        widget.initStyleOption(option)
        field = widget.style().subControlRect(QStyle.ComplexControl.CC_ComboBox, option,
                                              QStyle.SubControl.SC_ComboBoxEditField, widget)
        icon = widget.iconSize().width() + 4 if not widget.itemIcon(widget.currentIndex()).isNull() else 0
        need = widget.fontMetrics().horizontalAdvance(widget.currentText()) + icon
        if need > field.width():
            return f"shows {field.width()} px of its {need} px text"
    elif isinstance(widget, QAbstractButton) and widget.text():
        hint = widget.sizeHint()
        if hint.width() > widget.width() or hint.height() > widget.height() + 2:
            return f"is {widget.width()}x{widget.height()}, its text needs {hint.width()}x{hint.height()}"
    elif isinstance(widget, QLabel) and widget.text() and widget.pixmap().isNull() and not isinstance(widget, ElidedLabel):
        if widget.wordWrap():
            need = widget.heightForWidth(widget.width())
            if need > widget.height() + 2:
                return f"is {widget.height()} px high, its wrapped text needs {need}"
        elif widget.sizeHint().width() > widget.width() + 1:
            return f"is {widget.width()} px wide, its text needs {widget.sizeHint().width()}"
    return None


def _toolbar_faults(bar: QToolBar) -> list[str]:
    faults = []
    for action in bar.actions():
        if not action.isVisible() or action.isSeparator():
            continue
        button = bar.widgetForAction(action)
        if button is not None and not button.isVisible():
            faults.append(f"toolbar {bar.windowTitle()!r}: {action.text()!r} is pushed off into the overflow menu")
    return faults


def misfits(window: QWidget) -> list[str]:
    """Every fault of fit of a shown window or dialog, one readable line each (empty when it fits)."""
    QApplication.sendPostedEvents()
    QApplication.processEvents()
    faults: list[str] = []
    for bar in window.findChildren(QToolBar):
        if bar.isVisible():
            faults.extend(_toolbar_faults(bar))
    for area in window.findChildren(QAbstractScrollArea):
        if area.isVisible() and area.window() is window and area.horizontalScrollBar().maximum() > 0:
            faults.append(f"{_name(area)}: its content needs a sideways scroll "
                          f"(scroll range {area.horizontalScrollBar().maximum()})")
        if area.isVisible() and area.window() is window and area.verticalScrollBar().maximum() > 0 \
                and area.verticalScrollBarPolicy() == Qt.ScrollBarPolicy.ScrollBarAlwaysOff:
            faults.append(f"{_name(area)}: its content is cut at the bottom, with no scroll bar to reach it")
    for widget in window.findChildren(QWidget):
        if not isinstance(widget, CONTROLS) or not widget.isVisible() or widget.window() is not window:
            continue
        if widget.objectName().startswith("qt_") or widget.width() == 0 and isinstance(widget, QLabel):
            continue  # Qt's own internals (toolbar overflow button, spin box line edits)
        if isinstance(widget, QLabel) and not widget.text() and widget.pixmap().isNull():
            continue  # an empty label shows nothing to miss
        for fault in (_clipping(widget, window), _text_cut(widget)):
            if fault:
                faults.append(f"{_name(widget)}: {fault}")
    return faults


def assert_fits(window: QWidget) -> None:
    """Fail with every fault of fit at once."""
    faults = misfits(window)
    assert not faults, f"{type(window).__name__} does not fit its {window.width()}x{window.height()} window:\n  " \
        + "\n  ".join(faults)


def in_view(widget: QWidget, window: QWidget) -> bool:
    """Whether the widget is shown wholly inside the window's visible area with no scrolling at all."""
    if not widget.isVisible():
        return False
    rect = _rect_in(widget, window)
    ancestor = widget.parentWidget()
    while ancestor is not None and ancestor is not window:
        rect = rect.intersected(_rect_in(ancestor, window))
        ancestor = ancestor.parentWidget()
    return rect == _rect_in(widget, window) and QRect(0, 0, window.width(), window.height()).contains(rect)
