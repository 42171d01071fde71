"""Signing out, or a revoked session, offers to remove the laptop's personal data — only when nothing is unsent."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from factory import screenshot, wait_idle

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))
from sync_support import sync  # noqa: E402
from test_sync_ui import Laptops, laptops  # noqa: E402,F401  (a fixture)


def test_sign_out_with_nothing_unsent_offers_removal_and_removes(qtbot: Any, portal_sqlite: Any, laptops: Laptops,  # noqa: F811 (a fixture)
                                                                 tasks: Any, artifacts: Path) -> None:
    """After a clean sync, Sign out revokes the token and offers removal; Remove empties the laptop."""
    store, client = laptops.open(portal_sqlite)
    assert sync(store, client).ok and store.cases()
    window = laptops.window(store, client, portal_sqlite, size=(1280, 720))
    qtbot.waitUntil(lambda: window.sign_out_action.isVisible(), timeout=10000)
    window.sign_out_action.trigger()
    qtbot.waitUntil(lambda: window.remove_data_dialog is not None and window.remove_data_dialog.isVisible(), timeout=10000)
    dialog = window.remove_data_dialog
    assert dialog.can_remove and client.token is None
    screenshot(dialog, artifacts / "ui_remove_personal_data.png")
    with qtbot.waitSignal(dialog.sig_removed, timeout=10000):
        dialog.remove_button.click()
    assert store.cases() == [] and store.current_user() is None
    wait_idle(qtbot, tasks)


def test_revoked_session_with_nothing_unsent_offers_removal_or_sign_in(qtbot: Any, portal_sqlite: Any, laptops: Laptops,  # noqa: F811 (a fixture)
                                                                     tasks: Any) -> None:
    """When the portal refuses the token and nothing is unsent, the officer may remove the data or sign in again."""
    store, client = laptops.open(portal_sqlite)
    assert sync(store, client).ok
    client.logout()  # the portal revokes the token; the laptop still holds it
    client.token = "revoked-" + "x" * 30
    window = laptops.window(store, client, portal_sqlite, size=(1280, 720))
    with qtbot.waitSignal(window.sync.sig_finished, timeout=60000):
        window.sync_action.trigger()
    qtbot.waitUntil(lambda: window.remove_data_dialog is not None and window.remove_data_dialog.isVisible(), timeout=10000)
    dialog = window.remove_data_dialog
    assert dialog.can_remove and window.sign_in_dialog is None
    sign_in = next(b for b in dialog.buttons.buttons() if b.text() == "Sign in…")
    sign_in.click()
    qtbot.waitUntil(lambda: window.sign_in_dialog is not None and window.sign_in_dialog.isVisible(), timeout=10000)
    assert store.cases()
    wait_idle(qtbot, tasks)


def test_unsent_work_is_never_offered_for_removal(qtbot: Any, tmp_path: Path) -> None:
    """With a visit queued, the dialog names the unsent work and has no button that removes anything."""
    from fieldapp.types import Pending
    from ui.context import AppContext
    from ui.signout import RemoveDataDialog

    dialog = RemoveDataDialog(AppContext.__new__(AppContext), Pending(visits=1, reviews=0, photos=2, bytes=10, drafts=1), "You are signed out.")
    qtbot.addWidget(dialog)
    assert not dialog.can_remove and dialog.remove_button is None
    assert "1 item waiting to be sent, 2 photos to upload, 1 draft visit" in dialog.text.text()
