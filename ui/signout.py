"""Signing out, and the offer to remove the laptop's personal data once nothing is unsent.

After a sign-out, or when the portal has ended the session (a revoked token), the
officer is offered to remove the cases, residents' details and photos this laptop
holds — only when ``pending()`` is empty (drafts included). While anything is unsent
the dialog says what and offers nothing that could remove it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QVBoxLayout, QWidget

from fieldapp.types import Pending, counted_parts
from ui.context import AppContext
from ui.tasks import Op, TaskFailure
from ui.widgets import ProblemLabel, wrapping_label

if TYPE_CHECKING:
    from fieldapp.store import FieldStore
    from sync.client import PortalClient


def sign_out_work(store: FieldStore, client: PortalClient) -> None:
    """Revoke the token on the portal (best effort) and forget it here (network pool)."""
    from sync.session import sign_out

    sign_out(store, client)


def unsent_sentence(pending: Pending) -> str:
    """What unsent work stays on the laptop, as a sentence."""
    return ", ".join(counted_parts((pending.queued, "item", "waiting to be sent"), (pending.photos, "photo", "to upload"),
                                   (pending.drafts, "draft visit")))


class RemoveDataDialog(QDialog):
    """Offer to remove this laptop's personal data; only when nothing is unsent."""

    sig_removed = Signal()
    sig_sign_in = Signal()

    def __init__(self, ctx: AppContext, pending: Pending, reason: str, parent: QWidget | None = None,
                 *, offer_sign_in: bool = False) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self.setWindowTitle("Personal data on this laptop")
        title = QLabel("Personal data on this laptop")
        title.setObjectName("pageTitle")
        self.can_remove = pending.empty
        if self.can_remove:
            text = (f"{reason} This laptop still holds the cases, residents' details and photos you synced. "
                    "Everything you recorded has reached the portal, so removing them loses nothing. "
                    "Remove them now?")
        else:
            text = (f"{reason} This laptop holds unsent work ({unsent_sentence(pending)}), so its data stays: "
                    "sign in and sync to send it. You can remove the data after that.")
        self.text = wrapping_label(text)
        self.error = ProblemLabel()
        self.buttons = QDialogButtonBox()
        self.remove_button = None
        if self.can_remove:
            self.remove_button = self.buttons.addButton("Remove personal data", QDialogButtonBox.ButtonRole.DestructiveRole)
            self.remove_button.clicked.connect(self.remove)
            self.buttons.addButton("Keep for now", QDialogButtonBox.ButtonRole.RejectRole)
        else:
            self.buttons.addButton(QDialogButtonBox.StandardButton.Close)
        if offer_sign_in:
            sign_in = self.buttons.addButton("Sign in…", QDialogButtonBox.ButtonRole.AcceptRole)
            sign_in.clicked.connect(self._on_sign_in_clicked)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        for widget in (title, self.text, self.error, self.buttons):
            layout.addWidget(widget)
        self.setMinimumWidth(self.fontMetrics().averageCharWidth() * 64)

    def remove(self) -> None:
        """Remove the data on the database thread (the store refuses again if work appeared meanwhile)."""
        assert self.remove_button is not None
        self.remove_button.setEnabled(False)
        self.remove_button.setText("Removing…")
        store = self._ctx.store
        Op(self, store.remove_personal_data).success(self._on_removed).failure(self._on_failed).run()

    def _on_removed(self, _result: None) -> None:
        self.sig_removed.emit()
        self.accept()

    def _on_failed(self, failure: TaskFailure) -> None:
        assert self.remove_button is not None
        self.remove_button.setText("Remove personal data")
        self.remove_button.setEnabled(True)
        self.error.say(failure.message)

    def _on_sign_in_clicked(self) -> None:
        self.sig_sign_in.emit()
        self.accept()
