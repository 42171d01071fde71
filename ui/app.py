"""Starting the desktop app: `run_app` for real use, `create_main_window` for the demo and smoke tests."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from ui import input_guard
from ui.context import AppContext, WindowSettings
from ui.look import apply_style
from ui.main_window import MainWindow
from ui.qt_platform import check_desktop
from ui.tasks import Op, TaskFailure, TaskManager

if TYPE_CHECKING:
    from fieldapp.config import Settings
    from fieldapp.store import FieldStore
    from sync.client import PortalClient

log = logging.getLogger(__name__)


def ensure_app(argv: list[str] | None = None) -> QApplication:
    """The QApplication (created once), styled, with the input guard (`ui.input_guard`) installed."""
    app = QApplication.instance()
    if app is None:
        check_desktop()  # before Qt tries: its own abort names no missing library and blames the install
        app = QApplication(list(argv) if argv is not None else sys.argv[:1])
        app.setApplicationName("Fieldapp")
        app.setOrganizationName("Fieldapp")
    assert isinstance(app, QApplication)
    input_guard.install(app)
    if not app.styleSheet():  # an app made elsewhere (a test runner, a smoke test) gets the look too
        apply_style(app)
    return app


class _LogThenPassOn:
    """An exception hook that writes the error to the log, then hands it to the hook it replaced."""

    def __init__(self, previous: Callable[[type[BaseException], BaseException, TracebackType | None], object]) -> None:
        self.previous = previous

    def __call__(self, kind: type[BaseException], error: BaseException, trace: TracebackType | None) -> None:
        log.critical("Unexpected error (the window carries on)", exc_info=(kind, error, trace))
        self.previous(kind, error, trace)


def log_uncaught_errors() -> None:
    """Errors no code caught (a fault in a slot) reach the log file too, not only a console the officer never sees.

    Qt hands an exception escaping a slot to ``sys.excepthook``; the hook it had still runs after ours.
    """
    if not isinstance(sys.excepthook, _LogThenPassOn):
        sys.excepthook = _LogThenPassOn(sys.excepthook)


def create_main_window(store: FieldStore, *, client: PortalClient | None = None, settings: WindowSettings | None = None,
                       tasks: TaskManager | None = None, start: bool = True) -> MainWindow:
    """A ready main window over an open store (no portal needed; ``client`` None = not signed in).

    The window's task manager is ``window.ctx.tasks``; call `shutdown_window` when done
    so queued saves reach the disk and the threads stop.
    """
    ensure_app()
    tasks = tasks or TaskManager()
    Op.manager = tasks
    ctx = AppContext(store=store, tasks=tasks, settings=settings, client=client)
    window = MainWindow(ctx)
    if start:
        window.start()
    return window


def shutdown_window(window: MainWindow) -> None:
    """Close the window, finish queued database work and stop the threads."""
    window.close()
    window.ctx.tasks.shutdown()
    if Op.manager is window.ctx.tasks:
        Op.manager = None


def _load_settings() -> tuple[Settings, Path]:
    """Site and user settings and the data folder (the store lives there)."""
    from fieldapp.config import default_paths, load_settings

    from fieldapp.logs import setup_logging

    paths = default_paths()
    settings = load_settings(paths)
    setup_logging(paths.log_dir, settings.log_level)
    return settings, Path(paths.data_dir)


def run_window(store: FieldStore, *, client: PortalClient | None = None, settings: WindowSettings | None = None,
               ask_sign_in: bool = False,
               argv: list[str] | None = None) -> int:
    """Show the main window over an open store and run the event loop until it closes."""
    app = ensure_app(argv)
    window = create_main_window(store, client=client, settings=settings)
    window.show()
    log_uncaught_errors()
    if ask_sign_in:
        QTimer.singleShot(0, window.ask_sign_in)
    code = app.exec()
    shutdown_window(window)
    return int(code)


def open_store(data_dir: Path, settings: Settings | None) -> FieldStore:
    """Open (and migrate) the store: database thread, at start."""
    from fieldapp.store import FieldStore

    return FieldStore.open(data_dir, photo_policy=settings.photo_policy if settings else None)


def restore_session(store: FieldStore, settings: WindowSettings | None) -> PortalClient | None:
    """The signed-in portal client kept from last time, or None (database thread, after the first loads)."""
    from sync.session import restore

    try:
        return restore(store, ca_bundle=settings.ca_bundle if settings else None)
    except Exception as error:  # a broken keyring must not stop the officer working offline
        log.warning("Could not restore the portal session: %s", error, exc_info=error)
        return None


def start_window(data_dir: Path, settings: Settings | None = None) -> MainWindow:
    """Show the window at once and open the store behind it (the slow part: imports, migrations).

    The session (keyring) is restored after the case list is queued, so cases appear first.
    """
    ensure_app()
    tasks = TaskManager()
    Op.manager = tasks
    # No store yet: the window stays disabled until the store is opened behind it and set here.
    window = MainWindow(AppContext(store=None, tasks=tasks, settings=settings))  # type: ignore[arg-type]
    window.set_opening(True)
    window.show()

    def restored(client: PortalClient | None) -> None:
        if client is None:
            window.ask_sign_in()
        else:
            window.attach_client(client)

    def opened(store: FieldStore) -> None:
        window.attach_store(store)
        # Files an import cut short left behind (a crash mid-import): tidied at low priority.
        Op(window, store.remove_orphan_photos, background=True, what="tidy unused photo files").run()
        Op(window, lambda: restore_session(store, settings), what="restore your portal session") \
            .success(restored).failure(lambda _f: restored(None)).run()

    def failed(failure: TaskFailure) -> None:
        QMessageBox.critical(window, "Fieldapp cannot start",
                             f"The data on this laptop could not be opened: {failure.message}")
        window.close()

    Op(window, lambda: open_store(data_dir, settings)).success(opened).failure(failed).run()
    return window


def run_app(argv: list[str] | None = None) -> int:
    """`fieldapp` with no subcommand: show the window, open this laptop's store, sign in if needed."""
    from fieldapp.errors import ConfigError

    app = ensure_app(argv)
    try:
        settings, data_dir = _load_settings()
    except ConfigError as exc:
        # The windowed app has no console: a broken settings file must be said on screen.
        QMessageBox.critical(None, "Fieldapp cannot start", f"{exc}\n\nAsk IT to correct the file, then start Fieldapp again.")
        return 2
    window = start_window(data_dir, settings)
    log_uncaught_errors()
    code = app.exec()
    store = window.ctx.store
    shutdown_window(window)   # queued saves reach the disk before the store closes
    if store is not None:
        store.close()
    return int(code)
