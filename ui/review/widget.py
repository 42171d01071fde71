"""`ReviewWidget`: the team lead's "Review" page — the queue, one visit, and decisions.

Every store call runs on the task manager's database executor and every download on
its network pool; this widget only shows results. Decisions are queued in the store
(`FieldStore.decide`) and sent by the next sync, so they work offline; a decision the
portal refuses (another lead decided first, or the visit is not the lead's team's)
comes back from sync as a problem, which this page shows as a notice.
"""

from __future__ import annotations

from collections.abc import Callable
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QLabel, QStackedWidget, QVBoxLayout, QWidget

from fieldapp.domain import Decision
from fieldapp.types import Photo, Problem, ReviewItem, counted
from ui.letter import TenantLetterDialog
from ui.review.decide_dialog import DecideDialog
from ui.review.keyboard import ReviewKeys
from ui.review.photo_dialog import PhotoDialog
from ui.review.photo_loader import BlobSource, ReviewPhotoLoader
from ui.review.queue_widget import ReviewQueueWidget
from ui.review.review_data import ReviewData, load_review
from ui.review.visit_view import VisitReviewWidget
from ui.tasks import Op, TaskFailure
from ui.widgets import repolish

if TYPE_CHECKING:
    from fieldapp.store import FieldStore
    from ui.context import AppContext

ClientSource = Callable[[], BlobSource | None]


def _queue_and_problems(store: FieldStore) -> tuple[list[ReviewItem], list[Problem]]:
    """The review queue and the lead's decision problems, read together (database thread)."""
    return store.review_queue(), [p for p in store.problems() if p.entity == "review"]


class ReviewWidget(QWidget):
    """The lead's review page: queue → visit → approve or return with a comment."""

    sig_queue_loaded = Signal(int)        # rows in the queue
    sig_visit_shown = Signal(str)         # visit id
    sig_decided = Signal(str, str)        # visit id, decision (queued for the next sync)
    sig_show_problems = Signal()          # the lead asked for the "Needs attention" view

    def __init__(self, store: FieldStore, parent: QWidget | None = None, *,
                 client: ClientSource | BlobSource | None = None) -> None:
        super().__init__(parent)
        self._store = store
        self._client: ClientSource = lambda: None
        self.set_client(client)
        self.problems: list[Problem] = []
        self.decide_dialog: DecideDialog | None = None
        self.photo_dialog: PhotoDialog | None = None

        self.loader = ReviewPhotoLoader(store, lambda: self._client(), self)
        self.queue = ReviewQueueWidget()
        self.visit_view = VisitReviewWidget()
        self.stack = QStackedWidget()
        self.stack.addWidget(self.queue)
        self.stack.addWidget(self.visit_view)

        self.notice_label = QLabel()
        self.notice_label.setObjectName("reviewNotice")
        self.notice_label.setWordWrap(True)
        self.notice_label.setTextFormat(Qt.TextFormat.RichText)
        self.notice_label.linkActivated.connect(lambda _link: self.sig_show_problems.emit())
        self.notice_label.hide()
        self.attention_label = QLabel()
        self.attention_label.setObjectName("reviewAttention")
        self.attention_label.setWordWrap(True)
        self.attention_label.setProperty("notice", "attention")
        self.attention_label.linkActivated.connect(lambda _link: self.sig_show_problems.emit())
        self.attention_label.hide()

        layout = QVBoxLayout(self)
        layout.addWidget(self.attention_label)
        layout.addWidget(self.notice_label)
        layout.addWidget(self.stack, 1)

        self.queue.sig_open.connect(self.open_item)
        self.visit_view.sig_back.connect(self.show_queue)
        self.visit_view.sig_approve.connect(lambda: self.ask_decision(Decision.APPROVE))
        self.visit_view.sig_return.connect(lambda: self.ask_decision(Decision.RETURN))
        self.visit_view.sig_open_photo.connect(self.open_photo)
        self.visit_view.summary_status.use_store(store)
        self.visit_view.summary_status.sig_open_letter.connect(self.open_letter)
        #: The council's letter template (site config); None uses the shipped one.
        self.letter_template: Path | None = None
        self.letter_dialog: TenantLetterDialog | None = None
        self.loader.sig_thumbnail.connect(self.visit_view.set_thumbnail)
        self.loader.sig_failed.connect(self._on_loader_failed)
        self.loader.sig_full.connect(self._on_loader_full)
        self.keys = ReviewKeys(self)

    @classmethod
    def from_context(cls, context: "AppContext", parent: QWidget | None = None) -> "ReviewWidget":
        """Build the page from the app's shared parts; it refreshes whenever their data changes."""
        widget = cls(context.store, parent, client=lambda: context.client)
        widget.letter_template = context.settings.letter_template if context.settings else None
        context.signals.sig_data_changed.connect(widget.refresh)
        # A decision changes what waits to be sent: the status bar's counts refresh too.
        widget.sig_decided.connect(lambda _visit, _decision: context.signals.sig_data_changed.emit())
        return widget

    def set_client(self, client: ClientSource | BlobSource | None) -> None:
        """The portal client for photo downloads (or a callable giving the current one)."""
        if client is None:
            self._client = lambda: None
        elif isinstance(client, BlobSource):
            self._client = lambda: client
        else:
            self._client = client

    # ------------------------------------------------------------------ queue

    def refresh(self) -> None:
        """Reload the queue and the decision problems (call after every sync)."""
        store = self._store
        (Op(self, lambda: _queue_and_problems(store))
         .success(self._on_queue_loaded)
         .failure(lambda f: self.show_notice(f"The review queue could not be read: {f.message}", "attention"))
         .run())

    def _on_queue_loaded(self, result: tuple[list[ReviewItem], list[Problem]]) -> None:
        items, problems = result
        self.queue.set_items(items)
        self.problems = problems
        if problems:
            first = escape(problems[0].message)   # rich text (for the link): a comment or reference shown as typed
            more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
            self.attention_label.setText(
                f"⚠ {counted(len(problems), 'decision')} need{'s' if len(problems) == 1 else ''} "
                f"attention: {first}{more} <a href='problems'>Open Needs attention</a>")
        self.attention_label.setVisible(bool(problems))
        self.sig_queue_loaded.emit(len(items))

    def show_queue(self) -> None:
        self.stack.setCurrentWidget(self.queue)
        self.queue.table.setFocus()

    # ------------------------------------------------------------------ one visit

    def open_item(self, item: ReviewItem, *, after_decision: bool = False) -> None:
        """Load and show one visit of the queue; its photos start downloading."""
        self.open_visit(item.visit_id, item, after_decision=after_decision)

    def open_visit(self, visit_id: str, item: ReviewItem | None = None, *, after_decision: bool = False) -> None:
        """Load and show a visit by id (the queue row, when known, gives officer and address).

        ``after_decision``: opened by itself once a decision was saved, so that decision's notice
        stays (hidden, the lead saw the next visit appear with no word of the one just decided).
        """
        if not after_decision:
            self.notice_label.hide()   # the previous decision's notice belongs to the queue, not to this visit
        store = self._store
        (Op(self, lambda: load_review(store, visit_id, item))
         .success(self._on_review_loaded)
         .failure(lambda f: self.show_notice(f"The visit could not be opened: {f.message}", "attention"))
         .run())

    def _on_review_loaded(self, data: ReviewData) -> None:
        self.visit_view.show_review(data)
        self.stack.setCurrentWidget(self.visit_view)
        decided = data.visit.state.value not in ("submitted",)
        self.visit_view.approve_button.setEnabled(not decided)
        self.visit_view.return_button.setEnabled(not decided)
        for photo in data.visit.photos:
            self.loader.request_thumbnail(photo)
        self.sig_visit_shown.emit(data.visit.id)

    def open_letter(self) -> None:
        """The tenant's letter of the visit on show (preview, print, save, record as given)."""
        data = self.visit_view.data
        if data is None:
            return
        self.letter_dialog = TenantLetterDialog(self._store, data.visit.id, self.letter_template, self)
        self.letter_dialog.open()

    def open_photo(self, photo: Photo) -> None:
        """Open a photo full size (downloaded first if it is not on this laptop)."""
        self.photo_dialog = PhotoDialog(photo, self)
        self.photo_dialog.open()
        self.loader.request_full(photo)

    def _on_loader_full(self, sha256: str, image: QImage) -> None:
        if self.photo_dialog is not None and self.photo_dialog.photo.sha256 == sha256:
            self.photo_dialog.set_image(image)

    def _on_loader_failed(self, sha256: str, message: str) -> None:
        self.visit_view.set_photo_failed(sha256, message)
        if self.photo_dialog is not None and self.photo_dialog.photo.sha256 == sha256:
            self.photo_dialog.set_failed(message)

    # ------------------------------------------------------------------ decisions

    def ask_decision(self, decision: Decision) -> None:
        """Open the decision dialog for the visit shown (non-blocking)."""
        data = self.visit_view.data
        if data is None:
            return
        reference = _reference(data)
        unseen = self.visit_view.unseen_photos()
        self.decide_dialog = DecideDialog(decision, reference, unseen_photos=unseen, parent=self)
        dialog = self.decide_dialog
        dialog.accepted.connect(lambda: self.decide(data.visit.id, dialog.decision, dialog.comment))
        dialog.open()

    def decide(self, visit_id: str, decision: Decision, comment: str) -> None:
        """Queue the decision in the store; it goes to the portal with the next sync."""
        store = self._store
        data = self.visit_view.data
        reference = _reference(data) if data is not None and data.visit.id == visit_id else ""
        self.visit_view.approve_button.setEnabled(False)
        self.visit_view.return_button.setEnabled(False)
        (Op(self, lambda: store.decide(visit_id, decision.value, comment))
         .success(lambda _none: self._on_decided(visit_id, decision, reference))
         .failure(lambda f: self._on_decide_failed(f))
         .run())

    def _on_decided(self, visit_id: str, decision: Decision, reference: str) -> None:
        verb = "Approved" if decision == Decision.APPROVE else "Returned to the officer"
        # Named: the next visit opens at once, and the notice stays above it.
        which = f": {reference}" if reference else ""
        self.show_notice(f"{verb}{which}. The decision is saved on this laptop and goes to the portal at the next sync.")
        self.keys.decided(visit_id)   # the next visit of the queue opens once it has reloaded
        self.refresh()
        self.sig_decided.emit(visit_id, decision.value)

    def _on_decide_failed(self, failure: TaskFailure) -> None:
        self.visit_view.approve_button.setEnabled(True)
        self.visit_view.return_button.setEnabled(True)
        self.show_notice(f"The decision was not saved: {failure.message}", "attention")

    def show_notice(self, text: str, kind: str = "info") -> None:
        """A calm line above the page (never a modal error dialog)."""
        self.notice_label.setProperty("notice", kind)
        repolish(self.notice_label)
        self.notice_label.setText(escape(text))   # rich text (for the problems link): messages shown as typed
        self.notice_label.show()


def _reference(data: ReviewData) -> str:
    """The case reference a decision names (the case id's start when the queue row is not known)."""
    return data.item.case_reference if data.item else data.visit.case_id[:8]
