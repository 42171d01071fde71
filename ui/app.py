"""Starting the desktop app: `run_app` for real use, `create_main_window` for the demo and smoke tests."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from ui.context import AppContext
from ui.look import apply_style
from ui.main_window import MainWindow
from ui.tasks import Op, TaskManager

log = logging.getLogger(__name__)


def ensure_app(argv: list[str] | None = None) -> QApplication:
    """The QApplication (created once), styled."""
    app = QApplication.instance()
    if app is None:
        app = QApplication(list(argv) if argv is not None else sys.argv[:1])
        app.setApplicationName("Fieldapp")
        app.setOrganizationName("Fieldapp")
        apply_style(app)
    assert isinstance(app, QApplication)
    return app


def create_main_window(store: Any, *, client: Any = None, settings: Any = None,
                       tasks: TaskManager | None = None, start: bool = True) -> MainWindow:
    """A ready main window over an open store (no portal needed; ``client`` None = not signed in).

    The window's task manager is ``window.ctx.tasks``; call `shutdown_window` when done
    so queued saves reach the disk and the threads stop.
    """
    app = ensure_app()
    if not app.styleSheet():  # an app made elsewhere (a test runner, a smoke test) gets the look too
        apply_style(app)
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


def _load_settings() -> tuple[Any, Path]:
    """Site and user settings and the data folder (the store lives there)."""
    from fieldapp.config import default_paths, load_settings

    paths = default_paths()
    settings = load_settings(paths)
    try:
        from fieldapp.logs import setup_logging

        setup_logging(paths.log_dir, getattr(settings, "log_level", "INFO"))
    except ImportError:
        logging.basicConfig(level=logging.INFO)
    return settings, Path(paths.data_dir)


def run_window(store: Any, *, client: Any = None, settings: Any = None, ask_sign_in: bool = False,
               argv: list[str] | None = None) -> int:
    """Show the main window over an open store and run the event loop until it closes."""
    app = ensure_app(argv)
    window = create_main_window(store, client=client, settings=settings)
    window.show()
    if ask_sign_in:
        QTimer.singleShot(0, window.ask_sign_in)
    code = app.exec()
    shutdown_window(window)
    return int(code)


def run_app(argv: list[str] | None = None) -> int:
    """`fieldapp` with no subcommand: open this laptop's store, sign in if needed, run the window."""
    ensure_app(argv)
    settings, data_dir = _load_settings()
    from fieldapp import FieldStore
    from sync.session import restore

    # Opened before the window exists: nothing to freeze yet, and a failure is reported plainly.
    try:
        store = FieldStore.open(data_dir, photo_policy=getattr(settings, "photo_policy", None))
    except Exception as error:
        from PySide6.QtWidgets import QMessageBox

        QMessageBox.critical(None, "Fieldapp cannot start", f"The local data could not be opened: {error}")
        return 1
    try:
        client = restore(store, ca_bundle=getattr(settings, "ca_bundle", None))
    except Exception as error:  # a broken keyring must not stop the officer working offline
        log.warning("Could not restore the portal session: %s", error)
        client = None
    try:
        return run_window(store, client=client, settings=settings, ask_sign_in=client is None, argv=argv)
    finally:
        store.close()
