"""The visit's hazards: HHSRS hazard, band, location and notes; Category 1 highlighted."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QGridLayout, QLabel, QLineEdit, QPushButton, QToolButton, QVBoxLayout, QWidget

from fieldapp.domain import is_category_1
from fieldapp.types import Hazard
from ui.look import icon
from ui.questions import band_combo, hazard_combo, select_value
from ui.widgets import repolish


class HazardRowWidget(QFrame):
    """One hazard; highlighted when its band is Category 1."""

    sig_changed = Signal()
    sig_typing = Signal()
    sig_remove = Signal(object)

    def __init__(self, hazard: Hazard | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("hazardRow")
        self.hazard = hazard_combo()
        self.band = band_combo()
        self.location = QLineEdit()
        self.location.setPlaceholderText("Where (room, wall...)")
        self.notes = QLineEdit()
        self.notes.setPlaceholderText("Notes")
        self.category = QLabel()
        self.category.setObjectName("problem")
        self.remove = QToolButton()
        self.remove.setIcon(icon("remove"))
        self.remove.setToolTip("Remove this hazard")
        self.remove.setAccessibleName("Remove this hazard")
        layout = QGridLayout(self)
        layout.addWidget(self.hazard, 0, 0)
        layout.addWidget(self.band, 0, 1)
        layout.addWidget(self.category, 0, 2)
        layout.addWidget(self.remove, 0, 3)
        layout.addWidget(self.location, 1, 0)
        layout.addWidget(self.notes, 1, 1, 1, 3)
        layout.setColumnStretch(0, 2)
        layout.setColumnStretch(1, 1)
        if hazard is not None:
            select_value(self.hazard, hazard.hazard)
            select_value(self.band, hazard.band)
            self.location.setText(hazard.location)
            self.notes.setText(hazard.notes)
        self._update_category()
        self.hazard.currentIndexChanged.connect(self._on_choice_changed)
        self.band.currentIndexChanged.connect(self._on_choice_changed)
        for edit in (self.location, self.notes):
            edit.textEdited.connect(lambda _t: self.sig_typing.emit())
            edit.editingFinished.connect(self.sig_changed.emit)
        self.remove.clicked.connect(lambda: self.sig_remove.emit(self))

    def _on_choice_changed(self) -> None:
        self._update_category()
        self.sig_changed.emit()

    def _update_category(self) -> None:
        band = self.band.currentData()
        category_1 = bool(band) and is_category_1(band)
        self.category.setText("Category 1: the council must act" if category_1 else "")
        self.setObjectName("category1" if category_1 else "hazardRow")
        repolish(self)

    def value(self) -> Hazard | None:
        """The hazard, or None while the hazard or band is not chosen yet."""
        hazard, band = self.hazard.currentData(), self.band.currentData()
        if not hazard or not band:
            return None
        return Hazard(hazard, band, self.location.text().strip(), self.notes.text().strip())


class HazardsEditorWidget(QWidget):
    """A list of hazard rows with an Add button; emits the whole list on each change."""

    sig_changed = Signal()
    sig_typing = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.rows: list[HazardRowWidget] = []
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self.empty = QLabel("No hazards recorded.")
        self.empty.setObjectName("muted")
        self.add_button = QPushButton(icon("add"), "Add hazard")
        self.add_button.clicked.connect(self.add_row)
        self._layout.addWidget(self.empty)
        self._layout.addWidget(self.add_button, 0, Qt.AlignmentFlag.AlignLeft)

    def set_hazards(self, hazards: Sequence[Hazard]) -> None:
        for row in self.rows:
            row.deleteLater()
        self.rows = []
        for hazard in hazards:
            self._append(HazardRowWidget(hazard))
        self.empty.setVisible(not self.rows)

    def _append(self, row: HazardRowWidget) -> None:
        self.rows.append(row)
        self._layout.insertWidget(self._layout.count() - 1, row)
        row.show()
        row.sig_changed.connect(self.sig_changed.emit)
        row.sig_typing.connect(self.sig_typing.emit)
        row.sig_remove.connect(self._on_row_remove)
        self.empty.hide()

    def add_row(self) -> HazardRowWidget:
        row = HazardRowWidget()
        self._append(row)
        row.hazard.setFocus()
        return row

    def _on_row_remove(self, row: HazardRowWidget) -> None:
        self.rows.remove(row)
        row.deleteLater()
        self.empty.setVisible(not self.rows)
        self.sig_changed.emit()

    def hazards(self) -> tuple[Hazard, ...]:
        """The complete hazards (rows still missing a hazard or band are kept on screen only)."""
        return tuple(h for h in (row.value() for row in self.rows) if h is not None)

    def set_read_only(self, read_only: bool) -> None:
        self.add_button.setVisible(not read_only)
        for row in self.rows:
            row.setEnabled(not read_only)
