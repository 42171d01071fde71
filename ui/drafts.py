"""A case's drafts on its page: Continue or Discard each, and the question before starting another visit.

A draft exists only on this laptop; discarding it cannot be undone, so Discard always
asks first and says what would be deleted. The store does the discarding
(`FieldStore.discard_draft`), on the database thread.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from fieldapp.types import Draft
from ui.context import AppContext
from ui.format import date_text
from ui.look import icon
from ui.tasks import Op, TaskFailure
from ui.widgets import clear_layout, wrapping_label


def draft_line(draft: Draft) -> str:
    """A draft in one line: when it was started, the form, and what it holds."""
    kind = "Returned visit with corrections not yet resubmitted" if not draft.discardable else "Draft"
    form = f" · {draft.template_name}" if draft.template_name else ""
    return f"{kind}, started {date_text(draft.started_at)}{form} · {draft.contents}"


class DraftRowWidget(QFrame):
    """One draft: what it holds, Continue, and (for a never-sent draft) Discard."""

    def __init__(self, draft: Draft, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.draft = draft
        self.setObjectName("draftRow")
        self.summary = wrapping_label(draft_line(draft))
        self.continue_button = QPushButton(icon("new_visit"), "Continue")
        self.continue_button.setToolTip("Open this draft and carry on where you left off")
        self.discard_button = QPushButton(icon("remove"), "Discard…")
        self.discard_button.setToolTip("Delete this draft from the laptop (asks first)")
        # The buttons go under the text, so the row fits a narrow case page (1366x768 at 150 %).
        buttons = QHBoxLayout()
        buttons.addWidget(self.continue_button)
        buttons.addWidget(self.discard_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.summary)
        layout.addLayout(buttons)
        # Only once it has a parent: showing a parentless button would open it as a window of its own.
        self.discard_button.setVisible(draft.discardable)


def confirm_discard(title: str, text: str, confirm: str, parent: QWidget | None) -> QMessageBox:
    """Are you sure? A Discard button named ``confirm`` and Cancel, which is the default and Esc."""
    box = QMessageBox(QMessageBox.Icon.Warning, title, text,
                      QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel, parent)
    box.button(QMessageBox.StandardButton.Discard).setText(confirm)
    box.setDefaultButton(QMessageBox.StandardButton.Cancel)
    box.setEscapeButton(QMessageBox.StandardButton.Cancel)
    return box


def lost_text(draft: Draft | None) -> str:
    """What discarding deletes, in a sentence."""
    if draft is None or draft.contents == "nothing entered yet":
        return "It holds nothing yet."
    return f"Its {draft.contents} will be deleted from this laptop."


def discard_question(draft: Draft, reference: str, parent: QWidget | None) -> QMessageBox:
    """Before a draft is thrown away: names what it holds."""
    return confirm_discard("Discard this draft?",
                           f"Discard the draft visit to {reference}, started {date_text(draft.started_at)}?\n\n"
                           f"{lost_text(draft)} It was never sent to the portal, so it cannot be recovered.",
                           "Discard draft", parent)


class DraftQuestionBox(QMessageBox):
    """Before another visit starts on a case that has a draft: continue it, or really start another?"""

    def __init__(self, drafts: Sequence[Draft], reference: str, parent: QWidget | None = None) -> None:
        latest = max(drafts, key=lambda d: d.updated_at)
        count = "a draft visit" if len(drafts) == 1 else f"{len(drafts)} draft visits"
        form = f"{latest.template_name}; " if latest.template_name else ""
        newest = "" if len(drafts) == 1 else "the latest "
        super().__init__(QMessageBox.Icon.Question, "You have a draft for this case",
                         f"You already have {count} to {reference}: {newest}started "
                         f"{date_text(latest.started_at)} ({form}{latest.contents}).\n\n"
                         "Continue it, or start another visit alongside it?",
                         QMessageBox.StandardButton.Cancel, parent)
        self.draft = latest
        self.continue_button = self.addButton("Continue the draft", QMessageBox.ButtonRole.AcceptRole)
        self.another_button = self.addButton("Start another visit", QMessageBox.ButtonRole.ActionRole)
        self.setDefaultButton(self.continue_button)
        self.setEscapeButton(QMessageBox.StandardButton.Cancel)


class DraftsBoxWidget(QGroupBox):
    """The case's drafts, each with Continue and Discard; hidden when there are none."""

    sig_continue = Signal(str)   # the draft's visit id
    sig_discarded = Signal(str)  # the visit id, once the store has deleted it
    sig_message = Signal(str)    # a failure the officer should read

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__("Not submitted yet", parent)
        self._ctx = ctx
        self.setObjectName("draftsBox")
        self.setAccessibleName("Drafts of this case")
        self.rows: list[DraftRowWidget] = []
        self.discard_box: QMessageBox | None = None
        self._reference = ""
        self._layout = QVBoxLayout(self)
        self.hide()

    def set_drafts(self, drafts: Sequence[Draft], reference: str) -> None:
        """Show these drafts of the case ``reference`` (none hides the box)."""
        clear_layout(self._layout)
        self._reference = reference
        self.rows = []
        for draft in drafts:
            row = DraftRowWidget(draft)
            row.continue_button.clicked.connect(lambda _c=False, d=draft: self.sig_continue.emit(d.visit_id))
            row.discard_button.clicked.connect(lambda _c=False, d=draft: self.ask_discard(d))
            self._layout.addWidget(row)
            self.rows.append(row)
        self.setVisible(bool(self.rows))

    def ask_discard(self, draft: Draft) -> None:
        """Ask before discarding; only the Discard button of the question goes on."""
        self.discard_box = discard_question(draft, self._reference, self)
        box = self.discard_box
        box.finished.connect(lambda _r: self._discard(draft) if box.clickedButton() is
                             box.button(QMessageBox.StandardButton.Discard) else None)
        box.open()

    def _discard(self, draft: Draft) -> None:
        store, visit_id = self._ctx.store, draft.visit_id
        Op(self, lambda: store.discard_draft(visit_id)).success(lambda _r: self.sig_discarded.emit(visit_id)) \
            .failure(self._on_discard_failed).run()

    def _on_discard_failed(self, failure: TaskFailure) -> None:
        self.sig_message.emit(f"The draft was not discarded: {failure.message}")
