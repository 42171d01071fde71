"""The case list: instant search (the core's, `ui.case_search`), filters, in the core's list order, overdue shown plainly."""

from __future__ import annotations

from PySide6.QtCore import QItemSelectionModel, QModelIndex, Qt, Signal
from PySide6.QtWidgets import QCheckBox, QComboBox, QHBoxLayout, QLabel, QLineEdit, QVBoxLayout, QWidget

from fieldapp.domain import CaseStatus, CaseType, Priority
from fieldapp.types import CaseSummary
from ui.case_search import CaseQuery, CaseSearchRunner
from ui.context import AppContext
from ui.format import label
from ui.look import icon
from ui.models import CaseTableModel
from ui.tasks import Op, TaskFailure
from ui.widgets import ColumnFitter, row_table

#: The table's columns, most useful first: on a narrow screen the last ones are left out.
COLUMNS_BY_USE = (CaseTableModel.COL_REFERENCE, CaseTableModel.COL_DUE, CaseTableModel.COL_ADDRESS,
                  CaseTableModel.COL_PRIORITY, CaseTableModel.COL_SUMMARY, CaseTableModel.COL_TYPE,
                  CaseTableModel.COL_STATUS, CaseTableModel.COL_RESIDENTS)


def _combo(any_text: str, values: list[str], tooltip: str) -> QComboBox:
    combo = QComboBox()
    combo.addItem(any_text, "")
    for value in values:
        combo.addItem(label(value), value)
    combo.setToolTip(tooltip)
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
    return combo


class CaseListWidget(QWidget):
    """Search box, filters and the table of cases."""

    sig_case_selected = Signal(str)   # a case id, as the selection moves
    sig_case_activated = Signal(str)  # Enter or double-click
    sig_filtered = Signal(int)        # rows now shown (tests and benchmarks wait on it)
    sig_loaded = Signal(int)          # rows loaded from the store

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self._rows: tuple[CaseSummary, ...] = ()  # every case, in the core's list order (searches read it)
        self._loading = False
        self._search = CaseSearchRunner(ctx.store, self)
        self._search.sig_found.connect(self._on_search_found)
        self._search.sig_failed.connect(self._on_search_failed)

        self.search = QLineEdit()
        self.search.setPlaceholderText("Search reference, address, postcode, resident or summary  (Ctrl+F)")
        self.search.setClearButtonEnabled(True)
        self.search.addAction(icon("search"), QLineEdit.ActionPosition.LeadingPosition)
        self.search.setAccessibleName("Search cases")
        self.status_filter = _combo("Any status", [s.value for s in CaseStatus], "Show cases with this status")
        self.type_filter = _combo("Any type", [t.value for t in CaseType], "Show cases of this type")
        self.priority_filter = _combo("Any priority", [p.value for p in Priority], "Show cases of this priority")
        self.overdue_filter = QCheckBox("Overdue only")
        self.count_label = QLabel()
        self.count_label.setObjectName("muted")

        self.model = CaseTableModel(self)
        self.model.set_warning_icon(icon("warning"))
        self.table = row_table(self.model, "Cases")
        self.table.setShowGrid(False)
        # Column widths follow the font (never fixed pixels) so 150 % scaling still fits.
        # The reference column holds "⚠ HBC-VD-000178  · Returned" whole (warning icon, mark); Due may hold a clock.
        chars = (30, 30, 10, 18, 10, 28, 16, 28)
        # On a small screen the list keeps reference, due and address; the case page shows the rest.
        self.columns = ColumnFitter(self.table, chars, COLUMNS_BY_USE)
        self.table.verticalHeader().setDefaultSectionSize(int(self.fontMetrics().height() * 1.8))

        # The search has a row of its own: beside the filters it was squeezed to a few letters on a small screen.
        filters = QHBoxLayout()
        for widget in (self.status_filter, self.type_filter, self.priority_filter, self.overdue_filter):
            filters.addWidget(widget)
        filters.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.search)
        layout.addLayout(filters)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.count_label)

        # No debounce timer: keys typed while a search runs are folded into one waiting query.
        self.search.textChanged.connect(self.apply_filter)
        for combo in (self.status_filter, self.type_filter, self.priority_filter):
            combo.currentIndexChanged.connect(self.apply_filter)
        self.overdue_filter.toggled.connect(self.apply_filter)
        self.table.selectionModel().currentRowChanged.connect(self._on_table_current_changed)
        self.table.activated.connect(self._on_table_activated)
        self.setTabOrder(self.search, self.status_filter)
        self.setTabOrder(self.status_filter, self.type_filter)
        self.setTabOrder(self.type_filter, self.priority_filter)
        self.setTabOrder(self.priority_filter, self.overdue_filter)
        self.setTabOrder(self.overdue_filter, self.table)

    # ------------------------------------------------------------ loading

    def reload(self) -> None:
        """Fetch every case from the store (database thread), then show the current search's answer."""
        self.reload_drafts()
        self.reload_clocks()
        if self._loading:
            return
        self._loading = True
        store = self._ctx.store
        Op(self, lambda: store.cases()).success(self._on_loaded).failure(self._on_load_failed) \
            .finally_(self._on_load_done).run()

    def reload_clocks(self) -> None:
        """Show each case's nearest unmet statutory clock in the Due column (one query of the clocks)."""
        store = self._ctx.store
        Op(self, store.nearest_clocks).success(self.model.set_clocks).run()

    def reload_drafts(self) -> None:
        """Mark the cases that have a draft (a few rows: cheap to read again after any change)."""
        store = self._ctx.store
        Op(self, lambda: {d.case_id for d in store.drafts()}, what="mark the cases that have drafts") \
            .success(self.model.set_draft_cases).run()
        Op(self, lambda: {v.case_id for v in store.returned_visits()}, what="mark the cases with returned visits") \
            .success(self.model.set_returned_cases).run()

    def _on_loaded(self, rows: list[CaseSummary]) -> None:
        self._rows = tuple(rows)
        self.apply_filter()
        self.sig_loaded.emit(len(rows))

    def _on_load_failed(self, failure: TaskFailure) -> None:
        self.count_label.setText(f"Cases could not be loaded: {failure.message}")

    def _on_load_done(self) -> None:
        self._loading = False

    # ------------------------------------------------------------ filtering

    def query(self) -> CaseQuery:
        def chosen(combo: QComboBox) -> frozenset[str]:
            value = combo.currentData()
            return frozenset({value}) if value else frozenset()

        return CaseQuery(self.search.text(), chosen(self.status_filter), chosen(self.type_filter),
                         chosen(self.priority_filter), self.overdue_filter.isChecked())

    def apply_filter(self) -> None:
        """Ask the core which cases match the search and filters; the answer arrives in `_on_search_found`."""
        self._search.request(self.query(), self._rows)

    def _on_search_found(self, _query: CaseQuery, rows: list[CaseSummary]) -> None:
        """Show the matching cases and keep the selected case selected if still shown."""
        current = self.current_case_id()
        self.model.set_rows(rows)
        total = len(self._rows)
        self.count_label.setText(f"{len(rows):,} of {total:,} cases" if len(rows) != total else f"{total:,} cases")
        if current:
            self.select_case(current, emit=False)
        self.sig_filtered.emit(len(rows))

    def _on_search_failed(self, failure: TaskFailure) -> None:
        self.count_label.setText(f"The search did not work: {failure.message}")

    # ------------------------------------------------------------ selection

    def current_case_id(self) -> str | None:
        row = self.model.row_at(self.table.currentIndex().row())
        return row.id if row else None

    def select_case(self, case_id: str, *, emit: bool = True) -> bool:
        number = self.model.row_of(case_id)
        if number < 0:
            return False
        index = self.model.index(number, 0)
        if not emit:
            self.table.selectionModel().blockSignals(True)
        self.table.selectionModel().setCurrentIndex(
            index, QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows)
        self.table.selectionModel().blockSignals(False)
        self.table.scrollTo(index)
        return True

    def move_selection(self, step: int) -> None:
        """Select the next (+1) or previous (-1) case."""
        count = self.model.rowCount()
        if not count:
            return
        row = self.table.currentIndex().row()
        target = max(0, min(count - 1, (row + step) if row >= 0 else 0))
        item = self.model.row_at(target)
        if item:
            self.select_case(item.id)

    def focus_search(self) -> None:
        self.search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search.selectAll()

    def _on_table_current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        row: CaseSummary | None = self.model.row_at(current.row())
        if row:
            self.sig_case_selected.emit(row.id)

    def _on_table_activated(self, index: QModelIndex) -> None:
        row = self.model.row_at(index.row())
        if row:
            self.sig_case_activated.emit(row.id)
