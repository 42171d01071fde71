"""Table model of the review queue: frozen `ReviewItem` rows, filtered and sorted in Python.

Rows start in the default order (Category 1 first, then oldest), so an unsorted view
shows what a lead should look at first. The lead's filter and column sort are applied
here, over precomputed keys, rather than by a QSortFilterProxyModel: a proxy calls back
into Python once per row and per comparison, which is too slow at tens of thousands
of rows; a list comprehension and one `sorted` are not.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timezone

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, Qt
from PySide6.QtGui import QBrush, QColor, QFont

from fieldapp.types import ReviewItem
from ui.review.queue_rows import (
    QueueFilter,
    age_seconds,
    age_text,
    default_order,
    hazards_text,
    search_text,
)
from fieldapp.clocks import clock_order, clock_state, london_text, stage_text
from ui.clock_display import CLOCK_COLOURS, clock_due_text
from ui.format import label
from ui.models import AnyIndex

COL_OFFICER, COL_CASE, COL_DATE, COL_OUTCOME, COL_HAZARDS, COL_PHOTOS, COL_AGE, COL_CLOCK = range(8)
HEADERS = ("Officer", "Case", "Visit date", "Outcome", "Hazards", "Photos", "Waiting", "Next deadline")

#: The `ReviewItem` behind a row.
ItemRole = Qt.ItemDataRole.UserRole + 1

_CAT1_BACKGROUND = QColor("#fdecea")


class ReviewQueueTableModel(QAbstractTableModel):
    """The team's submitted visits waiting for a decision, one frozen row each."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._all: list[ReviewItem] = []        # every row, default order
        self._texts: list[str] = []             # search text of each row of _all
        self._rows: list[ReviewItem] = []       # the rows shown, filtered and sorted
        self._filter = QueueFilter()
        self._sort: tuple[int, Qt.SortOrder] | None = None
        self._now = datetime.now(timezone.utc)

    # ------------------------------------------------------------------ content

    def set_rows(self, items: Sequence[ReviewItem], now: datetime | None = None) -> None:
        """Replace every row; ``now`` fixes the age column. Filter and sort stay as they were."""
        self._all = default_order(items)
        self._texts = [search_text(i) for i in self._all]
        self._now = now or datetime.now(timezone.utc)
        self._rebuild()

    @property
    def queue_filter(self) -> QueueFilter:
        return self._filter

    def set_queue_filter(self, queue_filter: QueueFilter) -> None:
        """Show only the rows that match ``queue_filter``."""
        self._filter = queue_filter
        self._rebuild()

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Sort by a column (a negative column restores the default order)."""
        self._sort = (column, order) if 0 <= column < len(HEADERS) else None
        self._rebuild()

    def _rebuild(self) -> None:
        self.beginResetModel()
        wanted = self._filter
        text = wanted.text.strip().casefold()
        plain = QueueFilter(wanted.officer_id, wanted.outcome, wanted.category_1_only)
        rows = [item for item, haystack in zip(self._all, self._texts)
                if (not text or text in haystack) and plain.matches(item)]
        if self._sort is not None:
            column, order = self._sort
            rows.sort(key=lambda i: self._sort_value(i, column), reverse=order == Qt.SortOrder.DescendingOrder)
        self._rows = rows
        self.endResetModel()

    def item(self, row: int) -> ReviewItem:
        """The record shown on a row."""
        return self._rows[row]

    def visible_items(self) -> list[ReviewItem]:
        """The rows shown, top to bottom."""
        return list(self._rows)

    def items(self) -> list[ReviewItem]:
        """Every row, shown or filtered out, in the default order."""
        return list(self._all)

    # ------------------------------------------------------------------ Qt model

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: N802 (Qt name)
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: N802 (Qt name)
        return 0 if parent.isValid() else len(HEADERS)

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802 (Qt name)
                   role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            if 0 <= section < len(HEADERS):
                return HEADERS[section]
        return None

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        item = self._rows[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(item, col)
        if role == ItemRole:
            return item
        if role == Qt.ItemDataRole.ToolTipRole and col == COL_HAZARDS and item.hazards:
            return hazards_text(item)
        if role == Qt.ItemDataRole.BackgroundRole and item.category_1:
            return QBrush(_CAT1_BACKGROUND)
        if role == Qt.ItemDataRole.FontRole and item.category_1 and col == COL_HAZARDS:
            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.ForegroundRole and col == COL_CLOCK and item.clock is not None:
            colour = CLOCK_COLOURS.get(clock_state(item.clock, self._now))
            return QBrush(colour) if colour is not None else None
        if role == Qt.ItemDataRole.ToolTipRole and col == COL_CLOCK and item.clock is not None:
            return f"{stage_text(item.clock.stage)}: due {london_text(item.clock.due_at)}"
        if role == Qt.ItemDataRole.TextAlignmentRole and col == COL_PHOTOS:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def _display(self, item: ReviewItem, col: int) -> str:
        """The text of one cell."""
        if col == COL_OFFICER:
            return item.officer_name
        if col == COL_CASE:
            return f"{item.case_reference} · {item.address}" if item.address else item.case_reference
        if col == COL_DATE:
            return item.started_at.strftime("%d %b %Y")
        if col == COL_OUTCOME:
            return label(item.outcome) + (" · resubmitted" if item.resubmitted else "")
        if col == COL_HAZARDS:
            return hazards_text(item)
        if col == COL_PHOTOS:
            return str(item.photo_count)
        if col == COL_CLOCK:
            return clock_due_text(item.clock, self._now)[0] if item.clock is not None else "None running"
        return age_text(item.received_at, self._now)

    def _sort_value(self, item: ReviewItem, col: int) -> float | str | tuple[bool, float]:
        """A value of one type per column, so sorting compares like with like."""
        if col == COL_DATE:
            return item.started_at.timestamp()
        if col == COL_PHOTOS:
            return item.photo_count
        if col == COL_AGE:
            return age_seconds(item.received_at, self._now)
        if col == COL_CLOCK:
            return clock_order(item.clock)
        if col == COL_HAZARDS:
            # Category 1 above other hazards above none, then by count.
            return (2 if item.category_1 else 1 if item.hazards else 0) * 1000 + len(item.hazards)
        return self._display(item, col).casefold()
