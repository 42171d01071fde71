"""Table and list models over lists of frozen rows (`set_rows` replaces them at once)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timezone
from typing import Generic, TypeVar

from PySide6.QtCore import QAbstractListModel, QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QIcon, QImage, QPixmap

from fieldapp.clocks import london_text, stage_text
from fieldapp.types import CaseSummary, Clock, Photo, Problem
from ui.clock_display import clock_due_text
from ui.format import Urgency, date_text, due_text, label, photo_line
from ui.look import PROBLEM_RED

#: What Qt passes a model as an index.
AnyIndex = QModelIndex | QPersistentModelIndex
R = TypeVar("R")

#: The frozen record behind a row, for views and delegates.
RowRole = Qt.ItemDataRole.UserRole + 1
#: How urgent a case's due date is (a `ui.format.Urgency`).
UrgencyRole = Qt.ItemDataRole.UserRole + 2

DRAFT_TIP = "You have a draft visit here that is not submitted: open the case to continue or discard it."
RETURNED_TIP = "Your team lead returned a visit here with a comment: see Needs attention, correct it and submit again."

OVERDUE_COLOUR = QColor(PROBLEM_RED)
SOON_COLOUR = QColor("#8a5a00")


class RowsTableModel(QAbstractTableModel, Generic[R]):
    """A table over a list of frozen rows with fixed column headers; subclasses give ``data``."""

    HEADERS: tuple[str, ...] = ()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[R] = []

    def set_rows(self, rows: Sequence[R]) -> None:
        """Replace every row (a model reset is cheaper than diffing at 20,000 rows)."""
        self.beginResetModel()
        self._rows = list(rows)
        self._rows_changed()
        self.endResetModel()

    def _rows_changed(self) -> None:
        """Drop caches that belong to the old rows (inside the reset)."""

    def rows(self) -> list[R]:
        return list(self._rows)

    def row_at(self, row: int) -> R | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: N802 (Qt name)
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802
                   role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole and 0 <= section < len(self.HEADERS):
            return self.HEADERS[section]
        return None


_CASE_ROLES = frozenset({Qt.ItemDataRole.DisplayRole, RowRole, UrgencyRole, Qt.ItemDataRole.ForegroundRole,
                         Qt.ItemDataRole.FontRole, Qt.ItemDataRole.DecorationRole, Qt.ItemDataRole.ToolTipRole,
                         Qt.ItemDataRole.AccessibleTextRole})


class CaseTableModel(RowsTableModel[CaseSummary]):
    """The case list: one frozen `CaseSummary` per line, in the order given."""

    COL_REFERENCE, COL_DUE, COL_PRIORITY, COL_TYPE, COL_STATUS, COL_ADDRESS, COL_RESIDENTS, COL_SUMMARY = range(8)
    HEADERS = ("Reference", "Due", "Priority", "Type", "Status", "Address", "Resident", "Summary")

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._now = datetime.now(timezone.utc)
        self._warning_icon = QIcon()
        # Due phrases are computed once per row per refresh, not on every paint.
        self._due_cache: dict[str, tuple[str, Urgency]] = {}
        self._text_cache: dict[str, tuple[str, ...]] = {}
        self._bold = QFont()
        self._bold.setBold(True)
        self._draft_cases: frozenset[str] = frozenset()
        self._returned_cases: frozenset[str] = frozenset()
        self._clocks: dict[str, Clock] = {}

    def set_clocks(self, clocks: Mapping[str, Clock]) -> None:
        """The nearest unmet statutory clock of each case: the Due column shows it instead of the due date."""
        self._clocks = dict(clocks)
        self._due_cache = {}
        self._text_cache = {}
        if self._rows:
            self.dataChanged.emit(self.index(0, self.COL_DUE), self.index(len(self._rows) - 1, self.COL_DUE))

    def clock_of(self, case_id: str) -> Clock | None:
        """The nearest unmet clock shown for a case, if any."""
        return self._clocks.get(case_id)

    def set_draft_cases(self, case_ids: Iterable[str]) -> None:
        """Mark the cases that have a draft (unsent work the officer should finish or discard)."""
        changed = self._draft_cases.symmetric_difference(case_ids)
        self._draft_cases = frozenset(case_ids)
        self._refresh_marks(changed)

    def set_returned_cases(self, case_ids: Iterable[str]) -> None:
        """Mark the cases with a visit the lead returned (waiting for the officer's corrections)."""
        changed = self._returned_cases.symmetric_difference(case_ids)
        self._returned_cases = frozenset(case_ids)
        self._refresh_marks(changed)

    def _refresh_marks(self, changed: Iterable[str]) -> None:
        for case_id in changed:
            self._text_cache.pop(case_id, None)
            number = self.row_of(case_id)
            if number >= 0:
                index = self.index(number, self.COL_REFERENCE)
                self.dataChanged.emit(index, index)

    def set_warning_icon(self, icon: QIcon) -> None:
        self._warning_icon = icon

    def set_rows(self, rows: Sequence[CaseSummary], now: datetime | None = None) -> None:
        """Replace every row; due dates are worded relative to ``now``."""
        self._now = now or datetime.now(timezone.utc)
        super().set_rows(rows)

    def _rows_changed(self) -> None:
        self._due_cache = {}
        self._text_cache = {}

    def row_of(self, case_id: str) -> int:
        for number, item in enumerate(self._rows):
            if item.id == case_id:
                return number
        return -1


    def _due(self, row: CaseSummary) -> tuple[str, Urgency]:
        cached = self._due_cache.get(row.id)
        if cached is None:
            clock = self._clocks.get(row.id)
            cached = clock_due_text(clock, self._now) if clock is not None else due_text(row.due_at, self._now)
            if row.status == "closed":
                cached = ("Closed", Urgency.NONE)
            self._due_cache[row.id] = cached
        return cached

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        # Called thousands of times per repaint: cheapest checks first, display text cached per row.
        if role not in _CASE_ROLES:
            return None
        number = index.row()
        if number < 0 or number >= len(self._rows):
            return None
        row = self._rows[number]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            texts = self._text_cache.get(row.id)
            if texts is None:
                texts = self._text_cache[row.id] = tuple(self._display(row, c) for c in range(len(self.HEADERS)))
            return texts[column]
        if role == RowRole:
            return row
        if role == UrgencyRole:
            return self._due(row)[1]
        if role == Qt.ItemDataRole.ForegroundRole and column == self.COL_DUE:
            urgency = self._due(row)[1]
            if urgency == Urgency.OVERDUE:
                return QBrush(OVERDUE_COLOUR)
            if urgency == Urgency.SOON:
                return QBrush(SOON_COLOUR)
            return None
        if role == Qt.ItemDataRole.FontRole and column == self.COL_DUE and self._due(row)[1] == Urgency.OVERDUE:
            return self._bold
        if role == Qt.ItemDataRole.DecorationRole and column == self.COL_REFERENCE and row.has_warnings:
            return self._warning_icon
        if role == Qt.ItemDataRole.ToolTipRole:
            if column == self.COL_REFERENCE and (row.has_warnings or row.id in self._draft_cases
                                                 or row.id in self._returned_cases):
                return "\n".join(tip for tip, shown in (
                    ("This home has safety warnings: read them before visiting.", row.has_warnings),
                    (RETURNED_TIP, row.id in self._returned_cases),
                    (DRAFT_TIP, row.id in self._draft_cases)) if shown)
            if column == self.COL_DUE:
                clock = self._clocks.get(row.id)
                if clock is not None:
                    return f"{stage_text(clock.stage)}: due {london_text(clock.due_at)}"
                return date_text(row.due_at)
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return self._display(row, column)
        return None

    def _display(self, row: CaseSummary, column: int) -> str:
        if column == self.COL_REFERENCE:
            if row.id in self._returned_cases:
                return f"{row.reference}  · Returned"   # the lead's comment waits: before a draft mark
            return f"{row.reference}  · Draft" if row.id in self._draft_cases else row.reference
        if column == self.COL_DUE:
            return self._due(row)[0]
        if column == self.COL_PRIORITY:
            return label(row.priority)
        if column == self.COL_TYPE:
            return label(row.case_type)
        if column == self.COL_STATUS:
            return label(row.status)
        if column == self.COL_ADDRESS:
            return row.address
        if column == self.COL_RESIDENTS:
            return row.resident_names
        return row.summary


class PhotoListModel(QAbstractListModel):
    """The photos of a visit, as a thumbnail grid; thumbnails arrive later as QImages."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._photos: list[Photo] = []
        self._pixmaps: dict[str, QPixmap] = {}
        self._placeholder = QIcon()
        self._question_labels: dict[str, str] = {}

    def set_placeholder(self, icon: QIcon) -> None:
        self._placeholder = icon

    def set_question_labels(self, labels: dict[str, str]) -> None:
        self._question_labels = dict(labels)

    def set_rows(self, photos: Sequence[Photo]) -> None:
        self.beginResetModel()
        self._photos = list(photos)
        keep = {p.id for p in self._photos}
        self._pixmaps = {k: v for k, v in self._pixmaps.items() if k in keep}
        self.endResetModel()

    def photos(self) -> list[Photo]:
        return list(self._photos)

    def missing_thumbnails(self) -> list[Photo]:
        return [p for p in self._photos if p.id not in self._pixmaps]

    def set_thumbnail(self, photo_id: str, image: QImage) -> None:
        """Called on the GUI thread with an image decoded elsewhere; QPixmap is made here."""
        for number, photo in enumerate(self._photos):
            if photo.id == photo_id:
                self._pixmaps[photo_id] = QPixmap.fromImage(image)
                index = self.index(number)
                self.dataChanged.emit(index, index, [Qt.ItemDataRole.DecorationRole])
                return

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self._photos)

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid() or not (0 <= index.row() < len(self._photos)):
            return None
        photo = self._photos[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            # Numbered as the photo questions' tick lists number it: "No caption" three times matched none of them.
            text = photo_line(index.row() + 1, photo.caption)
            if photo.question_id:
                text += f"\n→ {self._question_labels.get(photo.question_id, photo.question_id)}"
            return text
        if role == Qt.ItemDataRole.DecorationRole:
            return self._pixmaps.get(photo.id, self._placeholder)
        if role == RowRole:
            return photo
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{photo.width}×{photo.height}, {photo.bytes // 1024} KB" + ("" if photo.uploaded else ", not yet on the portal")
        return None


class ProblemTableModel(RowsTableModel[Problem]):
    """Problems the officer must act on ("Needs attention")."""

    HEADERS = ("When", "What", "Record", "Problem")


    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid() or not (0 <= index.row() < len(self._rows)):
            return None
        problem = self._rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return (date_text(problem.created_at), label(problem.kind), f"{label(problem.entity)} {problem.record_id[:8]}",
                    problem.message)[index.column()]
        if role == RowRole:
            return problem
        if role == Qt.ItemDataRole.ToolTipRole:
            return problem.message
        return None
