"""The visit's photos: import many at once (dialog or drag and drop) off the GUI thread
and never ahead of a save (`ui.photo_import`), a thumbnail grid, caption, attach to a
question, annotate (`ui.annotate_dialog`: a marked-up copy), enlarge and remove."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from functools import partial
from pathlib import Path

from PySide6.QtCore import QMimeData, QSize, Signal
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QListView,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from fieldapp.types import Photo, Visit
from ui.annotate_dialog import AnnotateDialog
from ui.context import AppContext
from ui.images import load_image
from ui.look import icon
from ui.models import PhotoListModel, RowRole
from ui.photo_import import ImportResult, PhotoImportJob
from ui.review.photo_dialog import PhotoDialog
from ui.tasks import Op, TaskFailure, TaskProgress
from ui.widgets import ProblemLabel

PHOTO_FILTER = "Photos (*.jpg *.jpeg *.png *.JPG *.JPEG *.PNG);;All files (*)"
#: Opens the annotation of the chosen photo from anywhere in the visit editor.
ANNOTATE_KEYS = "Ctrl+Shift+M"


def local_files(mime: QMimeData) -> list[Path]:
    """The local files among dropped URLs."""
    return [Path(url.toLocalFile()) for url in mime.urls() if url.isLocalFile()]


class PhotoViewerDialog(PhotoDialog):
    """The officer's photo, fitted to a window no larger than the screen (the lead's viewer, loading from disk).

    At full size a camera photo needed scrolling both ways to see it whole at 1366x768 with 150 %.
    """

    def __init__(self, ctx: AppContext, photo: Photo, parent: QWidget | None = None) -> None:
        super().__init__(photo, parent)
        path = photo.path
        if path is None:
            self.set_failed("This photo is not on this laptop yet. Sync to download it.")
            return
        Op(self, lambda: load_image(path, 4096), network=True).success(self.set_image) \
            .failure(lambda f: self.set_failed(f.message)).run()


def distinct_labels(labels: Sequence[str]) -> list[str]:
    """Labels as a list offers them: a label two questions share is numbered ("Notes (2)"), so each names one."""
    distinct: list[str] = []
    for text in labels:
        shown, number = text, 1
        while shown in distinct or (shown != text and shown in labels):   # never another question's own label
            number += 1
            shown = f"{text} ({number})"
        distinct.append(shown)
    return distinct


class PhotoPanelWidget(QWidget):
    """Thumbnails of the visit's photos with their actions."""

    sig_photos_changed = Signal(object)   # tuple[Photo, ...]
    sig_import_finished = Signal(object)  # ImportResult

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self.visit_id: str | None = None
        self.question_labels: dict[str, str] = {}
        #: Which questions a photo may be attached to now (those on screen); None = all of them.
        self.attachable_questions: Callable[[], Collection[str]] | None = None
        self.viewer: PhotoViewerDialog | None = None
        self.annotator: AnnotateDialog | None = None
        self.last_result: ImportResult | None = None
        self._loading_thumbs: set[str] = set()
        self._select_after_reload: str | None = None   # the photo to choose once the grid is refreshed

        self.model = PhotoListModel(self)
        self.model.set_placeholder(icon("photo"))
        self.view = QListView()
        self.view.setViewMode(QListView.ViewMode.IconMode)
        self.view.setResizeMode(QListView.ResizeMode.Adjust)
        self.view.setMovement(QListView.Movement.Static)
        self.view.setWordWrap(True)
        # Each cell its own size: a portrait photo is taller, a caption may take three lines.
        self.view.setUniformItemSizes(False)
        edge = self.fontMetrics().height() * 7
        self.view.setIconSize(QSize(edge, edge))
        self.view.setGridSize(QSize(int(edge * 1.25), int(edge + self.fontMetrics().lineSpacing() * 3.2)))
        self.view.setMinimumHeight(int(edge + self.fontMetrics().lineSpacing() * 4))
        self.view.setModel(self.model)
        self.view.setAccessibleName("Photos of this visit")
        self.view.activated.connect(lambda _i: self.enlarge())

        self.hint = QLabel("Drop photos here, or use Add photos. JPEG and PNG files.")
        self.hint.setObjectName("dropHint")
        self.hint.setWordWrap(True)
        self.progress = QProgressBar()
        self.stop_button = QPushButton("Stop importing")
        self.stop_button.setToolTip("Photos already added stay; the others are not added")
        self.stop_button.clicked.connect(self.cancel_imports)
        self._imports: list[PhotoImportJob] = []
        progress_row = QHBoxLayout()
        progress_row.addWidget(self.progress, 1)
        progress_row.addWidget(self.stop_button)
        self._show_progress(False)
        self.message = ProblemLabel()

        self.add_button = QPushButton(icon("photo"), "Add photos…")
        self.add_button.setToolTip("Add photos from files (Ctrl+Shift+P)")
        self.caption_button = QPushButton("Caption…")
        self.attach_button = QPushButton("Attach to question…")
        self.annotate_button = QPushButton("Annotate…")
        self.annotate_button.setToolTip(f"Mark up a copy of this photo: arrow, circle, line or text ({ANNOTATE_KEYS}); "
                                        "the original stays as it is")
        self.enlarge_button = QPushButton(icon("enlarge"), "Enlarge")
        self.remove_button = QPushButton(icon("remove"), "Remove")
        buttons = QHBoxLayout()
        for button in (self.add_button, self.caption_button, self.attach_button, self.annotate_button,
                       self.enlarge_button, self.remove_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        self.add_button.clicked.connect(self.choose_files)
        self.caption_button.clicked.connect(self.edit_caption)
        self.attach_button.clicked.connect(self.attach_to_question)
        self.annotate_button.clicked.connect(self.annotate)
        self.enlarge_button.clicked.connect(self.enlarge)
        self.remove_button.clicked.connect(self.remove_selected)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(buttons)
        layout.addWidget(self.hint)
        layout.addWidget(self.view, 1)
        layout.addLayout(progress_row)
        layout.addWidget(self.message)
        self.view.selectionModel().selectionChanged.connect(lambda *_: self._update_buttons())
        self._read_only = False
        self._update_buttons()

    # ------------------------------------------------------------ state

    def set_photos(self, visit_id: str, photos: Sequence[Photo], question_labels: dict[str, str]) -> None:
        kept = self.selected() if visit_id == self.visit_id else None
        self.visit_id = visit_id
        self.question_labels = question_labels
        self.model.set_question_labels(question_labels)
        self.model.set_rows(photos)
        if kept is not None:
            # The photo just captioned or attached stays chosen: the reset cleared it, and its buttons greyed out.
            self.select_photo(kept.id)
        self.hint.setVisible(not photos and not self._read_only)
        self._load_thumbnails()
        self._update_buttons()

    def set_read_only(self, read_only: bool) -> None:
        self._read_only = read_only
        self.hint.setVisible(not read_only and self.model.rowCount() == 0)
        self._update_buttons()

    def selected(self) -> Photo | None:
        index = self.view.currentIndex()
        return index.data(RowRole) if index.isValid() else None

    def _update_buttons(self) -> None:
        chosen = self.selected() is not None
        self.add_button.setEnabled(not self._read_only)
        for button in (self.caption_button, self.attach_button, self.remove_button):
            button.setEnabled(chosen and not self._read_only)
        photo = self.selected()
        self.annotate_button.setEnabled(photo is not None and photo.path is not None and not self._read_only)
        self.enlarge_button.setEnabled(chosen)

    def _load_thumbnails(self) -> None:
        """Decode thumbnails on the pool; each arrives as a QImage and becomes a pixmap here."""
        edge = self.view.iconSize().width()
        for photo in self.model.missing_thumbnails():
            path = photo.thumbnail_path or photo.path
            if path is None or photo.id in self._loading_thumbs:
                continue
            self._loading_thumbs.add(photo.id)
            photo_id = photo.id
            Op(self, partial(load_image, path, edge), network=True, what="show a thumbnail") \
                .success(partial(self.model.set_thumbnail, photo_id)) \
                .failure(self._on_thumbnail_failed) \
                .finally_(partial(self._loading_thumbs.discard, photo_id)).run()

    # ------------------------------------------------------------ import

    def choose_files(self) -> None:
        if self._read_only:
            return
        dialog = QFileDialog(self, "Add photos", str(Path.home()), PHOTO_FILTER)
        dialog.setFileMode(QFileDialog.FileMode.ExistingFiles)
        dialog.filesSelected.connect(lambda files: self.import_files([Path(f) for f in files]))
        dialog.open()

    def import_files(self, paths: Sequence[Path]) -> None:
        """Import files off the GUI thread with progress; bad files are named afterwards.

        Saves never wait behind the import: see `ui.photo_import`.
        """
        if self.visit_id is None or self._read_only or not paths:
            return
        job = PhotoImportJob(self._ctx.store, self.visit_id, list(paths))
        self._imports.append(job)
        self.progress.setRange(0, 100)
        self.progress.setValue(0)
        self.progress.setFormat("Importing photos… %p%")
        self._show_progress(True)
        self.message.hide()
        # Bound methods, so the connections end with this panel (the job goes on without it).
        job.sig_progress.connect(self._on_import_progress)
        job.sig_finished.connect(self._on_import_job_finished)
        job.start()

    @property
    def running_imports(self) -> tuple[PhotoImportJob, ...]:
        """Imports still under way (tests and the window's close check read it)."""
        return tuple(self._imports)

    def cancel_imports(self) -> None:
        """Stop every running import (what was added stays)."""
        for job in self._imports:
            job.cancel()

    def _show_progress(self, visible: bool) -> None:
        self.progress.setVisible(visible)
        self.stop_button.setVisible(visible)

    def _on_import_job_finished(self, result: ImportResult) -> None:
        self._imports = [job for job in self._imports if not job.finished]
        if not self._imports:
            self._show_progress(False)
        self._on_imported(result)

    def _on_import_progress(self, update: TaskProgress) -> None:
        self.progress.setValue(int(update.fraction * 100))
        self.progress.setFormat(f"{update.text}  %p%")

    def _on_imported(self, result: ImportResult) -> None:
        self.last_result = result
        if result.cancelled:
            count = len(result.added)
            self.message.say(f"Import stopped. {count} photo{'s were' if count != 1 else ' was'} added; "
                             "add the others again when you want them.")
        elif result.refused:
            # The core's messages usually name the file already; name it once.
            lines = "\n".join(f"•  {r.reason}" if r.name in r.reason else f"•  {r.name}: {r.reason}"
                              for r in result.refused)
            count = len(result.refused)
            self.message.say(f"{count} file{'s were' if count > 1 else ' was'} not added:\n{lines}"
                             + (f"\n{len(result.added)} other photo(s) were added." if result.added else ""))
        self.sig_import_finished.emit(result)
        self.reload()

    def _on_import_failed(self, failure: TaskFailure) -> None:
        self.message.say(f"Photos could not be added: {failure.message}")

    # ------------------------------------------------------------ actions

    def reload(self) -> None:
        if self.visit_id is None:
            return
        store, visit_id = self._ctx.store, self.visit_id
        Op(self, lambda: store.visit(visit_id), what="show the visit's photos").success(self._on_reloaded) \
            .failure(self._on_reload_failed).run()

    def _on_reload_failed(self, failure: TaskFailure) -> None:
        self.message.say(f"The photos could not be shown: {failure.message} They are kept with the visit; "
                         "go back and open the visit again.")

    def _on_thumbnail_failed(self, failure: TaskFailure) -> None:
        # The photo record and its file stay as they are; only the small picture is missing.
        self.message.say(f"A thumbnail could not be made: {failure.message} The photo stays attached; "
                         "Enlarge shows it, or remove it and add the file again.")

    def _on_reloaded(self, visit: Visit) -> None:
        photos = tuple(visit.photos)
        self.set_photos(self.visit_id or "", photos, self.question_labels)
        chosen, self._select_after_reload = self._select_after_reload, None
        if chosen is not None:
            self.select_photo(chosen)
        self.sig_photos_changed.emit(photos)

    def select_photo(self, photo_id: str) -> None:
        """Make the photo with this id the current one in the grid (nothing if it is not there)."""
        for row, photo in enumerate(self.model.photos()):
            if photo.id == photo_id:
                self.view.setCurrentIndex(self.model.index(row))
                return

    def _run_then_reload(self, fn: Callable[[], object]) -> None:
        Op(self, fn).success(lambda _r: self.reload()).failure(self._on_import_failed).run()

    def edit_caption(self) -> None:
        photo = self.selected()
        if photo is None or self._read_only:
            return
        dialog = QInputDialog(self)
        dialog.setWindowTitle("Caption")
        dialog.setLabelText("What does this photo show?")
        dialog.setTextValue(photo.caption)
        store = self._ctx.store
        dialog.textValueSelected.connect(lambda text: self._run_then_reload(
            lambda: store.update_photo(photo.id, caption=text.strip())))
        dialog.open()

    def attach_to_question(self) -> None:
        photo = self.selected()
        if photo is None or self._read_only or not self.question_labels:
            return
        dialog = QInputDialog(self)
        dialog.setWindowTitle("Attach to question")
        dialog.setLabelText("Which question does this photo show?")
        # Only questions the form shows now: a question hidden by its show_if is not answered.
        shown = self.attachable_questions() if self.attachable_questions else self.question_labels
        ids = [qid for qid in self.question_labels if qid in shown]
        if not ids:
            return
        choices = distinct_labels([self.question_labels[q] for q in ids])
        dialog.setComboBoxItems(choices)
        dialog.setComboBoxEditable(False)
        store = self._ctx.store
        dialog.textValueSelected.connect(lambda text: self._run_then_reload(
            lambda: store.update_photo(photo.id, question_id=ids[choices.index(text)])))
        dialog.open()

    def enlarge(self) -> None:
        photo = self.selected()
        if photo is None:
            return
        self.viewer = PhotoViewerDialog(self._ctx, photo, self)
        self.viewer.open()

    def annotate(self) -> None:
        """Open the chosen photo to mark it up; the copy saved joins the visit and is chosen in the grid."""
        photo = self.selected()
        if self._read_only:
            return
        if photo is None or photo.path is None:
            self.message.say("Choose the photo to annotate first: click it, or move to it with the arrow keys."
                             if photo is None else "This photo is not on this laptop yet; sync to download it.")
            return
        number = [p.id for p in self.model.photos()].index(photo.id) + 1
        self.annotator = AnnotateDialog(self._ctx, photo, number, self)
        self.annotator.sig_saved.connect(self._on_annotated)
        self.annotator.open()

    def _on_annotated(self, photo: Photo) -> None:
        self._select_after_reload = photo.id
        self.reload()

    def remove_selected(self) -> None:
        photo = self.selected()
        if photo is None or self._read_only:
            return
        store = self._ctx.store
        self._run_then_reload(lambda: store.remove_photo(photo.id))
