"""The visit's hazards: HHSRS hazard, band, location and notes; Category 1 highlighted.

Every row is saved as typed, however incomplete (a row without a band is a valid
hazard, PROTOCOL.md revision 2; one without a hazard is flagged until it is chosen or
removed). Hazards answered at `hazard` questions are listed below the rows, so the
officer sees the visit's one list of hazards (`fieldapp.domain.visit_hazards`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QGridLayout, QLabel, QLineEdit, QPushButton, QToolButton, QVBoxLayout, QWidget

from fieldapp.domain import is_category_1
from fieldapp.types import Hazard
from ui.hazard_text import line_text
from ui.look import icon
from ui.questions import band_combo, hazard_combo, select_value
from ui.widgets import ProblemLabel, repolish, wrapping_label


class HazardRowWidget(QFrame):
    """One hazard; highlighted when its band is Category 1."""

    sig_changed = Signal()
    sig_typing = Signal()
    sig_remove = Signal(object)   # self

    def __init__(self, hazard: Hazard | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("hazardRow")
        self.hazard = hazard_combo()
        self.band = band_combo("— no band —")
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
        self.problem = ProblemLabel()
        layout = QGridLayout(self)
        layout.addWidget(self.hazard, 0, 0)
        layout.addWidget(self.band, 0, 1)
        layout.addWidget(self.category, 0, 2)
        layout.addWidget(self.remove, 0, 3)
        layout.addWidget(self.location, 1, 0)
        layout.addWidget(self.notes, 1, 1, 1, 3)
        layout.addWidget(self.problem, 2, 0, 1, 4)
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

    def value(self) -> Hazard:
        """The row as typed ("" for a hazard or band not chosen yet)."""
        return Hazard(self.hazard.currentData() or "", self.band.currentData() or "",
                      self.location.text().strip(), self.notes.text().strip())

    def set_problem(self, message: str | None) -> None:
        self.problem.warn(message)


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
        self.answered = wrapping_label("", "muted")
        self.answered.setTextFormat(Qt.TextFormat.PlainText)
        self.answered.hide()
        self._layout.addWidget(self.empty)
        self._layout.addWidget(self.add_button, 0, Qt.AlignmentFlag.AlignLeft)
        self._layout.addWidget(self.answered)

    def set_hazards(self, hazards: Sequence[Hazard]) -> None:
        for row in self.rows:
            row.deleteLater()
        self.rows = []
        for hazard in hazards:
            self._append(HazardRowWidget(hazard))
        self.empty.setVisible(not self.rows)

    def _append(self, row: HazardRowWidget) -> None:
        self.rows.append(row)
        self._layout.insertWidget(self._layout.indexOf(self.add_button), row)
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
        """Every row as typed, incomplete ones included (the store keeps them and flags what is missing)."""
        return tuple(row.value() for row in self.rows)

    def show_problems(self, problems: Mapping[str, str], show_missing: bool) -> None:
        """Each row's problem beside it; "choose the hazard" waits until a submit was tried."""
        for index, row in enumerate(self.rows):
            message = problems.get(f"hazards.{index}")
            if message and not show_missing and not row.value().hazard:
                message = None
            row.set_problem(message)

    def focus_row(self, index: int) -> QWidget:
        """Put the cursor on a row's hazard (a jump from the submit check); returns what was focused."""
        target = self.rows[index].hazard if 0 <= index < len(self.rows) else self.add_button
        target.setFocus(Qt.FocusReason.OtherFocusReason)
        return target

    def set_answered(self, hazards: Sequence[Hazard], question_label: Callable[[str], str]) -> None:
        """List the hazards answered at the form's `hazard` questions, so the whole list is in one place."""
        lines = [line_text(h, question_label) for h in hazards if h.question_id is not None]
        self.answered.setText("Also recorded at questions:\n" + "\n".join(f"• {line}" for line in lines)
                              if lines else "")
        self.answered.setVisible(bool(lines))

    def set_read_only(self, read_only: bool) -> None:
        self.add_button.setVisible(not read_only)
        for row in self.rows:
            row.setEnabled(not read_only)
