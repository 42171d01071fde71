"""Starting the app for real use: the window shows at once and the store opens behind it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ui.app import shutdown_window, start_window
from ui.signin import SignInDialog


def test_window_shows_first_then_lists_cases_and_asks_to_sign_in(qtbot: Any, store_factory: Any,
                                                                 tmp_path: Path) -> None:
    """`start_window` shows a disabled window, opens the store off the GUI thread, lists cases and asks for sign-in."""
    store = store_factory("laptop", cases=15)
    store.close()
    window = start_window(tmp_path / "laptop")
    qtbot.addWidget(window)
    try:
        assert window.isVisible() and not window.pages.isEnabled()
        assert "Opening" in window.status_line.message.text()
        with qtbot.waitSignal(window.case_list.sig_loaded, timeout=20000) as loaded:
            pass
        assert loaded.args == [15] and window.pages.isEnabled()
        # The session is restored after the cases are listed; with none kept, sign-in is asked for.
        qtbot.waitUntil(lambda: isinstance(window.sign_in_dialog, SignInDialog), timeout=10000)
        assert window.sign_in_dialog.isVisible()
        window.sign_in_dialog.reject()
    finally:
        opened = window.ctx.store
        shutdown_window(window)
        if opened is not None:
            opened.close()
