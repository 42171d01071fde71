"""The lead's view of one submitted visit: every answer, hazard, note and photo.

Answers are labelled from the visit's template and grouped by its sections. When the
lead returned the visit before, what the officer changed since is highlighted
(added, changed, removed), with a summary at the top.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QIcon, QImage, QPixmap, QResizeEvent
from PySide6.QtWidgets import (
    QFormLayout,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from fieldapp.domain import is_blank
from fieldapp.domain_forms import FormShape
from fieldapp.types import Photo, Section, VisitChanges
from ui.format import date_text, label
from ui.hazard_text import line_text
from ui.letter import SummaryStatusWidget
from ui.questions import Answer
from ui.repeat_section import repetition_title, repetition_value
from ui.review.answer_text import answer_text
from ui.review.assessment_text import assessment_rows
from ui.review.photo_loader import THUMBNAIL_EDGE
from ui.review.queue_rows import age_text
from ui.review.review_data import ReviewData
from ui.widgets import ElidedLabel

PHOTO_COLUMNS = 4


def changes_summary(changes: VisitChanges, data: ReviewData) -> str:
    """One paragraph listing what the officer changed since the visit was returned."""
    parts: list[str] = []
    for title, ids in (("Answers added", changes.answers_added), ("Answers changed", changes.answers_changed),
                       ("Answers removed", changes.answers_removed)):
        if ids:
            parts.append(f"{title}: " + ", ".join(data.question_label(i) for i in ids))
    if changes.photos_added:
        parts.append(f"Photos added: {len(changes.photos_added)}")
    if changes.photos_removed:
        parts.append(f"Photos removed: {len(changes.photos_removed)}")
    if changes.hazards_changed:
        parts.append("Hazards changed")
    if changes.notes_changed:
        parts.append("Notes changed")
    text = "Changed since you returned it — " + "; ".join(parts) + "." if parts else \
        "Resubmitted with no changes since you returned it."
    if changes.returned_comment:
        text += f"\nYou returned it with: “{changes.returned_comment}”"
    return text


class PhotoTileButton(QToolButton):
    """One photo of the visit: thumbnail (once fetched), caption, click to enlarge."""

    def __init__(self, photo: Photo, question_label: str | None, added: bool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.photo = photo
        self.setObjectName("reviewPhoto")
        self.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextUnderIcon)
        self.setIconSize(QSize(THUMBNAIL_EDGE, THUMBNAIL_EDGE * 3 // 4))
        # A fixed size: the grid does not jump as thumbnails arrive one by one.
        text_lines = self.fontMetrics().lineSpacing() * 3
        self.setFixedSize(THUMBNAIL_EDGE + 16, THUMBNAIL_EDGE * 3 // 4 + text_lines + 16)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.added = added
        caption = photo.caption or "No caption"
        self._caption = ("New · " if added else "") + caption + (f"\n({question_label})" if question_label else "")
        self.setToolTip(f"{caption} — {photo.width}×{photo.height}. Click to open full size.")
        self.setAccessibleName(f"Photo: {caption}")
        self.show_state("Downloading…")

    def show_state(self, text: str) -> None:
        """Show a status line (downloading, failed) in place of the thumbnail."""
        self.setText(f"{text}\n{self._caption}")

    def set_image(self, image: QImage) -> None:
        """Show the decoded thumbnail (QPixmap made here, on the GUI thread)."""
        self.setIcon(QIcon(QPixmap.fromImage(image)))
        self.setText(self._caption)

    @property
    def loaded(self) -> bool:
        return not self.icon().isNull()


def _framed(tile: PhotoTileButton) -> QFrame:
    """The tile in a frame that marks photos added since the visit was returned.

    The mark sits on a frame because a style sheet border on the button itself makes
    Qt draw it as a styled panel, which shrinks the thumbnail and hides the caption.
    """
    frame = QFrame()
    frame.setObjectName("reviewPhotoFrame")
    if tile.added:
        frame.setProperty("change", "added")
    layout = QVBoxLayout(frame)
    layout.setContentsMargins(2, 2, 2, 2)
    layout.addWidget(tile)
    return frame


class VisitReviewWidget(QWidget):
    """Shows a `ReviewData`; the approve/return buttons only emit signals."""

    sig_back = Signal()
    sig_approve = Signal()
    sig_return = Signal()
    sig_open_photo = Signal(object)   # Photo

    #: The page's scroll area (the name hides QWidget.scroll(), which nothing here calls).
    scroll: QScrollArea  # type: ignore[assignment]

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.data: ReviewData | None = None
        self.tiles: dict[str, PhotoTileButton] = {}
        self._photo_frames: list[QFrame] = []
        self._photo_grid = QGridLayout()
        self._photo_grid_columns = 0

        outer = QVBoxLayout(self)
        bar = QHBoxLayout()
        self.back_button = QPushButton("← Queue")
        self.back_button.setToolTip("Back to the review queue (Esc)")
        self.back_button.setShortcut("Esc")
        self.back_button.clicked.connect(self.sig_back)
        # Elided (tooltip: all of it): a long address pushed Approve and Return off a 1366x768 screen at 150 %.
        self.title_label = ElidedLabel()
        self.title_label.setObjectName("reviewTitle")
        self.title_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.approve_button = QPushButton("✔ Approve…")
        self.approve_button.setToolTip("Approve this visit (Ctrl+Shift+A)")
        self.approve_button.setShortcut("Ctrl+Shift+A")
        self.approve_button.clicked.connect(self.sig_approve)
        self.return_button = QPushButton("↩ Return with comment…")
        self.return_button.setToolTip("Send the visit back to the officer with a comment (Ctrl+Shift+R)")
        self.return_button.setShortcut("Ctrl+Shift+R")
        self.return_button.clicked.connect(self.sig_return)
        bar.addWidget(self.back_button)
        bar.addWidget(self.title_label, 1)
        bar.addWidget(self.approve_button)
        bar.addWidget(self.return_button)
        outer.addLayout(bar)

        self.meta_label = QLabel()
        self.meta_label.setWordWrap(True)
        outer.addWidget(self.meta_label)
        self.comment_label = QLabel()
        self.comment_label.setObjectName("reviewComment")
        self.comment_label.setWordWrap(True)
        outer.addWidget(self.comment_label)
        self.changes_label = QLabel()
        self.changes_label.setObjectName("reviewChanges")
        self.changes_label.setWordWrap(True)
        outer.addWidget(self.changes_label)
        # Whether the tenant has their written summary (Awaab's Law: within 3 working days).
        self.summary_status = SummaryStatusWidget()
        outer.addWidget(self.summary_status)

        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        outer.addWidget(self.scroll, 1)
        self.scroll.setWidget(QWidget())

    # ------------------------------------------------------------------ showing

    def show_review(self, data: ReviewData) -> None:
        """Render every part of the visit (photos appear as their thumbnails arrive)."""
        self.data = data
        visit = data.visit
        item = data.item
        reference = item.case_reference if item else visit.case_id[:8]
        address = f" · {item.address}" if item and item.address else ""
        self.title_label.setText(f"{reference}{address}")
        meta = [f"Officer: {item.officer_name}" if item else f"Officer id: {visit.officer_id}",
                f"Visited: {date_text(visit.started_at)}",
                f"Outcome: {label(visit.outcome)}",
                f"Template: {data.template.name}" if data.template else "Template not on this laptop"]
        if item is not None:
            meta.append(f"Waiting: {age_text(item.received_at, datetime.now(UTC))}")
        if visit.amends:
            meta.append("Amendment of an approved visit")
        self.meta_label.setText("   ·   ".join(meta))
        self.summary_status.show_visit(visit)

        review = visit.review
        show_comment = review is not None and review.decision == "return" and bool(review.comment)
        self.comment_label.setVisible(show_comment)
        if show_comment and review is not None:
            self.comment_label.setText(f"You returned it {date_text(review.decided_at)}: “{review.comment}”")
        changes = data.changes
        self.changes_label.setVisible(changes is not None)
        if changes is not None:
            self.changes_label.setText(changes_summary(changes, data))

        body = QWidget()
        layout = QVBoxLayout(body)
        self._add_sections(layout, data)
        self._add_assessment(layout, data)
        self._add_hazards(layout, data)
        self._add_notes(layout, data)
        self._add_photos(layout, data)
        layout.addStretch(1)
        self.scroll.setWidget(body)
        self.scroll.verticalScrollBar().setValue(0)

    def _change_of(self, question_id: str) -> str | None:
        changes = self.data.changes if self.data else None
        if changes is None:
            return None
        if question_id in changes.answers_added:
            return "added"
        if question_id in changes.answers_changed:
            return "changed"
        if question_id in changes.answers_removed:
            return "removed"
        return None

    def _answer_row(self, form: QFormLayout, question_label: str, text: str, change: str | None) -> None:
        value = QLabel(text + {"added": "   (new)", "changed": "   (changed)"}.get(change or "", ""))
        value.setWordWrap(True)
        value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        if change:
            value.setProperty("change", change)
        name = QLabel(question_label)
        name.setWordWrap(True)
        # Wide enough that ordinary questions stay on one line at 125–150 % scaling.
        name.setMinimumWidth(self.fontMetrics().averageCharWidth() * 36)
        form.addRow(name, value)

    def _add_sections(self, layout: QVBoxLayout, data: ReviewData) -> None:
        answers = data.visit.answers
        photos = {p.id: p for p in data.visit.photos}
        shown: set[str] = set()
        sections = data.template.sections if data.template else ()
        shape = FormShape.of(data.template.rules_document()) if data.template else None
        for section in sections:
            box = QGroupBox(section.title)
            form = QFormLayout(box)
            form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
            if shape is not None and section.repeat:
                self._add_repetitions(form, section, shape, answers, photos)
                shown.update(q.id for q in section.questions)
                layout.addWidget(box)
                continue
            for question in section.questions:
                shown.add(question.id)
                change = self._change_of(question.id)
                if question.id in answers:
                    self._answer_row(form, question.label, answer_text(question, answers[question.id], photos), change)
                elif change == "removed":
                    self._answer_row(form, question.label, "Answer removed since you returned it", change)
                elif shape is None or shape.is_shown(answers, question.id):
                    # A question its show_if hid was never asked: "Not answered" read as a skipped question.
                    self._answer_row(form, question.label, "Not answered", None)
            layout.addWidget(box)
        rest = [qid for qid in answers if qid not in shown]
        removed = [qid for qid in (data.changes.answers_removed if data.changes else ()) if qid not in shown]
        if rest or removed:
            box = QGroupBox("Other answers")
            form = QFormLayout(box)
            for qid in rest:
                self._answer_row(form, qid, answer_text(None, answers[qid], photos), self._change_of(qid))
            for qid in removed:
                self._answer_row(form, qid, "Answer removed since you returned it", "removed")
            layout.addWidget(box)

    def _add_repetitions(self, form: QFormLayout, section: Section, shape: FormShape,
                         answers: Mapping[str, Answer], photos: Mapping[str, Photo]) -> None:
        """A repeat section room by room, titled as the officer's editor titles each repetition.

        Its answers are lists, one value per repetition: read whole they showed "Yes" for [yes, no]
        and "17.5, None" or "['Ceiling'], None" to the lead.
        """
        count = shape.repetitions(answers, section.id)
        if count == 0:   # nobody added a repetition: one line, not a "Not answered" per question
            form.addRow(QLabel("None recorded."))
            return
        first = section.questions[0].id if section.questions else ""
        for index in range(count):
            title = QLabel(repetition_title(index + 1, repetition_value(answers.get(first), index)))
            title.setObjectName("sectionTitle")
            form.addRow(title)
            for question in section.questions:
                if not shape.is_shown(answers, question.id, index):
                    continue   # hidden in this repetition by its show_if: never asked there
                value = repetition_value(answers.get(question.id), index)
                text = "Not answered" if is_blank(value) else answer_text(question, value, photos)
                self._answer_row(form, question.label, text, self._change_of(question.id))

    def _question_label(self, question_id: str) -> str:
        question = self.data.question(question_id) if self.data else None
        return question.label if question else question_id

    def _add_hazards(self, layout: QVBoxLayout, data: ReviewData) -> None:
        hazards = data.visit.all_hazards
        changed = bool(data.changes and data.changes.hazards_changed)
        box = QGroupBox(f"Hazards ({len(hazards)})" + ("  — changed since you returned it" if changed else ""))
        inner = QVBoxLayout(box)
        if not hazards:
            inner.addWidget(QLabel("No hazards recorded."))
        for hazard in hazards:
            row = QLabel(line_text(hazard, self._question_label))
            row.setWordWrap(True)
            if hazard.category_1:
                row.setObjectName("reviewCat1")
            inner.addWidget(row)
        layout.addWidget(box)

    def _add_assessment(self, layout: QVBoxLayout, data: ReviewData) -> None:
        """The officer's finding under Awaab's Law, for the lead to weigh before approving (it was not shown)."""
        rows = assessment_rows(data.visit.assessment)
        if not rows:
            return
        box = QGroupBox("Assessment (Awaab's Law)")
        form = QFormLayout(box)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        for title, text in rows:
            self._answer_row(form, title, text, None)
        layout.addWidget(box)

    def _add_notes(self, layout: QVBoxLayout, data: ReviewData) -> None:
        changed = bool(data.changes and data.changes.notes_changed)
        box = QGroupBox("Notes" + ("  — changed since you returned it" if changed else ""))
        inner = QVBoxLayout(box)
        notes = QLabel(data.visit.notes or "No notes.")
        notes.setWordWrap(True)
        notes.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        if changed:
            notes.setProperty("change", "changed")
        inner.addWidget(notes)
        layout.addWidget(box)

    def _add_photos(self, layout: QVBoxLayout, data: ReviewData) -> None:
        photos: Sequence[Photo] = data.visit.photos
        added = set(data.changes.photos_added) if data.changes else set()
        removed = len(data.changes.photos_removed) if data.changes else 0
        title = f"Photos ({len(photos)})" + (f"  — {removed} removed since you returned it" if removed else "")
        box = QGroupBox(title)
        self._photo_grid = grid = QGridLayout(box)
        self.tiles = {}
        self._photo_frames, self._photo_grid_columns = [], 0
        if not photos:
            grid.addWidget(QLabel("No photos."), 0, 0)
        for photo in photos:
            question_label = data.question_label(photo.question_id) if photo.question_id else None
            tile = PhotoTileButton(photo, question_label, photo.id in added or photo.sha256 in added)
            tile.clicked.connect(lambda _=False, p=photo: self.sig_open_photo.emit(p))
            self.tiles[photo.sha256] = tile
            self._photo_frames.append(_framed(tile))
        self._grid_photos()
        layout.addWidget(box)

    def _photo_columns(self) -> int:
        """As many photo columns as the page's width holds (at most PHOTO_COLUMNS): no sideways scrolling."""
        if not self._photo_frames:
            return PHOTO_COLUMNS
        tile = self._photo_frames[0].sizeHint().width() + self._photo_grid.spacing()
        room = self.scroll.viewport().width() - 4 * self.fontMetrics().averageCharWidth()   # the box's frame and margins
        return max(1, min(PHOTO_COLUMNS, room // max(tile, 1)))

    def _grid_photos(self) -> None:
        """Lay the photo tiles out in rows of as many as fit."""
        columns = self._photo_columns()
        if self._photo_frames and columns == self._photo_grid_columns:
            return
        self._photo_grid_columns = columns
        for frame in self._photo_frames:
            self._photo_grid.removeWidget(frame)
        for n, frame in enumerate(self._photo_frames):
            self._photo_grid.addWidget(frame, n // columns, n % columns)
        for column in range(PHOTO_COLUMNS + 1):
            self._photo_grid.setColumnStretch(column, 1 if column == columns else 0)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self._photo_frames:
            self._grid_photos()

    # ------------------------------------------------------------------ photo results

    def set_thumbnail(self, sha256: str, image: QImage) -> None:
        tile = self.tiles.get(sha256)
        if tile is not None:
            tile.set_image(image)

    def set_photo_failed(self, sha256: str, message: str) -> None:
        tile = self.tiles.get(sha256)
        if tile is not None:
            tile.show_state("⚠ Not available")
            tile.setToolTip(message)

    def unseen_photos(self) -> int:
        """How many photos of the shown visit have no thumbnail yet."""
        return sum(1 for tile in self.tiles.values() if not tile.loaded)

