"""The visit editor's progress line: required answered of those that apply, sections complete, Next unanswered.

The numbers come from the shared rule (`fieldapp.domain_progress`) over the answers as
they are on screen, so a question hidden by ``show_if`` leaves the count the moment it
hides, and a room added to a repeat section adds its questions. "Next unanswered"
(Ctrl+J) goes to the first unanswered required question after the one the officer is
in, round to the top again, as SafetyCulture and Survey123 do.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QWidget

from fieldapp.domain_progress import FormProgress, form_progress
from fieldapp.types import Template
from ui.questions import Answer

NEXT_UNANSWERED_KEYS = "Ctrl+J"


def progress_text(progress: FormProgress, outcome: str | None) -> str:
    """The line's words: "Required answered 3 of 7 · Sections complete 1 of 4"."""
    sections = f"Sections complete {progress.sections_complete} of {progress.sections_total}"
    if progress.required_total == 0:
        reason = "for this outcome" if outcome not in (None, "completed") else "on this form"
        return f"No required questions {reason} · {sections}"
    required = f"Required answered {progress.required_answered} of {progress.required_total}"
    if not progress.done:
        return f"{required} · {sections}"
    # Every visit needs its outcome to be submitted (fieldapp.visits.check_submittable): not ready before it.
    return f"{required} · {sections}" + ("  ✓ ready to submit" if outcome else " · choose the outcome to submit")


class ProgressLineWidget(QFrame):
    """How far the form is done, and a button (Ctrl+J in the editor) to the next unanswered question."""

    sig_jump = Signal(str)   # the question id to go to

    def __init__(self, shortcut_parent: QWidget, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("progressLine")
        self.progress: FormProgress | None = None
        self._outcome: str | None = None
        self._order: tuple[str, ...] = ()
        self._current: Callable[[], str | None] = lambda: None
        self.text = QLabel()
        self.text.setAccessibleName("Form progress")
        self.next_button = QPushButton("Next unanswered")
        self.next_button.setToolTip(
            f"Go to the next required question not yet answered, then the outcome ({NEXT_UNANSWERED_KEYS})")
        self.next_button.clicked.connect(self.jump_to_next)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.text, 1)
        layout.addWidget(self.next_button)
        # Only while the focus is in the editor (never on a hidden page).
        shortcut = QShortcut(QKeySequence(NEXT_UNANSWERED_KEYS), shortcut_parent, self.jump_to_next)
        shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)

    def set_current(self, current: Callable[[], str | None]) -> None:
        """How to tell which question the officer is in (the next jump goes on from there)."""
        self._current = current

    def update_from(self, template: Template | None, answers: Mapping[str, Answer], outcome: str | None,
                    *, editable: bool) -> None:
        """Count again from the answers on screen; hidden for a visit that can no longer be edited."""
        if template is None or not editable:
            self.progress = None
            self.hide()
            return
        self._order = tuple(q.id for s in template.sections for q in s.questions)
        self.progress = form_progress(template.rules_document(), answers, outcome)
        self._outcome = outcome
        self.text.setText(progress_text(self.progress, outcome))
        # Every question answered but no outcome: the line asks for it, so the button goes there.
        self.next_button.setEnabled(bool(self.progress.unanswered) or not outcome)
        self.show()

    def jump_to_next(self) -> None:
        """Ask the editor to go to the next unanswered required question after the current one, else the outcome."""
        if self.progress is None:
            return
        target = self.progress.next_unanswered(self._current(), self._order)
        if target is None and not self._outcome:
            target = "outcome"   # the editor's jump_to knows it
        if target is not None:
            self.sig_jump.emit(target)
