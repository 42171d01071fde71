"""The fit check itself: it finds each kind of fault on made-up windows, and passes one that fits."""

from __future__ import annotations

from typing import Any

from fit import in_view, misfits
from PySide6.QtWidgets import (
    QComboBox,
    QLabel,
    QMainWindow,
    QPushButton,
    QScrollArea,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from ui.widgets import ElidedLabel


def _shown(qtbot: Any, widget: QWidget, width: int, height: int) -> QWidget:
    qtbot.addWidget(widget)
    widget.resize(width, height)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def test_a_button_past_the_windows_edge_is_found(qtbot: Any) -> None:
    """A button placed half outside the window is reported as cut, and is not in view."""
    window = _shown(qtbot, QWidget(), 300, 200)
    button = QPushButton("Start visit", window)
    button.setGeometry(250, 20, 100, 30)
    button.show()
    faults = misfits(window)
    assert any("Start visit" in f and "cut to 50x30" in f for f in faults), faults
    assert not in_view(button, window)


def test_sideways_scrolling_is_a_fault_and_scrolling_down_is_not(qtbot: Any) -> None:
    """Content wider than its scroll area is reported; a long column that scrolls down is fine."""
    wide = QScrollArea()
    inner = QWidget()
    inner.resize(600, 100)
    QVBoxLayout(inner).addWidget(QPushButton("Far right"))
    wide.setWidget(inner)
    window = QWidget()
    QVBoxLayout(window).addWidget(wide)
    _shown(qtbot, window, 300, 200)
    assert any("sideways scroll" in f for f in misfits(window))

    tall = QScrollArea()
    tall.setWidgetResizable(True)
    column = QWidget()
    layout = QVBoxLayout(column)
    buttons = [QPushButton(f"Answer {n}") for n in range(30)]
    for button in buttons:
        layout.addWidget(button)
    tall.setWidget(column)
    _shown(qtbot, tall, 300, 200)
    assert misfits(tall) == []
    assert not in_view(buttons[-1], tall)   # reachable by scrolling, not in view without it


def test_clipped_texts_are_found_and_elided_labels_are_not(qtbot: Any) -> None:
    """A button and a combo too narrow for their text are reported; an ElidedLabel (tooltip) is not."""
    window = _shown(qtbot, QWidget(), 400, 200)
    button = QPushButton("Return with comment to the officer", window)
    button.setGeometry(0, 0, 60, 30)
    combo = QComboBox(window)
    combo.addItem("Damp and mould inspection (v1)")
    combo.setGeometry(0, 40, 70, 30)
    label = ElidedLabel("A long status line that cannot fit in this little space", window)
    label.setGeometry(0, 80, 80, 20)
    for widget in (button, combo, label):
        widget.show()
    faults = misfits(window)
    assert any("QPushButton" in f and "its text needs" in f for f in faults), faults
    assert any("QComboBox" in f and "text" in f for f in faults), faults
    assert not any("ElidedLabel" in f for f in faults) and label.is_elided()
    plain = QLabel("A long status line that cannot fit in this little space", window)
    plain.setGeometry(0, 120, 80, 20)
    plain.show()
    assert any("QLabel" in f and "its text needs" in f for f in misfits(window))


def test_a_toolbar_action_in_the_overflow_menu_is_found(qtbot: Any) -> None:
    """Actions Qt hides behind the toolbar's overflow button are reported by name."""
    window = QMainWindow()
    bar = QToolBar("Main")
    window.addToolBar(bar)
    for n in range(12):
        bar.addAction(f"Action number {n}")
    window.setCentralWidget(QWidget())
    _shown(qtbot, window, 300, 200)
    faults = misfits(window)
    assert any("'Action number 11' is pushed off into the overflow menu" in f for f in faults), faults
