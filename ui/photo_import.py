"""Importing photos into a visit without holding up saves.

Preparing a photo (decode, turn upright, scale, strip, encode, write its files:
hundreds of milliseconds for a camera photo) runs on the task manager's background
thread, one file at a time and at low priority (the resampling itself runs in bands on
every core, also lowered). Only the short attach step (one transaction adding the
row) goes through the serial database thread, while the next file is being prepared,
so a save queued during an import waits for at most one attach, never for a decode.

A job outlives the panel that started it: closing the visit does not drop photos the
officer chose. Stopping it stops between files: a photo prepared but not attached is
discarded (its files go unless a photo uses them), an attach not yet begun is
skipped, and what was attached stays attached. The app shutting down stops it too,
but an attach already queued still runs (the database thread finishes its queue).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from fieldapp.photos import PreparedPhoto
from fieldapp.types import Photo
from ui.tasks import Cancelled, Op, TaskFailure, TaskProgress

if TYPE_CHECKING:
    from fieldapp.store import FieldStore

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Refused:
    """A file that was not imported, and why."""

    name: str
    reason: str


@dataclass(frozen=True)
class ImportResult:
    """What an import of several files did."""

    added: tuple[Photo, ...]
    refused: tuple[Refused, ...]
    cancelled: bool = False


class PhotoImportJob(QObject):
    """One import of several files into one visit: prepare on the pool, attach on the database thread."""

    sig_progress = Signal(object)  # TaskProgress
    sig_attached = Signal(object)  # Photo, as each one is added
    sig_finished = Signal(object)  # ImportResult

    #: Jobs under way, kept alive here (not by a widget) until they finish.
    _running: set["PhotoImportJob"] = set()

    def __init__(self, store: FieldStore, visit_id: str, paths: Sequence[Path]) -> None:
        super().__init__()
        self._store = store
        self._visit_id = visit_id
        self._paths = list(paths)
        self._next_index = 0
        self._attaching = 0
        self._preparing = False
        self._added: dict[int, Photo] = {}
        self._refused: dict[int, Refused] = {}
        manager = Op.manager
        # The manager's own event, set when the app shuts down; the officer's Stop sets the other.
        self._shutdown = manager.new_cancel() if manager is not None else threading.Event()
        self._stop = threading.Event()
        self._finished = False

    @property
    def finished(self) -> bool:
        """True once `sig_finished` was emitted."""
        return self._finished

    def start(self) -> None:
        """Begin with the first file."""
        PhotoImportJob._running.add(self)
        self._prepare_next()

    def cancel(self) -> None:
        """Stop after the attach under way; nothing prepared but not attached is kept."""
        self._stop.set()

    def _stopping(self) -> bool:
        return self._stop.is_set() or self._shutdown.is_set()

    # ------------------------------------------------------------ steps

    def _prepare_next(self) -> None:
        if self._stopping() or self._next_index >= len(self._paths):
            self._finish_if_done()
            return
        number = self._next_index
        self._next_index += 1
        path, store, stopping = self._paths[number], self._store, self._stopping
        self._preparing = True
        self._report(number, f"Importing {path.name} ({number + 1} of {len(self._paths)})")

        def prepare() -> PreparedPhoto:
            prepared = store.prepare_photo(path)
            if stopping():  # checked here, not in a callback, so shutdown leaves no file behind
                store.discard_prepared(prepared)
                raise Cancelled()
            return prepared

        Op(self, prepare, background=True) \
            .success(lambda prepared: self._on_prepared(number, prepared)) \
            .failure(lambda failure: self._on_refused(number, failure)) \
            .finally_(self._on_prepare_done).run()

    def _on_prepared(self, number: int, prepared: PreparedPhoto) -> None:
        store, visit_id, stop = self._store, self._visit_id, self._stop

        def attach() -> Photo:
            if stop.is_set():  # stopped while this attach waited its turn
                store.discard_prepared(prepared)
                raise Cancelled()
            return store.attach_photo(visit_id, prepared)

        try:
            Op(self, attach).success(lambda photo: self._on_attached(number, photo)) \
                .failure(lambda failure: self._on_refused(number, failure)) \
                .finally_(self._on_attach_done).run()
        except RuntimeError:  # the app is closing: the staged files are tidied at its next start
            log.info("Not attaching %s: the app is closing", prepared.source.name)
            return
        self._attaching += 1

    def _on_prepare_done(self) -> None:
        self._preparing = False
        self._prepare_next()  # the next file is prepared while this one is attached

    def _on_attached(self, number: int, photo: Photo) -> None:
        self._added[number] = photo
        self.sig_attached.emit(photo)

    def _on_refused(self, number: int, failure: TaskFailure) -> None:
        if not isinstance(failure.error, Cancelled):
            self._refused[number] = Refused(self._paths[number].name, failure.message)

    def _on_attach_done(self) -> None:
        self._attaching -= 1
        self._finish_if_done()

    # ------------------------------------------------------------ end

    def _report(self, done: int, text: str) -> None:
        self.sig_progress.emit(TaskProgress(done / len(self._paths), text))

    def _finish_if_done(self) -> None:
        if self._finished or self._preparing or self._attaching:
            return
        if self._next_index < len(self._paths) and not self._stopping():
            return
        self._finished = True
        PhotoImportJob._running.discard(self)
        if Op.manager is not None:
            Op.manager.forget_cancel(self._shutdown)
        self._report(len(self._paths), "Done")
        self.sig_finished.emit(ImportResult(tuple(self._added[n] for n in sorted(self._added)),
                                            tuple(self._refused[n] for n in sorted(self._refused)),
                                            self._stopping()))
