"""A session the portal ends (revoked token, 401 on sync): the window says so, asks for sign-in, loses nothing."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import requests

from factory import screenshot, wait_idle
from sync.client import PortalClient
from sync.credentials import load_token

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))
from test_sync_ui import Laptops, _officer_with_submitted_visit, _sync, laptops, own_portal  # noqa: E402,F401


def test_revoked_session_asks_to_sign_in_again_and_keeps_unsent_work(qtbot: Any, own_portal: Any, laptops: Laptops,  # noqa: F811 (a fixture)
                                                                     tasks: Any, artifacts: Path) -> None:
    """After logout-all from elsewhere, a sync explains the ended session, opens sign-in, and the visit stays queued."""
    store, client, visit = _officer_with_submitted_visit(laptops, own_portal, "laptop")
    officer = next(a for a in own_portal.accounts if a.username == store.sync_state().user.username)
    elsewhere = PortalClient(own_portal.url)
    elsewhere.login(officer.username, officer.password, "another-laptop")
    answer = requests.post(f"{own_portal.url}/api/v1/auth/logout-all",
                           headers={"Authorization": f"Bearer {elsewhere.token}"}, timeout=10)
    assert answer.status_code == 204
    window = laptops.window(store, client, own_portal)
    with qtbot.waitSignal(window.sync.sig_session_ended, timeout=60000) as ended:
        outcome = _sync(qtbot, window)
    reason = ended.args[0]
    assert not outcome.ok and outcome.needs_sign_in
    assert "ended your session" in reason and "Your 1 unsent item stays on this laptop" in reason
    qtbot.waitUntil(lambda: window.sign_in_dialog is not None and window.sign_in_dialog.isVisible(), timeout=10000)
    assert window.sign_in_dialog.reason.isVisible() and window.sign_in_dialog.reason.text() == reason
    assert window.ctx.client is None and window.sign_in_action.isVisible()
    assert load_token(store.sync_state().portal_url, officer.username) is None
    assert store.pending().visits == 1 and store.visit(visit.id).state == "queued"
    screenshot(window.sign_in_dialog, artifacts / "ui_session_ended_sign_in.png")
    window.sign_in_dialog.password.setText(officer.password)
    with qtbot.waitSignal(window.sync.sig_finished, timeout=60000) as finished:
        window.sign_in_dialog.attempt()
    assert finished.args[0].ok and store.pending().visits == 0
    wait_idle(qtbot, tasks)
