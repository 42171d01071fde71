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


def test_a_broken_site_config_is_shown_on_screen(qapp: Any, tmp_path: Path, monkeypatch: Any) -> None:
    """`run_app` with a broken config file shows the file and line in a message box and exits 2."""
    import ui.app

    site = tmp_path / "site" / "fieldapp.toml"
    site.parent.mkdir()
    site.write_text('portal_url = "https://portal.example"\nsync_interval_minutes = = 5\n', encoding="utf-8")
    monkeypatch.setenv("FIELDAPP_SITE_CONFIG", str(site.parent))
    monkeypatch.setenv("FIELDAPP_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("FIELDAPP_CONFIG_DIR", str(tmp_path / "config"))
    shown: list[str] = []
    monkeypatch.setattr(ui.app.QMessageBox, "critical", lambda _parent, _title, text: shown.append(text))
    assert ui.app.run_app([]) == 2
    assert len(shown) == 1 and str(site) in shown[0] and "line 2" in shown[0]
