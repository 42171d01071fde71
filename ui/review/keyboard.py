"""The lead's review by keyboard alone: thirty visits without touching the mouse.

- Alt+Down / Alt+Up: the next / previous visit of the queue (in the queue's order, the
  nearest unmet statutory clock first: `fieldapp.review.queue_order`); on the queue
  itself, the selected visit opens.
- Alt+Right / Alt+Left: the next / previous photo of the visit, full size (Right and Left
  in the photo window too).
- Approve is the default button of a visit: Enter opens the approval, Enter again
  approves (its comment is optional). A return still needs a comment.
- After a decision the next visit of the queue opens at once, not the queue.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QWidget

from fieldapp.types import ReviewItem

if TYPE_CHECKING:
    from ui.review.widget import ReviewWidget

NEXT_VISIT, PREVIOUS_VISIT = "Alt+Down", "Alt+Up"
NEXT_PHOTO, PREVIOUS_PHOTO = "Alt+Right", "Alt+Left"


def neighbour(items: list[ReviewItem], visit_id: str | None, step: int) -> ReviewItem | None:
    """The item ``step`` places from the visit in ``items`` (the first when it is not there); None past either end."""
    ids = [i.visit_id for i in items]
    if not items:
        return None
    if visit_id not in ids:
        return items[0] if step > 0 else items[-1]
    position = ids.index(visit_id) + step
    return items[position] if 0 <= position < len(items) else None


def _shortcut(keys: str, parent: QWidget, slot: Callable[[], object]) -> QShortcut:
    shortcut = QShortcut(QKeySequence(keys), parent, slot)
    shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)  # only while the review page has the focus
    return shortcut


class ReviewKeys(QObject):
    """The review page's keys (see the module docstring); one per ReviewWidget."""

    def __init__(self, review: "ReviewWidget") -> None:
        super().__init__(review)
        self._review = review
        #: The queue as it was when the last decision was made, so "next" survives the queue's reload.
        self._order: list[ReviewItem] = []
        self._after_decision: str | None = None
        _shortcut(NEXT_VISIT, review, lambda: self.step_visit(1))
        _shortcut(PREVIOUS_VISIT, review, lambda: self.step_visit(-1))
        _shortcut(NEXT_PHOTO, review, lambda: self.step_photo(1))
        _shortcut(PREVIOUS_PHOTO, review, lambda: self.step_photo(-1))
        review.sig_visit_shown.connect(self._on_visit_shown)
        review.sig_queue_loaded.connect(self._on_queue_loaded)

    def step_visit(self, step: int) -> None:
        """Open the next (1) or previous (-1) visit of the queue as shown; from the queue, the selected one."""
        review = self._review
        items = review.queue.visible_items()
        if review.stack.currentWidget() is review.visit_view and review.visit_view.data is not None:
            target = neighbour(items, review.visit_view.data.visit.id, step)
        else:
            index = review.queue.table.currentIndex()
            target = review.queue.model.item(index.row()) if index.isValid() else neighbour(items, None, step)
        if target is not None:
            review.open_item(target)

    def step_photo(self, step: int) -> None:
        """Show the next or previous photo of the visit full size (the first or last from none)."""
        review = self._review
        data = review.visit_view.data
        if data is None or not data.visit.photos or review.stack.currentWidget() is not review.visit_view:
            return
        photos = list(data.visit.photos)
        dialog = review.photo_dialog
        ids = [p.id for p in photos]
        if dialog is not None and dialog.isVisible() and dialog.photo.id in ids:
            position = ids.index(dialog.photo.id) + step
            if not 0 <= position < len(photos):
                return
            dialog.close()
        else:
            position = 0 if step > 0 else len(photos) - 1
        review.open_photo(photos[position])
        opened = review.photo_dialog
        if opened is not None:
            for keys, delta in ((NEXT_PHOTO, 1), ("Right", 1), (PREVIOUS_PHOTO, -1), ("Left", -1)):
                _shortcut(keys, opened, partial(self.step_photo, delta))

    def decided(self, visit_id: str) -> None:
        """A decision was saved: the next visit opens once the queue has reloaded without it."""
        self._order = self._review.queue.visible_items()
        self._after_decision = visit_id

    def _on_queue_loaded(self, _count: int) -> None:
        decided, self._after_decision = self._after_decision, None
        if decided is None:
            return
        remaining = {i.visit_id: i for i in self._review.queue.visible_items()}
        ids = [i.visit_id for i in self._order]
        later = ids[ids.index(decided) + 1:] if decided in ids else []
        earlier = ids[:ids.index(decided)] if decided in ids else []
        target = next((remaining[v] for v in [*later, *reversed(earlier)] if v in remaining), None)
        if target is None:
            self._review.show_queue()
        else:
            self._review.open_item(target, after_decision=True)

    def _on_visit_shown(self, _visit_id: str) -> None:
        """Approve is the default: Enter on the visit opens the approval."""
        button = self._review.visit_view.approve_button
        if button.isEnabled():
            button.setAutoDefault(True)
            button.setDefault(True)
            button.setFocus(Qt.FocusReason.OtherFocusReason)
