"""The mouse wheel never changes an answer: over an unfocused input it scrolls the form instead."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import (
    QAbstractScrollArea,
    QAbstractSlider,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QScrollArea,
    QScrollBar,
    QSlider,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from factory import LEAD, wait_idle
from test_screens import _start_visit

# Widgets whose value the wheel would change (a scroll bar only scrolls).
VALUE_WIDGETS = (QComboBox, QAbstractSpinBox, QAbstractSlider)


def wheel(widget: QWidget, steps: int) -> None:
    """Turn the wheel ``steps`` notches over the middle of ``widget`` (negative = towards the officer = down)."""
    local = QPointF(widget.rect().center())
    event = QWheelEvent(local, QPointF(widget.mapToGlobal(local.toPoint())), QPoint(0, 0), QPoint(0, 120 * steps),
                        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(widget, event)


def value_widgets(root: QWidget) -> list[QWidget]:
    """Every combo box, spin box, date edit and slider under ``root``."""
    return [w for w in root.findChildren(QWidget) if isinstance(w, VALUE_WIDGETS) and not isinstance(w, QScrollBar)]


def shown_value(widget: QWidget) -> Any:
    """What the widget shows, to compare before and after the wheel."""
    if isinstance(widget, QComboBox):
        return widget.currentIndex()
    if isinstance(widget, QAbstractSpinBox):
        return widget.text()
    return widget.value()


def fill_every_kind(qtbot: Any, editor: Any) -> None:
    """Answer every question kind, add two hazard rows and choose the outcome."""
    rows = editor.rows
    rows["mould_seen"].editor.group.buttons()[0].click()
    rows["severity"].editor.combo.setCurrentIndex(2)
    rows["rooms"].editor.boxes[1].setChecked(True)
    rows["area"].editor.edit.setText("12")
    rows["area"].editor.edit.editingFinished.emit()
    rows["condition"].editor.group.buttons()[2].click()
    rows["next_date"].editor.today.click()
    hazard = rows["main_hazard"].editor
    hazard.hazard.setCurrentIndex(hazard.hazard.findData("Excess cold"))
    hazard.band.setCurrentIndex(hazard.band.findData("D"))
    rows["cause"].editor.edit.setPlainText("Condensation")
    rows["cause"].editor.edit.textChanged.emit()
    for name, band in (("Damp and mould growth", "C"), ("Fire", "E")):
        row = editor.hazards.add_row()
        row.hazard.setCurrentIndex(row.hazard.findData(name))
        row.band.setCurrentIndex(row.band.findData(band))
        row.location.setText("Back bedroom")
        row.location.editingFinished.emit()
    editor.outcome.setCurrentIndex(editor.outcome.findData("completed"))
    editor.flush()


def stored(store: Any, visit_id: str) -> tuple[Any, ...]:
    """Everything the officer recorded, as the store has it."""
    visit = store.visit(visit_id)
    return dict(visit.answers), visit.hazards, visit.outcome, visit.notes


def test_wheel_over_every_input_of_the_visit_scrolls_the_form_and_changes_nothing(qtbot: Any, window: Any) -> None:
    """Wheel up and down over every question kind, hazard field and the outcome: answers as they were, form scrolled."""
    window.resize(1280, 720)
    case_id = next(r.id for r in window.case_list.model.rows() if not r.has_warnings)
    _start_visit(qtbot, window, case_id)
    editor = window.editor
    fill_every_kind(qtbot, editor)
    wait_idle(qtbot, window.ctx.tasks)
    qtbot.waitUntil(lambda: not editor.dirty)
    before = stored(window.ctx.store, editor.visit.id)
    assert before[0]["main_hazard"] == {"hazard": "Excess cold", "band": "D"}
    targets = value_widgets(editor)
    kinds = {row.editor.question.kind for row in editor.rows.values() if value_widgets(row.editor)}
    assert kinds == {"choice", "hazard"}      # every kind that has a wheel-able input (a date is typed: ui/date_input)
    assert len([w for w in targets if any(w in (r.hazard, r.band) for r in editor.hazards.rows)]) == 4
    bar = editor.scroll.verticalScrollBar()
    assert bar.maximum() > 0
    shown = {id(w): shown_value(w) for w in targets}
    for widget in targets:
        bar.setValue(0)
        wheel(widget, -1)
        assert bar.value() > 0, f"the form did not scroll over {widget.accessibleName() or type(widget).__name__}"
        bar.setValue(bar.maximum())
        wheel(widget, 1)
        assert bar.value() < bar.maximum()
        wheel(widget, -3)
        assert shown_value(widget) == shown[id(widget)], widget.accessibleName() or type(widget).__name__
    wait_idle(qtbot, window.ctx.tasks)
    assert not editor.dirty
    assert stored(window.ctx.store, editor.visit.id) == before


def test_wheel_over_inputs_on_every_other_screen_changes_nothing(qtbot: Any, window: Any) -> None:
    """The case list's and review queue's filters and every other combo or spin box of the window ignore the wheel."""
    window.set_user(LEAD)            # builds the lead's Review page too
    assert window.review is not None
    window.show_review()
    targets = value_widgets(window)
    assert window.case_list.status_filter in targets and window.review.queue.officer_combo in targets
    shown = {id(w): shown_value(w) for w in targets}
    for widget in targets:
        wheel(widget, -1)
    assert {id(w): shown_value(w) for w in targets} == shown


def test_an_input_the_officer_focused_takes_the_wheel(qtbot: Any, window: Any) -> None:
    """After a click or Tab onto a combo box the wheel does change it (on purpose), and the wheel alone never focuses it."""
    case_id = next(r.id for r in window.case_list.model.rows() if not r.has_warnings)
    _start_visit(qtbot, window, case_id)
    combo = window.editor.rows["severity"].editor.combo
    assert not combo.focusPolicy() & Qt.FocusPolicy.WheelFocus == Qt.FocusPolicy.WheelFocus
    combo.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.waitUntil(combo.hasFocus)
    wheel(combo, -1)
    assert combo.currentIndex() == 1


def test_guard_covers_widgets_made_later_and_sliders(qtbot: Any, window: Any) -> None:
    """A spin box and slider added after start, inside a scroll area, ignore the wheel until focused."""
    area = QScrollArea()
    content = QWidget()
    layout = QVBoxLayout(content)
    spin, slider = QSpinBox(), QSlider(Qt.Orientation.Horizontal)
    spin.setValue(5)
    slider.setValue(5)
    layout.addWidget(spin)
    layout.addWidget(slider)
    layout.addSpacing(2000)
    area.setWidget(content)
    area.setWidgetResizable(True)
    area.resize(300, 200)
    qtbot.addWidget(area)
    area.show()
    qtbot.waitExposed(area)
    for widget in (spin, slider):
        wheel(widget, -1)
        assert widget.value() == 5
    assert area.verticalScrollBar().value() > 0


def test_focus_the_app_gave_does_not_arm_the_wheel(qtbot: Any, window: Any) -> None:
    """A new hazard row's combo has the focus for typing, yet the wheel over it scrolls instead of changing it."""
    case_id = next(r.id for r in window.case_list.model.rows() if not r.has_warnings)
    _start_visit(qtbot, window, case_id)
    row = window.editor.hazards.add_row()
    qtbot.waitUntil(row.hazard.hasFocus)
    wheel(row.hazard, -1)
    assert row.hazard.currentIndex() == 0


def test_choosing_from_a_list_then_scrolling_leaves_the_choice(qtbot: Any, window: Any) -> None:
    """Clicked, list opened and closed: the combo keeps the focus, but the wheel over it scrolls the form."""
    case_id = next(r.id for r in window.case_list.model.rows() if not r.has_warnings)
    _start_visit(qtbot, window, case_id)
    combo = window.editor.rows["severity"].editor.combo
    combo.setFocus(Qt.FocusReason.MouseFocusReason)
    combo.showPopup()
    qtbot.waitUntil(lambda: QApplication.activePopupWidget() is not None)
    combo.setCurrentIndex(2)
    combo.hidePopup()
    qtbot.waitUntil(lambda: QApplication.activePopupWidget() is None)
    wheel(combo, -1)
    assert combo.currentIndex() == 2


def test_wheel_over_the_hazard_list_scrolls_the_page_not_the_list(qtbot: Any, window: Any, artifacts: Path) -> None:
    """Scrolling the form past the assessment's hazard list (or any list or text box in it) moves the form, not the list."""
    from fit import SIZES

    from factory import screenshot

    window.resize(*SIZES["1366x768@150"])
    case_id = next(r.id for r in window.case_list.model.rows() if not r.has_warnings)
    _start_visit(qtbot, window, case_id)
    editor = window.editor
    hazards = editor.assessment.hazards.list
    editor.scroll.ensureWidgetVisible(hazards)
    assert hazards.count() > 20
    qtbot.waitUntil(lambda: hazards.verticalScrollBar().maximum() > 0)   # long enough to scroll (laid out lazily)
    page = editor.scroll.verticalScrollBar()
    inner = [a for a in editor.scroll.widget().findChildren(QAbstractScrollArea) if a.isVisible()]
    assert hazards in inner and editor.notes in inner
    for area in inner:
        editor.scroll.ensureWidgetVisible(area)
        page_before = page.value()
        wheel(area.viewport(), -1 if page_before < page.maximum() else 1)
        assert page.value() != page_before, f"the page did not scroll over {area.accessibleName()}"
        assert area.verticalScrollBar().value() == 0, f"{area.accessibleName()} scrolled instead of the page"
    editor.scroll.ensureWidgetVisible(hazards)
    screenshot(window, artifacts / "ui_editor_hazard_list_wheel_1366x768_at_150.png")
    hazards.setFocus(Qt.FocusReason.MouseFocusReason)   # clicked into: the officer is working in the list
    qtbot.waitUntil(hazards.hasFocus)
    page_before = page.value()
    wheel(hazards.viewport(), -1)
    assert hazards.verticalScrollBar().value() > 0 and page.value() == page_before
