"""The tenant's written summary on the laptop: preview, print, save, and record that it was given.

The officer makes the letter at the door, offline, before leaving. The store reads what
the letter says on the database thread; the PDF and its page images are made on the
background thread (a letter with six photos takes a few hundred milliseconds), so the
window never waits. What is shown is the PDF itself, drawn by PDFium: the preview, the
print and the saved file are one letter.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from PIL import Image
from PySide6.QtCore import QRect, QSize, Qt, Signal
from PySide6.QtGui import QImage, QPainter, QPixmap, QResizeEvent
from PySide6.QtPrintSupport import QPrintDialog, QPrinter
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from fieldapp.atomic import write_atomic
from fieldapp.letter import LetterFacts, load_template, render_letter
from fieldapp.letter.pages import page_images
from fieldapp.letter.words import LONDON, clock_time, long_date
from fieldapp.summaries import METHODS, photo_files
from fieldapp.types import SummaryIssued, Visit, counted
from ui.tasks import Op, TaskFailure

if TYPE_CHECKING:
    from fieldapp.store import FieldStore

PREVIEW_DPI = 110
#: Printers take page images at up to this resolution (300 dpi is sharp text on paper).
PRINT_DPI = 300
_METHOD_TEXT = {"hand": "Handed over", "post": "Posted", "email": "Emailed"}
_METHOD_DONE = {"hand": "handed over", "post": "posted", "email": "emailed"}


def summary_text(issued: SummaryIssued | None) -> str:
    """Whether and when the tenant's summary was given, for the visit and review screens."""
    if issued is None:
        return "Tenant's summary: not given yet."
    moment = issued.issued_at.astimezone(LONDON)
    text = (f"Tenant's summary: {_METHOD_DONE.get(issued.method, issued.method)} on "
            f"{long_date(moment.date())} at {clock_time(moment)}")
    return text + ("." if issued.sent else " (waiting to sync).")


def _qimage(image: Image.Image) -> QImage:
    """A QImage of a PIL image, on the GUI thread, decoded by Qt from raw PPM (its own copy of the pixels).

    Made on the GUI thread: building page images with Qt on the low-priority background
    thread crashed the next layout of the dialog (heap corruption, in about half the runs).
    PPM is uncompressed, so the round trip costs a few milliseconds a page.
    """
    out = io.BytesIO()
    image.convert("RGB").save(out, "PPM")
    return QImage.fromData(out.getvalue(), "PPM")  # type: ignore[arg-type]  # the stubs say bytes; the binding takes str (and refuses bytes)


@dataclass(frozen=True)
class LetterPages:
    """A finished letter: its PDF bytes and its pages drawn for the screen (PIL images: no Qt off the GUI thread)."""

    pdf: bytes
    pages: tuple[Image.Image, ...]
    reference: str


def make_letter(facts: LetterFacts, template: Path | None, photos_dir: Path, issued_on: date) -> LetterPages:
    """The PDF and its preview pages (background thread); `LetterError` names what to fix."""
    pdf = render_letter(facts, load_template(template), photo_files(photos_dir), issued_on)
    return LetterPages(pdf, tuple(page_images(pdf, PREVIEW_DPI)), facts.reference)


class SummaryStatusWidget(QWidget):
    """One line under a visit: whether its summary was given, Record as given, and the letter's button."""

    sig_open_letter = Signal()
    sig_recorded = Signal(object)    # the Visit, once its summary is recorded as given

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._store: FieldStore | None = None
        self.visit: Visit | None = None
        self.text = QLabel()
        self.text.setObjectName("muted")
        self.record_label = QLabel("Record as:")
        # One button per way it was given: one click records it, nothing to choose first.
        self.record_buttons: dict[str, QPushButton] = {}
        for method in METHODS:
            button = QPushButton(_METHOD_TEXT[method])
            button.setToolTip("Record now that the tenant has the summary (sent to the portal at the next sync)")
            button.clicked.connect(lambda _checked=False, m=method: self.record_given(m))
            self.record_buttons[method] = button
        self.button = QPushButton("Tenant's letter…")
        self.button.setToolTip("Preview, print or save the written summary for the tenant")
        self.button.clicked.connect(self.sig_open_letter.emit)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.text, 1)
        layout.addWidget(self.record_label)
        for button in self.record_buttons.values():
            layout.addWidget(button)
        layout.addWidget(self.button)
        self.hide()

    def use_store(self, store: FieldStore) -> None:
        """Where Record as given writes (the store, through the database thread)."""
        self._store = store

    def show_visit(self, visit: Visit) -> None:
        """Shown for a completed visit (an inspection happened, so a summary is owed)."""
        self.visit = visit
        self.text.setText(summary_text(visit.summary_issued))
        # Recorded against the submitted visit: a draft is not on the portal yet.
        can_record = visit.summary_issued is None and visit.state != "draft" and self._store is not None
        for widget in (self.record_label, *self.record_buttons.values()):
            widget.setVisible(can_record)
        self.setVisible(visit.outcome == "completed")

    def record_given(self, method: str) -> None:
        """Record the summary as given now by ``method`` (hand, post, email), queued for the portal."""
        if self.visit is None or self._store is None:
            return
        store, visit_id = self._store, self.visit.id
        self._enable_recording(False)
        Op(self, lambda: store.record_summary_issued(visit_id, method)) \
            .success(self._on_recorded).failure(lambda f: self.text.setText(f"Not recorded: {f.message}")) \
            .finally_(lambda: self._enable_recording(True)).run()

    def _enable_recording(self, enabled: bool) -> None:
        for button in self.record_buttons.values():
            button.setEnabled(enabled)

    def _on_recorded(self, visit: Visit) -> None:
        self.show_visit(visit)
        self.sig_recorded.emit(visit)


class TenantLetterDialog(QDialog):
    """The letter's pages, with Save as PDF and Print (recording it as given is on the visit's line)."""

    sig_ready = Signal()             # the letter is shown (or its error is)
    sig_saved = Signal(str)          # the path the PDF was saved to
    sig_printed = Signal()

    #: The page's scroll area (the name hides QWidget.scroll(), which nothing here calls).
    scroll: QScrollArea  # type: ignore[assignment]

    def __init__(self, store: FieldStore, visit_id: str, template: Path | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Written summary for the tenant")
        self._store, self._visit_id, self._template = store, visit_id, template
        self.letter: LetterPages | None = None
        self.error: str | None = None
        self._page_views: list[tuple[QLabel, QPixmap]] = []   # each page's view and its drawing at full size

        self.message = QLabel("Making the letter…")
        self.message.setWordWrap(True)
        self.pages = QWidget()
        self.pages_layout = QVBoxLayout(self.pages)
        self.pages_layout.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setWidget(self.pages)
        self.scroll.setAlignment(Qt.AlignmentFlag.AlignHCenter)

        self.save_button = QPushButton("Save as PDF…")
        self.save_button.clicked.connect(self.choose_save)
        self.print_button = QPushButton("Print…")
        self.print_button.clicked.connect(self.choose_printer)
        self.close_button = QPushButton("Close")
        self.close_button.clicked.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(self.message)
        layout.addWidget(self.scroll, 1)
        buttons = QHBoxLayout()
        layout.addLayout(buttons)
        buttons.addWidget(self.save_button)
        buttons.addWidget(self.print_button)
        buttons.addStretch(1)
        buttons.addWidget(self.close_button)
        self._set_ready(False)
        self.resize(QSize(int(8.27 * PREVIEW_DPI) + 60, 720).boundedTo(self.screen().availableSize() * 0.9))
        self.load()

    def _set_ready(self, ready: bool) -> None:
        for button in (self.save_button, self.print_button):
            button.setEnabled(ready)

    # ------------------------------------------------------------ making the letter

    def load(self) -> None:
        """Read the letter's facts (database thread), then draw the letter (background)."""
        store, visit_id = self._store, self._visit_id
        Op(self, lambda: store.letter_facts(visit_id)) \
            .success(self._on_facts).failure(self._on_failed).run()

    def _on_facts(self, facts: LetterFacts) -> None:
        template, photos_dir = self._template, self._store.photos_dir
        today = datetime.now(LONDON).date()
        Op(self, lambda: make_letter(facts, template, photos_dir, today), background=True) \
            .success(self._on_letter).failure(self._on_failed).run()

    def _on_letter(self, letter: LetterPages) -> None:
        self.letter = letter
        self.message.setText(f"Letter for case {letter.reference}: "
                             f"{counted(len(letter.pages), 'page')}. Print it or save it; then, under the "
                             "visit, record how the tenant got it.")
        for page in letter.pages:
            view = QLabel(self.pages)
            self._page_views.append((view, QPixmap.fromImage(_qimage(page))))
            view.setFrameShape(QLabel.Shape.Box)
            self.pages_layout.addWidget(view)
        self._fit_pages()
        self._set_ready(True)
        self.sig_ready.emit()

    def _fit_pages(self) -> None:
        """Each page as wide as the window allows (never wider than drawn): no sideways scrolling on a small screen."""
        margins, style = self.pages_layout.contentsMargins(), self.style()
        # Room left once the vertical scroll bar shows (long letters always have one).
        room = (self.scroll.width() - 2 * self.scroll.frameWidth() - style.pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent)
                - margins.left() - margins.right() - 2 * style.pixelMetric(QStyle.PixelMetric.PM_DefaultFrameWidth))
        for view, pixmap in self._page_views:
            fitted = pixmap if pixmap.width() <= room else pixmap.scaledToWidth(
                max(room, 100), Qt.TransformationMode.SmoothTransformation)
            view.setPixmap(fitted)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit_pages()

    def _on_failed(self, failure: TaskFailure) -> None:
        self.error = failure.message
        self.message.setText(f"The letter cannot be made yet. {failure.message}")
        self.message.setObjectName("problem")
        self.message.style().polish(self.message)
        self._set_ready(False)
        self.sig_ready.emit()

    # ------------------------------------------------------------ saving and printing

    def choose_save(self) -> None:
        """Ask where to save the PDF, then save it."""
        if self.letter is None:
            return
        path, _ = QFileDialog.getSaveFileName(self, "Save the letter as PDF",
                                              str(Path.home() / f"Summary {self.letter.reference}.pdf"),
                                              "PDF files (*.pdf)")
        if path:
            self.save_to(Path(path))

    def save_to(self, path: Path) -> None:
        """Write the PDF (atomically: never a half-written file) off the GUI thread."""
        if self.letter is None:
            return
        pdf = self.letter.pdf
        if path.suffix.lower() != ".pdf":
            path = path.with_name(path.name + ".pdf")
        Op(self, lambda: write_atomic(path, pdf), background=True) \
            .success(lambda _none: self._on_saved(path)) \
            .failure(lambda f: self.message.setText(f"The letter was not saved: {f.message}")).run()

    def _on_saved(self, path: Path) -> None:
        self.message.setText(f"Saved to {path}.")
        self.sig_saved.emit(str(path))

    def choose_printer(self) -> None:
        """The system's print dialog, then print."""
        self.printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        dialog = QPrintDialog(self.printer, self)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self.print_to(self.printer)

    def print_to(self, printer: QPrinter) -> None:
        """Draw the pages for the printer's resolution (background), then send them to it."""
        if self.letter is None:
            return
        pdf, dpi = self.letter.pdf, min(PRINT_DPI, printer.resolution())
        self.print_button.setEnabled(False)
        Op(self, lambda: page_images(pdf, dpi), background=True) \
            .success(lambda pages: self._paint(printer, pages)) \
            .failure(lambda f: self.message.setText(f"The letter was not printed: {f.message}")) \
            .finally_(lambda: self.print_button.setEnabled(True)).run()

    def _paint(self, printer: QPrinter, images: list[Image.Image]) -> None:
        painter = QPainter()
        if not painter.begin(printer):
            self.message.setText("The printer could not be started; check it is on and try again.")
            return
        try:
            for number, image in enumerate(images):
                page = _qimage(image)
                if number:
                    printer.newPage()
                area = painter.viewport()
                size = page.size().scaled(area.size(), Qt.AspectRatioMode.KeepAspectRatio)
                painter.setViewport(QRect(area.x(), area.y(), size.width(), size.height()))
                painter.setWindow(page.rect())
                painter.drawImage(0, 0, page)
                painter.setViewport(area)
                painter.setWindow(area)
        finally:
            painter.end()
        self.message.setText("Sent to the printer.")
        self.sig_printed.emit()
