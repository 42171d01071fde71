"""The status bar: who is signed in, portal reachable, last sync, what waits, and sync progress."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QHBoxLayout, QProgressBar, QPushButton, QVBoxLayout, QWidget

from fieldapp.types import Pending, SyncState, counted
from ui.format import size_text, when_text
from ui.look import icon
from ui.tasks import TaskProgress
from ui.widgets import ElidedLabel, repolish

if TYPE_CHECKING:
    from fieldapp.store import FieldStore


@dataclass(frozen=True)
class StatusInfo:
    """What the status bar shows, read together on the database thread."""

    pending: Pending
    state: SyncState
    problems: int
    returned: int = 0   # visits the lead sent back, waiting on the officer

    @property
    def attention(self) -> int:
        """What Needs attention lists: returned visits and refused changes."""
        return self.problems + self.returned


def read_status(store: FieldStore) -> StatusInfo:
    return StatusInfo(store.pending(), store.sync_state(), len(store.problems()), len(store.returned_visits()))


def pending_text(pending: Pending) -> str:
    """Unsent work in a line: drafts first (a sync never sends them), then what waits to be sent."""
    drafts = f"{counted(pending.drafts, 'draft')} not submitted" if pending.drafts else ""
    if pending.nothing_queued:
        return f"{drafts} · nothing waiting to send" if drafts else "Nothing waiting to send"
    parts = pending.queued_items()
    if pending.photos:
        parts.append(f"{counted(pending.photos, 'photo')} ({size_text(pending.bytes)})")
    queued = "Waiting to send: " + ", ".join(parts)
    return f"{drafts} · {queued}" if drafts else queued


#: The longest progress line of a sync (`ui.sync_controller.progress_text`), to size its label.
LONGEST_PROGRESS = "Uploading photos · 888 of 888 · 888.8 MB of 888.8 MB"


def clear_rows(rows: QVBoxLayout) -> None:
    """Take the row layouts out of ``rows``, leaving their widgets alive (they go on other rows)."""
    while rows.count():
        item = rows.takeAt(0)
        inner = item.layout() if item is not None else None
        if inner is not None:
            while inner.count():
                inner.takeAt(0)
            inner.deleteLater()


class SyncProgressWidget(QWidget):
    """Phase, counts and bytes of a running sync, with Cancel."""

    sig_cancel = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        # A steady width: the text changes many times a second and must not make the bar jump.
        # Wide enough for the longest line a sync says (36 characters cut "Uploading photos · 12 of
        # 30 · 1…" at 1366x768 with 150 %); the status line beside it takes more rows instead.
        self.text = ElidedLabel()
        self.text.setFixedWidth(self.fontMetrics().horizontalAdvance(LONGEST_PROGRESS) + 16)
        self.text.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.bar = QProgressBar()
        self.bar.setTextVisible(False)
        self.bar.setMaximumWidth(self.fontMetrics().averageCharWidth() * 24)
        self.cancel_button = QPushButton(icon("cancel"), "Cancel")
        self.cancel_button.setToolTip("Stop the sync; everything not sent stays queued")
        self.cancel_button.clicked.connect(self.sig_cancel.emit)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.text)
        layout.addWidget(self.bar)
        layout.addWidget(self.cancel_button)
        self.hide()

    def begin(self) -> None:
        self.text.setText("Syncing…")
        self.bar.setRange(0, 0)
        self.cancel_button.setEnabled(True)
        self.show()

    def update_progress(self, update: TaskProgress) -> None:
        self.text.setText(update.text)
        if update.fraction < 0:
            self.bar.setRange(0, 0)   # busy indicator: the total is not known yet
        else:
            self.bar.setRange(0, 1000)
            self.bar.setValue(int(update.fraction * 1000))

    def cancelling(self) -> None:
        self.text.setText("Cancelling… (finishing the current step)")
        self.cancel_button.setEnabled(False)


class StatusLine(QWidget):
    """Reachability, last sync, waiting work and the last sync's news, with a running sync's progress.

    Its parts go on as many rows as the bar's width needs (`rows`), each whole: at 1366x768
    and 150 % one row cut every part with "…" ("● No portal…"), which is what the officer
    looks to the bar for. Only a part wider than the whole bar is still cut (its tooltip has it).
    """

    def __init__(self, progress: QWidget | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.reachable = ElidedLabel("Checking the portal…", min_chars=14)
        self.reachable.setAccessibleName("Portal connection")
        self.last_sync = ElidedLabel()
        self.pending = ElidedLabel()
        self.message = ElidedLabel(min_chars=60)
        self.message.setObjectName("muted")
        self.progress = progress
        self.labels = (self.reachable, self.last_sync, self.pending, self.message)
        self._rows = QVBoxLayout(self)
        self._rows.setContentsMargins(0, 0, 0, 0)
        self._rows.setSpacing(0)
        self._placed: list[list[QWidget]] = []
        for part in (*self.labels, *([progress] if progress is not None else [])):
            part.setParent(self)
            part.installEventFilter(self)   # a new text, or the progress shown or hidden, may need other rows
        self.arrange()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt name)
        # ElidedLabel.setText sets its tooltip: a tooltip change is a new text.
        kind = event.type()
        if kind == QEvent.Type.ToolTipChange or watched is self.progress and kind in (
                QEvent.Type.ShowToParent, QEvent.Type.HideToParent):
            self.arrange()
        return super().eventFilter(watched, event)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt name)
        super().resizeEvent(event)
        self.arrange()

    def rows(self) -> list[list[QWidget]]:
        """The parts shown, row by row: a label without text, or the progress between syncs, takes no room."""
        gap = self.fontMetrics().averageCharWidth() * 2
        shown: list[QWidget] = [label for label in self.labels if label.text()]
        if self.progress is not None and not self.progress.isHidden():
            shown.append(self.progress)
        rows: list[list[QWidget]] = [[]]
        used = 0
        for part in shown:
            need = part.sizeHint().width()
            if rows[-1] and used + gap + need > self.width():
                rows.append([])
                used = 0
            used += (gap if rows[-1] else 0) + need
            rows[-1].append(part)
        return rows

    def arrange(self) -> None:
        """Put the parts on the rows `rows` gives, when that changed (moving them relays the bar out)."""
        for label in self.labels:
            label.setVisible(bool(label.text()))
        rows = self.rows()
        if rows == self._placed:
            return
        self._placed = rows
        clear_rows(self._rows)
        for row in rows:
            line = QHBoxLayout()
            line.setSpacing(self.fontMetrics().averageCharWidth() * 2)
            for part in row:
                if part is self.progress:
                    line.addStretch(1)   # the progress at the bar's right end, where it always was
                line.addWidget(part)
            if self.progress not in row:
                line.addStretch(1)
            self._rows.addLayout(line)

    def set_reachable(self, reachable: bool, portal_known: bool = True) -> None:
        if not portal_known:
            text = "● No portal yet: sign in to sync"
        else:
            text = "● Portal reachable" if reachable else "● Offline: work is kept on this laptop"
        self.reachable.setText(text)
        self.reachable.setProperty("reachable", "true" if reachable else "false")
        repolish(self.reachable)

    def show_message(self, text: str) -> None:
        """The outcome of the last sync (stays until the next one; the status bar's own messages hide widgets)."""
        self.message.setText(text)

    def set_info(self, info: StatusInfo) -> None:
        self.last_sync.setText(f"Last sync: {when_text(info.state.last_sync_at)}")
        self.pending.setText(pending_text(info.pending))
