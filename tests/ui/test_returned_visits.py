"""A returned visit is impossible to miss: the sync's end says how many came back; Needs attention lists and opens them."""

from __future__ import annotations

import sys
import uuid
from pathlib import Path
from typing import Any

from factory import OFFICER, TEMPLATE_ID, screenshot, wait_idle
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

from ui.sync_controller import SyncOutcome

COMMENT = "The bathroom photos are missing: add them and say where the mould is."


def _returned_visit(case_id: str, comment: str) -> dict[str, Any]:
    """A pulled change: the officer's visit, returned by the lead with a comment."""
    return {"entity": "visit", "id": str(uuid.uuid4()), "version": 2, "seq": 900_000, "deleted": False, "data": {
        "case_id": case_id, "officer_id": OFFICER.id, "template_id": TEMPLATE_ID, "template_version": 1,
        "started_at": "2026-11-30T10:00:00Z", "completed_at": "2026-11-30T10:40:00Z", "outcome": "completed",
        "answers": {"mould_seen": True}, "notes": "", "hazards": [], "photos": [], "status": "returned",
        "review": {"decision": "return", "comment": comment, "lead_id": str(uuid.uuid4()),
                   "decided_at": "2026-12-01T09:00:00Z"}}}


def test_visits_returned_by_a_sync_are_announced_listed_and_opened(qtbot: Any, window: Any, artifacts: Path) -> None:
    """After the pull the status line counts the returned visits; Needs attention shows the comment and Open opens it."""
    store = window.ctx.store
    cases = [r.id for r in window.case_list.model.rows() if not r.has_warnings][:2]
    changes = [_returned_visit(cases[0], COMMENT), _returned_visit(cases[1], "Sign the form.")]
    qtbot.waitUntil(lambda: window.returned_tracker._known is not None, timeout=10000)   # the start's look
    store.apply_changes(changes, store.sync_state().cursor + 1)           # what a sync's pull applies
    window.sync.sig_finished.emit(SyncOutcome(True, False, "Sync complete."))
    qtbot.waitUntil(lambda: "2 visits returned by your lead" in window.status_line.message.text(), timeout=10000)
    window.case_list.reload()
    model = window.case_list.model
    qtbot.waitUntil(lambda: model.index(model.row_of(cases[0]), model.COL_REFERENCE).data().endswith("· Returned"),
                    timeout=10000)
    assert "returned a visit" in model.index(model.row_of(cases[1]), model.COL_REFERENCE).data(Qt.ItemDataRole.ToolTipRole)
    window.resize(1280, 720)
    screenshot(window, artifacts / "ui_returned_case_list_1280x720.png")
    window.show_attention()
    returned = window.attention.returned
    qtbot.waitUntil(lambda: len(returned.open_buttons) == 2, timeout=10000)
    assert returned.isVisible() and returned.title() == "Returned by your team lead (2)"
    qtbot.waitUntil(lambda: window.attention_action.text() == "Needs attention (2)", timeout=10000)
    texts = " ".join(label.text() for label in returned.findChildren(QLabel))
    assert "add them and say where the mould is" in texts
    for width, height, name in ((1280, 720, "1280x720"), (911, 512, "1366x768_at_150")):  # 150 %: logical pixels
        window.resize(width, height)
        screenshot(window, artifacts / f"ui_returned_visits_{name}.png")
    with qtbot.waitSignal(window.editor.sig_loaded, timeout=10000) as loaded:
        qtbot.mouseClick(returned.open_buttons[changes[0]["id"]], Qt.MouseButton.LeftButton)
    assert loaded.args == [changes[0]["id"]]
    assert window.pages.currentWidget() is window.editor
    assert COMMENT in window.editor.state_banner.text.text()


def test_a_sync_that_brings_nothing_back_says_nothing_of_returns(qtbot: Any, window: Any) -> None:
    """No returned visit, no announcement: the sync's own message stays."""
    qtbot.waitUntil(lambda: window.returned_tracker._known is not None, timeout=10000)
    window.sync.sig_finished.emit(SyncOutcome(True, False, "Sync complete."))
    qtbot.waitUntil(lambda: window.status_line.message.text() == "Sync complete.")
    wait_idle(qtbot, window.ctx.tasks)
    assert "returned by" not in window.status_line.message.text()
    assert not window.attention.returned.isVisible()


def test_the_needs_attention_count_follows_the_returned_visits(qtbot: Any, window: Any) -> None:
    """The toolbar counts returned visits with refused changes; resubmitting one takes it off the count."""
    store = window.ctx.store
    cases = [r.id for r in window.case_list.model.rows() if not r.has_warnings][:2]
    changes = [_returned_visit(cases[0], COMMENT), _returned_visit(cases[1], "Sign the form.")]
    assert window.attention_action.text() == "Needs attention"
    store.apply_changes(changes, store.sync_state().cursor + 1)
    window.ctx.signals.sig_data_changed.emit()   # what the end of a sync sends
    qtbot.waitUntil(lambda: window.attention_action.text() == "Needs attention (2)", timeout=10000)
    store.update_visit(changes[1]["id"], answers={"mould_seen": False, "severity": "Minor", "cause": "Condensation"},
                       outcome="completed")
    store.submit_visit(changes[1]["id"])
    window.editor.sig_submitted.emit(changes[1]["id"])   # as the editor says after a submit
    qtbot.waitUntil(lambda: window.attention_action.text() == "Needs attention (1)", timeout=10000)
    button = window.toolbar.widgetForAction(window.attention_action)
    assert button.isVisible() and button.text() == "Needs attention (1)"   # the whole text, not elided
    wait_idle(qtbot, window.ctx.tasks)


def test_a_returned_list_deleted_before_it_is_measured_measures_nothing(qtbot: Any) -> None:
    """The list's height is fitted after its rows show; a list deleted first (a closed window) is left alone."""
    from PySide6.QtCore import QCoreApplication, QEvent

    from ui.returned_visits import ReturnedVisitsWidget

    errors: list[BaseException] = []
    previous, sys.excepthook = sys.excepthook, lambda _t, error, _tb: errors.append(error)
    try:
        box = ReturnedVisitsWidget()
        box.set_visits([])
        box.deleteLater()
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
        qtbot.wait(50)   # the measurement would have run here
    finally:
        sys.excepthook = previous
    assert errors == []


LONG_COMMENT = COMMENT + (" Also the severity looks wrong for what the photos show; check the back bedroom ceiling and "
                          "the window reveals, and record the humidity reading you took.")


def test_a_returned_visit_leaves_the_form_room_and_the_comment_a_click_away(qtbot: Any, window: Any,
                                                                             artifacts: Path) -> None:
    """At 1366x768 and 150 % the lead's long comment takes one line (Show all opens it) and the form most of the page."""
    from fit import SIZES, in_view

    store = window.ctx.store
    change = _returned_visit(next(r.id for r in window.case_list.model.rows() if not r.has_warnings), LONG_COMMENT)
    store.apply_changes([change], store.sync_state().cursor + 1)
    for name, size in (("1366x768_at_150", SIZES["1366x768@150"]), ("1280x720", SIZES["1280x720"])):
        window.resize(*size)
        with qtbot.waitSignal(window.editor.sig_loaded, timeout=10000):
            window.open_visit(change["id"])
        editor, banner = window.editor, window.editor.state_banner
        screenshot(window, artifacts / f"ui_returned_editor_{name}.png")
        # The form's view: 144 px of the 480 when the banner wrote the comment out and the title took two lines.
        assert editor.scroll.viewport().height() >= 0.45 * window.height(), editor.scroll.viewport().height()
        line = banner.comment_line
        assert in_view(line, window) and line.text() == LONG_COMMENT and line.toolTip() == LONG_COMMENT
        assert in_view(editor.submit_button, window)
        qtbot.mouseClick(banner.more_button, Qt.MouseButton.LeftButton)   # Show all: every word of it
        assert banner.text.isVisible() and LONG_COMMENT in banner.text.text() and not line.isVisible()
        assert banner.text.height() >= banner.text.heightForWidth(banner.text.width())   # not cut at the bottom
        screenshot(window, artifacts / f"ui_returned_editor_whole_comment_{name}.png")
        qtbot.mouseClick(banner.more_button, Qt.MouseButton.LeftButton)   # Show less
        assert line.isVisible() and not banner.text.isVisible() and banner.more_button.text() == "Show all"
