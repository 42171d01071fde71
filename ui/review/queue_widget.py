"""The review queue page: filters above a sortable table of the team's submitted visits."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtWidgets import QCheckBox, QComboBox, QHBoxLayout, QHeaderView, QLabel, QLineEdit, QVBoxLayout, QWidget

from fieldapp.domain import Outcome
from fieldapp.types import ReviewItem
from ui.format import label
from ui.review.queue_model import COL_CASE, COL_HAZARDS, ReviewQueueTableModel
from ui.review.queue_rows import QueueFilter
from ui.widgets import row_table


class ReviewQueueWidget(QWidget):
    """Lists the visits waiting for a decision; emits `sig_open` with the chosen row."""

    sig_open = Signal(object)   # ReviewItem

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = ReviewQueueTableModel(self)

        self.search_edit = QLineEdit()
        self.search_edit.setPlaceholderText("Search case, address, officer, hazard…")
        self.search_edit.setClearButtonEnabled(True)
        self.search_edit.setAccessibleName("Search the review queue")
        self.officer_combo = QComboBox()
        self.officer_combo.setAccessibleName("Officer")
        self.officer_combo.addItem("All officers", None)
        self.outcome_combo = QComboBox()
        self.outcome_combo.setAccessibleName("Outcome")
        self.outcome_combo.addItem("All outcomes", None)
        for outcome in Outcome:
            self.outcome_combo.addItem(label(outcome.value), outcome.value)
        self.cat1_check = QCheckBox("Category 1 only")
        self.count_label = QLabel()
        # Room for the longest count, so the app's wider combo boxes never clip it.
        self.count_label.setMinimumWidth(self.fontMetrics().horizontalAdvance("9999 of 9999 waiting") + 8)

        filters = QHBoxLayout()
        filters.addWidget(self.search_edit, 2)
        filters.addWidget(self.officer_combo, 1)
        filters.addWidget(self.outcome_combo, 1)
        filters.addWidget(self.cat1_check)
        filters.addWidget(self.count_label)

        self.table = row_table(self.model, "Visits waiting for review", alternating=False)
        self.table.setSortingEnabled(True)
        # No sort indicator at first: the model's own order (Category 1, then oldest) shows.
        self.table.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        header = self.table.horizontalHeader()
        # Columns are fitted once, to the first rows, when the first queue arrives: fitting
        # on every filter change (ResizeToContents) measures rows again and again.
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setResizeContentsPrecision(200)
        self._fitted = False
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        header.setSectionResizeMode(COL_CASE, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(COL_HAZARDS, QHeaderView.ResizeMode.Stretch)
        self.table.activated.connect(self._on_table_activated)

        self.empty_label = QLabel("No visits are waiting for your review.")
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)

        layout = QVBoxLayout(self)
        layout.addLayout(filters)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.empty_label)
        self.empty_label.hide()

        self.search_edit.textChanged.connect(self._apply_filter)
        self.officer_combo.currentIndexChanged.connect(self._apply_filter)
        self.outcome_combo.currentIndexChanged.connect(self._apply_filter)
        self.cat1_check.toggled.connect(self._apply_filter)
        self.setTabOrder(self.search_edit, self.officer_combo)
        self.setTabOrder(self.officer_combo, self.outcome_combo)
        self.setTabOrder(self.outcome_combo, self.cat1_check)
        self.setTabOrder(self.cat1_check, self.table)

    def set_items(self, items: Sequence[ReviewItem], now: datetime | None = None) -> None:
        """Show a fresh queue, keeping the lead's filters and any chosen officer."""
        self.model.set_rows(items, now)
        chosen = self.officer_combo.currentData()
        officers = sorted({(i.officer_name, i.officer_id) for i in items})
        self.officer_combo.blockSignals(True)
        self.officer_combo.clear()
        self.officer_combo.addItem("All officers", None)
        for name, officer_id in officers:
            self.officer_combo.addItem(name, officer_id)
        index = self.officer_combo.findData(chosen)
        self.officer_combo.setCurrentIndex(max(0, index))
        self.officer_combo.blockSignals(False)
        self._apply_filter()
        if not self._fitted and items:
            self.table.resizeColumnsToContents()
            self._fitted = True

    def current_filter(self) -> QueueFilter:
        """The filter the controls describe."""
        return QueueFilter(officer_id=self.officer_combo.currentData(), outcome=self.outcome_combo.currentData(),
                           category_1_only=self.cat1_check.isChecked(), text=self.search_edit.text())

    def visible_items(self) -> list[ReviewItem]:
        """The rows as the view shows them, top to bottom."""
        return self.model.visible_items()

    def _apply_filter(self) -> None:
        self.model.set_queue_filter(self.current_filter())
        shown, total = self.model.rowCount(), len(self.model.items())
        self.count_label.setText(f"{shown} of {total}" if shown != total else f"{total} waiting")
        self.empty_label.setVisible(shown == 0)
        if total and not shown:
            self.empty_label.setText("No visit matches these filters.")
        else:
            self.empty_label.setText("No visits are waiting for your review.")

    def _on_table_activated(self, index: QModelIndex) -> None:
        if index.isValid():
            self.sig_open.emit(self.model.item(index.row()))
