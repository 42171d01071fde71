"""Sync and portal reachability, run on the network pool; the GUI only sees frozen updates.

- A health check every `HEALTH_INTERVAL_MS` (and after each sync) says whether the
  portal is reachable. It uses its own client: a `PortalClient` is used by one thread
  at a time, and a sync may be running.
- An automatic sync runs every ``sync_interval_minutes`` while the portal is reachable.
- `send_soon` (a visit was just submitted) starts a sync at once when the portal is reachable,
  or at the next health check that finds it; the interval sync stays the fallback.
- `start_sync` runs `sync.engine.SyncEngine.run` with progress and a cancel event.
  The engine reads and writes the store itself from its worker thread; that is the
  engine's design (the store opens one unit of work per call, safe across threads).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer, Signal

from ui.context import AppContext
from ui.format import size_text
from ui.tasks import Cancelled, Op, ProgressFn, TaskFailure

if TYPE_CHECKING:
    from fieldapp.store import FieldStore
    from sync.client import PortalClient
    from sync.engine import SyncReport
    from sync.progress import SyncProgress

log = logging.getLogger(__name__)

HEALTH_INTERVAL_MS = 30_000
PHASE_TEXT = {"pull": "Receiving changes", "upload": "Uploading photos", "push": "Sending visits",
              "done": "Finishing"}


@dataclass(frozen=True)
class SyncOutcome:
    """The end of a sync as the window shows it."""

    ok: bool
    cancelled: bool
    message: str
    needs_sign_in: bool = False
    report: SyncReport | None = None


def progress_text(update: SyncProgress) -> tuple[float, str]:
    """A `sync.progress.SyncProgress` as a fraction and one line (phase, counts, bytes)."""
    phase = PHASE_TEXT.get(update.phase, update.phase)
    parts = [phase]
    if update.total:
        parts.append(f"{update.done} of {update.total}")
    elif update.done:
        parts.append(f"{update.done}")
    if update.bytes_total:
        parts.append(f"{size_text(update.bytes_done)} of {size_text(update.bytes_total)}")
    if update.bytes_total:
        fraction = update.bytes_done / update.bytes_total
    elif update.total:
        fraction = update.done / update.total
    else:
        fraction = -1.0
    return fraction, " · ".join(parts)


def run_sync(store: FieldStore, client: PortalClient, progress: ProgressFn, cancel: threading.Event) -> SyncOutcome:
    """One sync (network pool). Expected failures become an outcome, not an exception."""
    from sync.engine import SyncEngine
    from sync.errors import AuthRequired, SyncBusy, SyncError

    def forward(update: SyncProgress) -> None:
        fraction, text = progress_text(update)
        try:
            progress(fraction, text)
        except Cancelled:
            pass  # the engine checks the same cancel event itself, at a point where stopping is clean

    try:
        report = SyncEngine(store, client).run(forward, cancel)
    except AuthRequired:
        return SyncOutcome(False, False, session_ended_message(store), needs_sign_in=True)
    except SyncBusy:
        return SyncOutcome(False, False, "Another sync is already running for this data folder.")
    except SyncError as error:
        # Unreachable portal, a portal error, a bad CA bundle...: the sync errors' own sentences
        # say what happened and what to do.
        return SyncOutcome(False, False, str(error))
    message = report.message or ("Sync complete." if report.ok else "Sync finished with problems.")
    return SyncOutcome(report.ok, report.cancelled, message, report=report)


def session_ended_message(store: FieldStore) -> str:
    """What a revoked or expired session means for the officer: sign in again, nothing is lost (network pool).

    The token is forgotten too, so the next start asks for a sign-in instead of trying it.
    """
    from sync.session import session_ended

    try:
        session_ended(store)
    except Exception as error:  # a broken keyring must not hide the message
        log.warning("Could not forget the ended session's token: %s", error)
    waiting = store.pending()
    unsent = waiting.queued + waiting.photos
    items = "1 unsent item stays" if unsent == 1 else f"{unsent} unsent items stay"
    kept = f"Your {items} on this laptop and will be sent after you sign in." if unsent else "Nothing on this laptop was lost."
    return ("The portal has ended your session: it expired, you were signed out on another device, or IT changed "
            f"your account. Sign in again to sync. {kept}")


def check_health(url: str, ca_bundle: str | None) -> bool:
    """True when the portal answers /health (network pool)."""
    from sync.client import PortalClient
    from sync.retry import RetryPolicy

    # One quick try: a health check that retries for a minute would report too late.
    client = PortalClient(url, ca_bundle=ca_bundle, retry=RetryPolicy(attempts=1), timeout=(3.0, 5.0))
    try:
        client.health()
        return True
    except Exception as error:  # any failure means "not reachable now"; the reason goes to the log
        log.info("portal health check failed: %s", error)
        return False
    finally:
        client.close()


class SyncController(QObject):
    """Runs syncs and health checks and tells the window how they went."""

    sig_reachable = Signal(bool)
    sig_started = Signal()
    sig_progress = Signal(object)    # TaskProgress
    sig_finished = Signal(object)    # SyncOutcome
    sig_need_sign_in = Signal()
    #: The portal refused the session (401 on sync): the reason to show, and a sign-in follows.
    sig_session_ended = Signal(str)

    def __init__(self, ctx: AppContext, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self.reachable: bool | None = None
        self.running = False
        self._cancel: threading.Event | None = None
        self._checking = False
        self._recheck = False
        #: Something was submitted and waits for a sync that starts after it (see `send_soon`).
        self.send_wanted = False
        self.health_timer = QTimer(self)
        self.health_timer.setInterval(HEALTH_INTERVAL_MS)
        self.health_timer.timeout.connect(self.check_now)
        self.auto_timer = QTimer(self)
        minutes = (ctx.settings.sync_interval_minutes if ctx.settings else 15) or 0
        self.auto_timer.setInterval(max(1, int(minutes)) * 60_000)
        self.auto_timer.timeout.connect(self._on_auto_timer_timeout)
        self._auto_enabled = bool(minutes)

    def start(self) -> None:
        """Begin periodic health checks and automatic syncs."""
        self.health_timer.start()
        if self._auto_enabled:
            self.auto_timer.start()
        self.check_now()

    def stop(self) -> None:
        self.health_timer.stop()
        self.auto_timer.stop()
        self.cancel()

    # ------------------------------------------------------------ health

    def check_now(self) -> None:
        url = self._ctx.portal_url
        if not url:
            self._set_reachable(False)
            return
        if self._checking:
            # The answer in flight may predate what prompted this check: ask again after it.
            self._recheck = True
            return
        self._checking = True
        self._recheck = False
        ca = self._ctx.ca_bundle
        Op(self, lambda: check_health(url, ca), network=True).success(self._set_reachable) \
            .failure(lambda _f: self._set_reachable(False)).finally_(self._on_check_done).run()

    def _on_check_done(self) -> None:
        self._checking = False
        if self._recheck:
            self.check_now()

    def _set_reachable(self, reachable: bool) -> None:
        self.reachable = reachable
        self.sig_reachable.emit(reachable)
        if reachable and self.send_wanted and not self.running and self._ctx.client is not None:
            self.start_sync()

    def send_soon(self) -> None:
        """A visit was submitted: send it now in the background when the portal is reachable.

        A sync already running may have passed its push: the wish waits and a new sync follows it.
        Offline, nothing is tried until a health check finds the portal (no error for the officer).
        """
        if self._ctx.client is None:
            return
        self.send_wanted = True
        if self.running:
            return
        if self.reachable:
            self.start_sync()
        else:
            self.check_now()

    # ------------------------------------------------------------ sync

    def _on_auto_timer_timeout(self) -> None:
        if self.reachable and not self.running and self._ctx.client is not None:
            self.start_sync()

    def start_sync(self) -> bool:
        """Start a sync unless one runs; asks for sign-in when there is no session."""
        if self.running:
            return False
        client = self._ctx.client
        if client is None:
            self.sig_need_sign_in.emit()
            return False
        self.running = True
        self.send_wanted = False   # this sync pushes everything queued so far
        self._cancel = self._ctx.tasks.new_cancel()
        store = self._ctx.store
        self.sig_started.emit()
        Op(self, lambda progress, cancel: run_sync(store, client, progress, cancel), network=True) \
            .with_cancel(self._cancel).progress(self.sig_progress.emit) \
            .success(self._on_sync_done).failure(self._on_sync_failed).run()
        return True

    def cancel(self) -> None:
        if self._cancel is not None:
            self._cancel.set()

    def _on_sync_done(self, outcome: SyncOutcome) -> None:
        self.running = False
        self._cancel = None
        if outcome.needs_sign_in:
            # The client's token is dead: drop it, so automatic syncs stop and "Sign in" shows.
            self._ctx.client = None
            self.sig_session_ended.emit(outcome.message)
        self.sig_finished.emit(outcome)
        self._ctx.signals.sig_data_changed.emit()
        self.check_now()

    def _on_sync_failed(self, failure: TaskFailure) -> None:
        self._on_sync_done(SyncOutcome(False, False, f"Sync failed: {failure.message}"))

