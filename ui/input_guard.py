"""One application-wide guard so that no recorded value changes without the officer meaning it.

Installed once on the QApplication (`install`), it watches every widget of the app,
including ones built later by any screen:

* The mouse wheel over a combo box, spin box, date edit or slider the officer has not
  focused on purpose (by click, Tab or a label's shortcut) scrolls the form around it
  instead of changing the value. Qt's default lets a wheel pass over a form change
  answers that were never touched. Such widgets get `Qt.StrongFocus`, so the wheel never
  focuses them, and focus the app gives them itself (a new hazard row, a jump to a
  missing answer) does not count as the officer's; nor does the focus a combo gets
  back when its list closes, so choosing from a list and then scrolling the form (the
  commonest way answers changed) leaves the choice alone.
* The wheel over a list or text box inside a scrolled page (the assessment's hazard list,
  a question's text) scrolls the page, unless the officer focused that list or box on
  purpose: a page scrolled past it was taken over by the list the pointer crossed. Its
  own scroll bar still scrolls it, and so does the wheel where the page cannot scroll.
* While a popup is open (a combo box's list, a date picker's calendar), its keys belong
  to it: Esc closes the popup, never the screen behind it (whose Esc shortcut would
  otherwise win, as a popup's parent chain counts as "inside" the screen).
* A popup whose owner disappears (the screen changed, a row was removed) is closed,
  so it never floats over another screen.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import (
    QAbstractScrollArea,
    QAbstractSlider,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QScrollBar,
    QWidget,
)

#: Focus the officer gave by their own action; only then does the wheel change a value.
PURPOSEFUL_FOCUS = (Qt.FocusReason.MouseFocusReason, Qt.FocusReason.TabFocusReason,
                    Qt.FocusReason.BacktabFocusReason, Qt.FocusReason.ShortcutFocusReason)
_ARMED = "wheelArmed"   # dynamic property: focused on purpose, until focus leaves

#: Widgets whose value a wheel turn changes. A scroll bar only scrolls, so it keeps the wheel.
VALUE_WIDGETS = (QComboBox, QAbstractSpinBox, QAbstractSlider)


def takes_wheel_only_when_focused(widget: QObject) -> bool:
    """True for an input whose value the wheel would change (combo, spin/date box, slider)."""
    return isinstance(widget, VALUE_WIDGETS) and not isinstance(widget, QScrollBar)


def no_wheel_focus(widget: QObject) -> None:
    """Let a value input take focus by click or Tab only, never by a wheel turn passing over it."""
    if takes_wheel_only_when_focused(widget):
        assert isinstance(widget, QWidget)
        if widget.focusPolicy() == Qt.FocusPolicy.WheelFocus:
            widget.setFocusPolicy(Qt.FocusPolicy.StrongFocus)


def focused_on_purpose(widget: QWidget) -> bool:
    """True while the officer's click or Tab focus is on the widget or inside it (a date edit's text)."""
    focus = QApplication.focusWidget()
    inside = focus is not None and (focus is widget or widget.isAncestorOf(focus))
    return inside and bool(widget.property(_ARMED))


def scroll_instead(widget: QWidget, event: QWheelEvent) -> None:
    """Give the wheel to the nearest scroll area around ``widget`` that can still scroll that way."""
    parent = widget.parentWidget()
    while parent is not None:
        if isinstance(parent, QAbstractScrollArea):
            viewport = parent.viewport()
            local = viewport.mapFromGlobal(event.globalPosition())
            forwarded = QWheelEvent(local, event.globalPosition(), event.pixelDelta(), event.angleDelta(),
                                    event.buttons(), event.modifiers(), event.phase(), event.inverted(),
                                    event.source(), event.pointingDevice())
            QApplication.sendEvent(viewport, forwarded)
            if forwarded.isAccepted():
                return
        if parent.isWindow():
            return
        parent = parent.parentWidget()


def inner_area(viewport: QObject) -> QAbstractScrollArea | None:
    """The list or text box whose viewport this is, when it sits inside a page that scrolls (else None)."""
    if not isinstance(viewport, QWidget):
        return None
    area = viewport.parentWidget()
    if not isinstance(area, QAbstractScrollArea) or area.viewport() is not viewport:
        return None
    parent = area.parentWidget()
    while parent is not None and not parent.isWindow():
        if isinstance(parent, QAbstractScrollArea) and parent.verticalScrollBar().maximum() > 0:
            return area
        parent = parent.parentWidget()
    return None


def popup_owner(popup: QWidget) -> QWidget | None:
    """The widget a popup belongs to: its parent (combo, date edit) or, for a completer, its focus proxy."""
    return popup.parentWidget() or popup.focusProxy()


class InputGuard(QObject):
    """The application event filter described in the module docstring."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt name)
        kind = event.type()
        if kind == QEvent.Type.Wheel:
            return self._on_wheel(watched, event)  # type: ignore[arg-type]
        if kind == QEvent.Type.Polish:
            no_wheel_focus(watched)
        elif kind in (QEvent.Type.FocusIn, QEvent.Type.FocusOut) and (
                takes_wheel_only_when_focused(watched) or isinstance(watched, QAbstractScrollArea)):
            armed = kind == QEvent.Type.FocusIn and event.reason() in PURPOSEFUL_FOCUS  # type: ignore[attr-defined]
            watched.setProperty(_ARMED, armed)
        elif kind == QEvent.Type.ShortcutOverride:
            # Accepting the override sends the key to the popup as an ordinary key press.
            if QApplication.activePopupWidget() is not None:
                event.accept()
                return True
        elif kind == QEvent.Type.Hide:
            close_orphaned_popups()
        return False

    def _on_wheel(self, watched: QObject, event: QWheelEvent) -> bool:
        area = inner_area(watched)
        upright = abs(event.angleDelta().y()) >= abs(event.angleDelta().x())   # the page scrolls only up and down
        if area is not None and upright:
            if focused_on_purpose(area):
                return False
            scroll_instead(area, event)
            event.accept()   # the page is at its end: the list under the pointer stays as it is
            return True
        if not takes_wheel_only_when_focused(watched):
            return False
        assert isinstance(watched, QWidget)
        no_wheel_focus(watched)   # in case it was polished before the guard was installed
        if focused_on_purpose(watched) or QApplication.activePopupWidget() is not None:
            return False
        scroll_instead(watched, event)
        event.accept()   # handled here: Qt must not also pass it on to the parents
        return True


def close_orphaned_popups() -> None:
    """Close every open popup whose owner is no longer on screen."""
    popup = QApplication.activePopupWidget()
    while popup is not None:
        owner = popup_owner(popup)
        if owner is None or owner.isVisible():
            return
        popup.close()
        following = QApplication.activePopupWidget()
        if following is popup:   # it refused to close; never loop
            return
        popup = following


def install(app: QApplication) -> InputGuard:
    """Install the guard on ``app`` once (later calls return the same guard)."""
    guard = app.findChild(InputGuard, "inputGuard")
    if guard is None:
        guard = InputGuard(app)
        guard.setObjectName("inputGuard")
        app.installEventFilter(guard)
        for widget in app.allWidgets():   # those made before the guard (tests, a smoke run)
            no_wheel_focus(widget)
    return guard
