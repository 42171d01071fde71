"""End to end: a visit the lead returns over HTTP is impossible for the officer to miss.

A real portal on loopback, the officer's and the lead's real stores, the lead's decision
sent by their real sync, and the officer's real main window syncing through its own
`SyncController`: after that sync the officer is told how many visits came back, the
case list marks the case, the toolbar counts it, and Needs attention lists it with the
lead's comment and an Open button that opens that visit.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import test_review_flow as review_flow
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel
from sync_support import open_signed_in, record_visit, sync

from fieldapp.types import VisitState
from ui.app import create_main_window

ARTIFACTS, account = review_flow.ARTIFACTS, review_flow.account
tasks = review_flow.tasks   # the fixture: a real task manager, also the app's default

COMMENT = "The photo of the bathroom ceiling is missing: add it and say how far the mould has spread."


def test_a_visit_returned_over_http_is_announced_marked_counted_and_opened(qtbot: Any, portal_sqlite: Any,
                                                                           tmp_path: Path, tasks: Any) -> None:
    """The lead returns a visit with a comment; the officer's next sync in the app shows it everywhere it must."""
    portal = portal_sqlite
    lead_account = account(portal, "lead")
    officer_account = [a for a in portal.accounts if a.role == "officer" and a.team == lead_account.team][-1]
    officer, officer_client = open_signed_in(tmp_path / "officer", portal.url, officer_account)
    lead, lead_client = open_signed_in(tmp_path / "lead", portal.url, lead_account)
    window = None
    try:
        assert sync(officer, officer_client).ok
        case_id = next(c.id for c in officer.cases() if officer.templates_for(c.id))
        visit = record_visit(officer, case_id, tmp_path, photos=1, seed=77)
        assert sync(officer, officer_client).ok
        assert sync(lead, lead_client).ok
        assert visit.id in {i.visit_id for i in lead.review_queue()}
        lead.decide(visit.id, "return", COMMENT)
        assert sync(lead, lead_client).ok and lead.pending().reviews == 0   # the decision is on the portal

        window = create_main_window(officer, client=officer_client, tasks=tasks)
        qtbot.addWidget(window)
        window.resize(1280, 720)
        window.show()
        qtbot.waitUntil(lambda: window.returned_tracker._known is not None, timeout=15000)   # its look at start
        qtbot.waitUntil(lambda: window.case_list.model.row_of(case_id) >= 0, timeout=15000)
        with qtbot.waitSignal(window.sync.sig_finished, timeout=60000) as finished:
            window.sync_action.trigger()
        assert finished.args[0].ok, finished.args[0].message
        assert officer.visit(visit.id).state == VisitState.RETURNED

        # Told how many came back (this sync brought one; others the laptop held before are not news).
        qtbot.waitUntil(lambda: "1 visit returned by your lead" in window.status_line.message.text(), timeout=15000)
        # The case list marks the case.
        model = window.case_list.model
        qtbot.waitUntil(lambda: str(model.index(model.row_of(case_id), model.COL_REFERENCE).data())
                        .endswith("· Returned"), timeout=15000)
        # The toolbar counts every returned visit and refused change.
        waiting = len(officer.returned_visits()) + len(officer.problems())
        qtbot.waitUntil(lambda: window.attention_action.text() == f"Needs attention ({waiting})", timeout=15000)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        window.grab().save(str(ARTIFACTS / "returned_e2e_cases.png"))

        # Needs attention: the comment, and Open opens that visit with the comment on top.
        window.attention_action.trigger()
        returned = window.attention.returned
        qtbot.waitUntil(lambda: visit.id in returned.open_buttons, timeout=15000)
        assert COMMENT in " ".join(label.text() for label in returned.findChildren(QLabel))
        window.grab().save(str(ARTIFACTS / "returned_e2e_needs_attention.png"))
        with qtbot.waitSignal(window.editor.sig_loaded, timeout=15000) as loaded:
            qtbot.mouseClick(returned.open_buttons[visit.id], Qt.MouseButton.LeftButton)
        assert loaded.args == [visit.id]
        assert window.pages.currentWidget() is window.editor
        assert COMMENT in window.editor.state_banner.text.text()
        qtbot.waitUntil(lambda: not tasks.busy, timeout=15000)
        window.grab().save(str(ARTIFACTS / "returned_e2e_editor.png"))
    finally:
        if window is not None:
            window.close()
            qtbot.waitUntil(lambda: not tasks.busy, timeout=15000)
        for client in (officer_client, lead_client):
            client.close()
        officer.close()
        lead.close()
