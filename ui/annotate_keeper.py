"""Keeping the marks being drawn on a photo in the local store, so a crash or power cut loses none.

A moment after each change (not on every mouse move) the marks are written on the
database thread; when the photo is opened again they come back. The annotated copy's
save clears them in its own transaction (`FieldStore.attach_annotated`), and so does
the officer's Discard.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer, Signal

from fieldapp.photos_marks import Mark
from ui.tasks import Op, TaskFailure

if TYPE_CHECKING:
    from fieldapp.store import FieldStore

log = logging.getLogger(__name__)

#: How long the marks must stay still before they are written (a drag writes once, at its end).
KEEP_DELAY_MS = 400


class MarksKeeper(QObject):
    """Writes one photo's marks in progress to the store, and reads them back."""

    sig_restored = Signal(object)  # tuple[Mark, ...] kept from before (only sent when there are some)
    sig_failed = Signal(str)       # why the marks could not be kept (they are still on screen)

    def __init__(self, store: FieldStore, photo_id: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._store = store
        self._photo_id = photo_id
        self._kept: tuple[Mark, ...] = ()
        self._waiting: tuple[Mark, ...] = ()
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(KEEP_DELAY_MS)
        self._timer.timeout.connect(self.flush)

    def restore(self) -> None:
        """Read the marks kept from an earlier time (database thread); `sig_restored` brings them."""
        store, photo_id = self._store, self._photo_id
        Op(self, lambda: store.annotation_draft(photo_id), what="bring back the marks drawn before") \
            .success(self._on_read).failure(lambda f: log.warning("Kept marks not read: %s", f.message)).run()

    def _on_read(self, marks: tuple[Mark, ...]) -> None:
        self._kept = marks
        if marks:
            self.sig_restored.emit(marks)

    def changed(self, marks: tuple[Mark, ...]) -> None:
        """The marks on screen are now these; write them once they stay so for a moment."""
        self._waiting = marks
        if marks != self._kept:
            self._timer.start()

    def flush(self) -> None:
        """Write the latest marks now if they differ from what is kept."""
        self._timer.stop()
        if self._waiting != self._kept:
            self._write(self._waiting)

    def forget(self) -> None:
        """The officer discarded the marks (or has none): nothing stays kept."""
        self._timer.stop()
        self._waiting = ()
        if self._kept:
            self._write(())

    def _write(self, marks: tuple[Mark, ...]) -> None:
        self._kept = marks
        store, photo_id = self._store, self._photo_id
        # No parent: a write queued as the dialog closes still runs; the database thread keeps the order.
        Op(None, lambda: store.keep_annotation_draft(photo_id, marks), what="keep the marks drawn") \
            .failure(self._on_failed).run()

    def _on_failed(self, failure: TaskFailure) -> None:
        self._kept = ()   # try again on the next change
        self.sig_failed.emit(failure.message)
