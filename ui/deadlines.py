"""The Deadlines view: every case of the officer (a lead: the team) with an unmet statutory clock, nearest first.

Rows are the store's `DeadlineRow`s, already in order; red once breached, amber with
one working day left. Times are Europe/London. Enter or double-click opens the case.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timezone

from PySide6.QtCore import QModelIndex, QObject, Qt, Signal
from PySide6.QtGui import QBrush, QFont
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from fieldapp.clocks import ClockState, clock_state, london_text, stage_text, time_left_text
from fieldapp.types import DeadlineRow
from ui.clock_display import CLOCK_COLOURS
from ui.context import AppContext
from ui.format import label
from ui.models import AnyIndex, RowRole, RowsTableModel
from ui.tasks import Op, TaskFailure
from ui.widgets import ColumnFitter, ProblemLabel, row_table, wrapping_label


class DeadlinesTableModel(RowsTableModel[DeadlineRow]):
    """One row per case: its nearest unmet clock, how long is left, and whose case it is."""

    COL_LEFT, COL_STAGE, COL_DUE, COL_CASE, COL_OFFICER, COL_PRIORITY = range(6)
    HEADERS = ("Time left", "Stage", "Due", "Case", "Officer", "Priority")

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._now = datetime.now(timezone.utc)
        self._bold = QFont()
        self._bold.setBold(True)

    def set_rows(self, rows: Sequence[DeadlineRow], now: datetime | None = None) -> None:
        """Replace every row; time left is worded relative to ``now``."""
        self._now = now or datetime.now(timezone.utc)
        super().set_rows(rows)

    def state(self, row: DeadlineRow) -> ClockState:
        return clock_state(row.clock, self._now)

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        row = self.row_at(index.row()) if index.isValid() else None
        if row is None:
            return None
        column = index.column()
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return self._display(row, column)
        if role == RowRole:
            return row
        if role == Qt.ItemDataRole.ForegroundRole and column == self.COL_LEFT:
            colour = CLOCK_COLOURS.get(self.state(row))
            return QBrush(colour) if colour is not None else None
        if role == Qt.ItemDataRole.FontRole and column == self.COL_LEFT and \
                self.state(row) in (ClockState.BREACHED, ClockState.AMBER):
            return self._bold
        if role == Qt.ItemDataRole.ToolTipRole:
            return row.clock.basis or None
        return None

    def _display(self, row: DeadlineRow, column: int) -> str:
        if column == self.COL_LEFT:
            return time_left_text(row.clock, self._now)
        if column == self.COL_STAGE:
            more = f"  (+{row.other_unmet} more)" if row.other_unmet else ""
            return stage_text(row.clock.stage) + more
        if column == self.COL_DUE:
            return london_text(row.clock.due_at)
        if column == self.COL_CASE:
            return f"{row.reference} · {row.address}" if row.address else row.reference
        if column == self.COL_OFFICER:
            return row.officer_name
        return label(row.priority)


class DeadlinesWidget(QWidget):
    """The Deadlines page."""

    sig_open_case = Signal(str)   # case id
    sig_loaded = Signal(int)      # rows shown

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        title = QLabel("Deadlines")
        title.setObjectName("pageTitle")
        self.intro = wrapping_label("Awaab's Law deadlines not yet met, the nearest first. Red: breached. "
                                    "Amber: one working day left or less. Times are UK time.", "muted")
        self.model = DeadlinesTableModel(self)
        self.table = row_table(self.model, "Deadlines")
        # Columns most useful first: on a small screen the last ones are left out (the case page has them).
        by_use = (DeadlinesTableModel.COL_LEFT, DeadlinesTableModel.COL_CASE, DeadlinesTableModel.COL_DUE,
                  DeadlinesTableModel.COL_STAGE, DeadlinesTableModel.COL_PRIORITY, DeadlinesTableModel.COL_OFFICER)
        # Time left holds "Breached 19 days ago" in bold: at 20 characters it read "Breached 19 day…".
        self.columns = ColumnFitter(self.table, (24, 34, 26, 40, 18, 12), by_use)
        self.table.verticalHeader().setDefaultSectionSize(int(self.fontMetrics().height() * 1.8))
        self.table.activated.connect(self._on_table_activated)
        self.empty = wrapping_label("No deadline is running for your cases.", "muted")
        self.count = QLabel()
        self.count.setObjectName("muted")
        self.message = ProblemLabel()
        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addWidget(self.intro)
        layout.addWidget(self.empty)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.count)
        layout.addWidget(self.message)
        layout.addStretch(0)   # takes the room only while the table is hidden: the page reads top down

    def refresh(self) -> None:
        """Read the deadlines again (database thread)."""
        store = self._ctx.store
        Op(self, store.deadlines).success(self._on_loaded).failure(self._on_failed).run()

    def _on_loaded(self, rows: list[DeadlineRow]) -> None:
        self.model.set_rows(rows)
        self.message.hide()
        self.empty.setVisible(not rows)
        self.table.setVisible(bool(rows))
        breached = sum(1 for r in rows if self.model.state(r) == ClockState.BREACHED)
        amber = sum(1 for r in rows if self.model.state(r) == ClockState.AMBER)
        self.count.setText(f"{len(rows)} cases with a deadline running · {breached} breached · "
                           f"{amber} with one working day or less")
        self.sig_loaded.emit(len(rows))

    def _on_failed(self, failure: TaskFailure) -> None:
        self.message.say(f"The deadlines could not be read: {failure.message}")

    def _on_table_activated(self, index: QModelIndex) -> None:
        row = self.model.row_at(index.row())
        if row is not None:
            self.sig_open_case.emit(row.case_id)
