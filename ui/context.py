"""What every screen of the app shares: the store, the task manager, settings and the portal client."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from PySide6.QtCore import QObject, Signal

from ui.tasks import TaskManager

if TYPE_CHECKING:
    from fieldapp.store import FieldStore
    from sync.client import PortalClient


class WindowSettings(Protocol):
    """The settings the window reads; `fieldapp.config.Settings` is the real one."""

    @property
    def portal_url(self) -> str | None: ...
    @property
    def ca_bundle(self) -> str | None: ...
    @property
    def sync_interval_minutes(self) -> int: ...
    @property
    def locked(self) -> frozenset[str]: ...
    @property
    def letter_template(self) -> Path | None: ...


class AppSignals(QObject):
    """App-wide notifications, so screens refresh without knowing each other."""

    #: Cases, visits or problems changed in the store (after a sync, a submit, a resolve).
    sig_data_changed = Signal()
    #: A visit was saved or changed state (its id).
    sig_visit_changed = Signal(str)
    #: A draft was started or discarded (the case list marks, the case page and the status bar follow).
    sig_drafts_changed = Signal()


@dataclass
class AppContext:
    """The shared parts; ``client`` is a `sync.client.PortalClient` once signed in, else None.

    ``store`` is None only while `ui.app.start_window` opens it behind a disabled window.
    """

    store: "FieldStore"
    tasks: TaskManager
    settings: WindowSettings | None = None
    client: PortalClient | None = None
    signals: AppSignals = field(default_factory=AppSignals)

    @property
    def portal_url(self) -> str:
        """The portal this laptop talks to (signed-in session first, then site settings)."""
        url = (self.client.base_url if self.client else None) or (self.settings.portal_url if self.settings else None)
        return str(url or "")

    @property
    def ca_bundle(self) -> str | None:
        return self.settings.ca_bundle if self.settings else None
