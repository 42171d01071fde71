"""The status bar: who is signed in, portal reachable, last sync, what waits, and sync progress."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QWidget

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


class SyncProgressWidget(QWidget):
    """Phase, counts and bytes of a running sync, with Cancel."""

    sig_cancel = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        # A steady width: the text changes many times a second and must not make the bar jump;
        # elided beyond it, so the status line beside it still shows at 1366x768 with 150 %.
        self.text = ElidedLabel()
        self.text.setFixedWidth(self.fontMetrics().averageCharWidth() * 36)
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
    """Reachability, last sync and waiting work, in the status bar."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.reachable = ElidedLabel("Checking the portal…", min_chars=14)
        self.reachable.setAccessibleName("Portal connection")
        self.last_sync = QLabel()
        # What waits and the last sync's message shrink with "…" (tooltip: all of it) where the bar is short.
        self.pending = ElidedLabel()
        # The last sync's news ("2 visits returned by your lead") is read whole; the others give way first.
        self.message = ElidedLabel(min_chars=60)
        self.message.setObjectName("muted")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for label in (self.reachable, self.last_sync, self.pending, self.message):
            layout.addWidget(label)
            layout.addSpacing(self.fontMetrics().averageCharWidth() * 2)
        layout.addStretch(1)

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
