"""Sign in to the portal; afterwards the app works offline for as long as needed."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QDialog, QFormLayout, QLabel, QLineEdit, QVBoxLayout, QWidget

from ui.context import AppContext, WindowSettings
from ui.tasks import Op, TaskFailure
from ui.widgets import ProblemLabel, action_buttons, wrapping_label

if TYPE_CHECKING:
    from fieldapp.store import FieldStore
    from sync.client import PortalClient

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SignedIn:
    """A sign-in's result: the signed-in `PortalClient` and the settings with the address remembered."""

    client: PortalClient
    settings: WindowSettings | None


def sign_in_work(store: FieldStore, url: str, username: str, password: str,
                 settings: WindowSettings | None) -> SignedIn:
    """Log in, record the user and remember the portal's address for next time (network pool)."""
    from fieldapp.config import Settings, remember_portal_url
    from fieldapp.errors import ConfigError
    from sync.session import sign_in

    client = sign_in(store, url, username, password, ca_bundle=settings.ca_bundle if settings else None)
    if isinstance(settings, Settings):
        try:
            settings = remember_portal_url(settings, client.base_url)
        except (ConfigError, OSError) as error:  # signed in all the same; only the address is not kept
            log.warning("Could not remember the portal address: %s", error)
    return SignedIn(client, settings)


def initial_portal_url(ctx: AppContext) -> tuple[str, bool]:
    """The address to offer, and whether IT locked it: IT's locked preset, else this session's or the remembered one."""
    settings = ctx.settings
    site_url = settings.portal_url if settings else None
    if site_url and settings and "portal_url" in settings.locked:
        return str(site_url), True
    return ctx.portal_url, False


class SignInDialog(QDialog):
    """Portal address (IT's preset, else the one last signed in to), user name and password."""

    sig_signed_in = Signal(object)   # the PortalClient

    def __init__(self, ctx: AppContext, parent: QWidget | None = None, *, username: str = "", reason: str = "") -> None:
        super().__init__(parent)
        self._ctx = ctx
        self.client: PortalClient | None = None
        self.setWindowTitle("Sign in to Fieldapp")
        title = QLabel("Sign in")
        title.setObjectName("pageTitle")
        intro = wrapping_label("Sign in once with your council account. After that you can work without a "
                               "connection; visits are sent when you sync.", "muted")
        url, locked = initial_portal_url(ctx)
        self.url = QLineEdit(url)
        self.url.setPlaceholderText("https://portal.example.gov.uk")
        if locked:
            self.url.setReadOnly(True)
            self.url.setToolTip("Set by your IT department")
        self.username = QLineEdit(username)
        self.username.setAccessibleName("User name")
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setAccessibleName("Password")
        self.error = ProblemLabel()
        #: Why sign-in is asked for again (a session the portal ended), shown above the form.
        self.reason = wrapping_label(reason, "problem")
        self.reason.setVisible(bool(reason))
        form = QFormLayout()
        form.addRow("Portal &address", self.url)
        form.addRow("&User name", self.username)
        form.addRow("&Password", self.password)
        self.buttons, self.sign_in_button = action_buttons(self, "Sign in", self.attempt)
        self.sign_in_button.setDefault(True)
        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addWidget(intro)
        layout.addWidget(self.reason)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        focus = self.url if not url else self.username if not username else self.password
        focus.setFocus()
        self.setMinimumWidth(self.fontMetrics().averageCharWidth() * 60)

    def attempt(self) -> None:
        """Sign in off the GUI thread; a failure is shown here and nothing typed is cleared but the password."""
        url, username, password = self.url.text().strip(), self.username.text().strip(), self.password.text()
        if not url or not username or not password:
            self._show_error("Enter the portal address, your user name and your password.")
            return
        self.sign_in_button.setEnabled(False)
        self.sign_in_button.setText("Signing in…")
        store, settings = self._ctx.store, self._ctx.settings
        Op(self, lambda: sign_in_work(store, url, username, password, settings), network=True) \
            .success(self._on_signed_in).failure(self._on_failed).finally_(self._on_done).run()

    def _on_done(self) -> None:
        self.sign_in_button.setEnabled(True)
        self.sign_in_button.setText("Sign in")

    def _on_signed_in(self, result: SignedIn) -> None:
        self.client = result.client
        self._ctx.client = result.client
        self._ctx.settings = result.settings
        self.sig_signed_in.emit(result.client)
        self.accept()

    def _on_failed(self, failure: TaskFailure) -> None:
        self.password.clear()
        self.password.setFocus()
        self._show_error(failure.message)

    def _show_error(self, text: str) -> None:
        self.error.say(text)
