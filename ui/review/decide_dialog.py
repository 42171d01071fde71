"""The lead's decision dialog: approve (comment optional) or return (comment required)."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QDialog,
    QLabel,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from fieldapp.domain import Decision
from fieldapp.types import counted
from ui.widgets import action_buttons


class DecideDialog(QDialog):
    """Asks for the comment of a decision; for a return the OK button waits for one."""

    def __init__(self, decision: Decision, case_reference: str, *, unseen_photos: int = 0,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.decision = decision
        returning = decision == Decision.RETURN
        self.setWindowTitle(f"Return visit {case_reference}" if returning else f"Approve visit {case_reference}")
        self.setMinimumWidth(440)
        layout = QVBoxLayout(self)

        intro = QLabel(
            "Say what the officer needs to change. They see this comment at the top of the visit."
            if returning else
            "Approving locks the visit. Any later change becomes an amendment.")
        intro.setWordWrap(True)
        layout.addWidget(intro)

        if unseen_photos and not returning:
            # A lead must never approve a visit whose photos they could not see without knowing it.
            warning = QLabel(f"⚠ {counted(unseen_photos, 'photo')} "
                             "could not be shown. You are approving without seeing "
                             f"{'them' if unseen_photos != 1 else 'it'}.")
            warning.setObjectName("reviewWarning")
            warning.setWordWrap(True)
            layout.addWidget(warning)

        self.comment_edit = QPlainTextEdit()
        self.comment_edit.setPlaceholderText(
            "Comment for the officer (required)" if returning else "Comment (optional)")
        self.comment_edit.setTabChangesFocus(True)
        layout.addWidget(self.comment_edit)

        # The app's one primary action of a dialog, styled as every other dialog's.
        self.buttons, self.ok_button = action_buttons(self, "Return to officer" if returning else "Approve")
        layout.addWidget(self.buttons)

        self.comment_edit.textChanged.connect(self._on_comment_changed)
        self._on_comment_changed()
        if returning:
            self.comment_edit.setFocus()
        else:
            # The comment is optional: Enter approves at once (Tab reaches the comment).
            self.ok_button.setDefault(True)
            self.ok_button.setFocus()

    @property
    def comment(self) -> str:
        """The comment as typed, without surrounding blank space."""
        return self.comment_edit.toPlainText().strip()

    def _on_comment_changed(self) -> None:
        if self.decision == Decision.RETURN:
            self.ok_button.setEnabled(bool(self.comment))
