"""Sign in to the portal; afterwards the app works offline for as long as needed."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit, QVBoxLayout, QWidget

from ui.context import AppContext
from ui.tasks import Op, TaskFailure
from ui.widgets import wrapping_label


def sign_in_work(store: Any, url: str, username: str, password: str, ca_bundle: str | None) -> Any:
    """Log in and record the user (network pool); returns a signed-in `PortalClient`."""
    from sync.session import sign_in

    return sign_in(store, url, username, password, ca_bundle=ca_bundle)


class SignInDialog(QDialog):
    """Portal address (preset from the site settings), user name and password."""

    sig_signed_in = Signal(object)   # the PortalClient

    def __init__(self, ctx: AppContext, parent: QWidget | None = None, *, username: str = "", reason: str = "") -> None:
        super().__init__(parent)
        self._ctx = ctx
        self.client: Any = None
        self.setWindowTitle("Sign in to Fieldapp")
        title = QLabel("Sign in")
        title.setObjectName("pageTitle")
        intro = wrapping_label("Sign in once with your council account. After that you can work without a "
                               "connection; visits are sent when you sync.", "muted")
        self.url = QLineEdit(ctx.portal_url)
        self.url.setPlaceholderText("https://portal.example.gov.uk")
        locked = getattr(ctx.settings, "locked", frozenset())
        if ctx.portal_url and "portal_url" in locked:
            self.url.setReadOnly(True)
            self.url.setToolTip("Set by your IT department")
        self.username = QLineEdit(username)
        self.username.setAccessibleName("User name")
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setAccessibleName("Password")
        self.error = wrapping_label("", "problem")
        self.error.hide()
        #: Why sign-in is asked for again (a session the portal ended), shown above the form.
        self.reason = wrapping_label(reason, "problem")
        self.reason.setVisible(bool(reason))
        form = QFormLayout()
        form.addRow("Portal &address", self.url)
        form.addRow("&User name", self.username)
        form.addRow("&Password", self.password)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.sign_in_button = self.buttons.addButton("Sign in", QDialogButtonBox.ButtonRole.AcceptRole)
        self.sign_in_button.setProperty("primary", True)
        self.sign_in_button.setDefault(True)
        self.buttons.accepted.connect(self.attempt)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addWidget(intro)
        layout.addWidget(self.reason)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        (self.username if not username else self.password).setFocus()
        self.setMinimumWidth(self.fontMetrics().averageCharWidth() * 60)

    def attempt(self) -> None:
        """Sign in off the GUI thread; a failure is shown here and nothing typed is cleared but the password."""
        url, username, password = self.url.text().strip(), self.username.text().strip(), self.password.text()
        if not url or not username or not password:
            self._show_error("Enter the portal address, your user name and your password.")
            return
        self.sign_in_button.setEnabled(False)
        self.sign_in_button.setText("Signing in…")
        store, ca = self._ctx.store, self._ctx.ca_bundle
        Op(self, lambda: sign_in_work(store, url, username, password, ca), network=True) \
            .success(self._on_signed_in).failure(self._on_failed).finally_(self._on_done).run()

    def _on_done(self) -> None:
        self.sign_in_button.setEnabled(True)
        self.sign_in_button.setText("Sign in")

    def _on_signed_in(self, client: Any) -> None:
        self.client = client
        self._ctx.client = client
        self.sig_signed_in.emit(client)
        self.accept()

    def _on_failed(self, failure: TaskFailure) -> None:
        self.password.clear()
        self.password.setFocus()
        self._show_error(failure.message)

    def _show_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.show()
