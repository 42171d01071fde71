"""Returned visits, impossible to miss: listed with the lead's comment and an Open button, and announced after a sync.

`ReturnedVisitsWidget` sits at the top of Needs attention. `ReturnedTracker` remembers
which returned visits the officer has already been told about and, after each sync,
says how many came back in one calm status line (never a dialog per visit).
"""

from __future__ import annotations

from html import escape

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from fieldapp.returned import ReturnedVisit
from ui.context import AppContext
from ui.tasks import Op
from ui.widgets import clear_layout


def returned_message(count: int) -> str:
    """The status line after a sync that brought visits back."""
    visits = "1 visit" if count == 1 else f"{count} visits"
    return f"{visits} returned by your lead (Needs attention)"


class ReturnedVisitsWidget(QGroupBox):
    """Each returned visit: case, address, the lead's comment, and Open."""

    sig_open_visit = Signal(str)

    #: The list's scroll area (the name hides QWidget.scroll(), which nothing here calls).
    scroll: QScrollArea  # type: ignore[assignment]

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("returnedVisits")
        # The list scrolls (down only) past a few visits: six returned at once pushed the window
        # past a 1366x768 screen at 150 % and squeezed every comment.
        self._content = content = QWidget()
        self.rows = QVBoxLayout(content)
        self.rows.setContentsMargins(0, 0, 0, 0)
        self.list_area = QScrollArea()
        self.list_area.setWidgetResizable(True)
        self.list_area.setFrameShape(QFrame.Shape.NoFrame)
        self.list_area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list_area.setWidget(content)
        QVBoxLayout(self).addWidget(self.list_area)
        self.open_buttons: dict[str, QPushButton] = {}
        self.set_visits([])

    def set_visits(self, visits: list[ReturnedVisit]) -> None:
        clear_layout(self.rows)
        self.open_buttons = {}
        self.setTitle(f"Returned by your team lead ({len(visits)})")
        for visit in visits:
            text = QLabel(f"<b>{escape(visit.case_reference)}</b> · {escape(visit.address)}<br>"
                          f"Their comment: <i>{escape(visit.comment) or 'no comment'}</i>")
            text.setTextFormat(Qt.TextFormat.RichText)
            text.setWordWrap(True)
            button = QPushButton("Open")
            button.setToolTip(f"Open the visit to {visit.case_reference} to correct it and submit it again")
            button.setAccessibleName(f"Open the returned visit to {visit.case_reference}")
            button.clicked.connect(lambda _c=False, vid=visit.visit_id: self.sig_open_visit.emit(vid))
            line = QHBoxLayout()
            line.addWidget(text, 1)
            line.addWidget(button, 0, Qt.AlignmentFlag.AlignTop)
            self.rows.addLayout(line)
            self.open_buttons[visit.visit_id] = button
        self.rows.addStretch(1)   # rows from the top when the box has room to spare
        self.setVisible(bool(visits))
        # Measured once the new rows are shown (Qt shows them after this call returns).
        QTimer.singleShot(0, self, self._fit_height)   # with its context: never after this box is gone

    def _fit_height(self) -> None:
        """All of a short list shows; a long one keeps two or three visits in view and scrolls."""
        whole = self._content.sizeHint().height()
        self.list_area.setMinimumHeight(min(whole, self.fontMetrics().lineSpacing() * 7))
        self.list_area.setMaximumHeight(max(whole, 1))
        self.list_area.updateGeometry()


class ReturnedTracker(QObject):
    """Counts the returned visits a sync brought that the officer was not told of yet."""

    sig_new = Signal(int)   # how many came back since the last look

    def __init__(self, ctx: AppContext, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self._known: set[str] | None = None
        self.check()

    def check(self) -> None:
        """Read the returned visits (database thread); announce the new ones."""
        store = self._ctx.store
        if store is None:
            return  # the data is still opening: the first look happens once it is open
        Op(self, store.returned_visits, what="read the returned visits").success(self._on_read).run()

    def _on_read(self, visits: list[ReturnedVisit]) -> None:
        ids = {v.visit_id for v in visits}
        known, self._known = self._known, ids
        # The first look (at start) is what the laptop already held: only a sync announces new ones.
        if known is not None and ids - known:
            self.sig_new.emit(len(ids - known))
