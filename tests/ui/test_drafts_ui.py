"""Drafts in the window: the status bar counts them, the case page continues or discards them, the list marks them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from factory import TEMPLATE_ID, screenshot, wait_idle, write_jpeg
from fieldapp.wire import OpResult
from ui.models import CaseTableModel


def _plain_case(store: Any, number: int = 0) -> Any:
    """A case whose home has no warnings (so no acknowledgement dialog comes first)."""
    return [c for c in store.cases() if not c.has_warnings][number]


def _show(qtbot: Any, window: Any, case_id: str) -> Any:
    """Select a case in the list and wait until its page is shown."""
    window.case_list.select_case(case_id)
    detail = window.case_detail
    qtbot.waitUntil(lambda: detail.case is not None and detail.case.id == case_id and not window.ctx.tasks.busy)
    return detail


def _reference_cell(window: Any, case_id: str) -> str:
    model = window.case_list.model
    return model.data(model.index(model.row_of(case_id), CaseTableModel.COL_REFERENCE))


def test_status_bar_counts_an_open_draft(qtbot: Any, window: Any, store: Any) -> None:
    """Starting a visit makes the status bar say a draft is not submitted, never "Nothing waiting to send"."""
    case = _plain_case(store)
    detail = _show(qtbot, window, case.id)
    with qtbot.waitSignal(window.editor.sig_loaded, timeout=10000):
        detail.start_button.click()
    pending = window.status_line.pending
    qtbot.waitUntil(lambda: "1 draft" in pending.text())
    assert "Nothing waiting" not in pending.text()


def test_case_page_continues_a_draft(qtbot: Any, window: Any, store: Any, artifacts: Path) -> None:
    """A case's draft is listed on its page with Continue, which opens that very draft in the editor."""
    case = _plain_case(store)
    draft = store.start_visit(case.id, TEMPLATE_ID)
    store.update_visit(draft.id, answers={"cause": "Leak"})
    window.resize(1280, 720)
    window.ctx.signals.sig_drafts_changed.emit()   # as the editor's start does
    detail = _show(qtbot, window, case.id)
    qtbot.waitUntil(lambda: "1 draft" in window.status_line.pending.text() and "Draft" in _reference_cell(window, case.id))
    assert detail.drafts_box.isVisible()
    [row] = detail.drafts_box.rows
    assert "1 answer" in row.summary.text()
    screenshot(window, artifacts / "ui_case_page_draft_1280x720.png")
    with qtbot.waitSignal(window.editor.sig_loaded, timeout=10000) as loaded:
        row.continue_button.click()
    assert loaded.args == [draft.id] and window.pages.currentWidget() is window.editor


def test_discard_asks_says_what_is_lost_and_then_removes_the_draft(qtbot: Any, window: Any, store: Any,
                                                                    tmp_path: Path, artifacts: Path) -> None:
    """Discard asks first, naming the answers and photos it would delete; Cancel keeps all, Discard removes all."""
    case = _plain_case(store)
    draft = store.start_visit(case.id, TEMPLATE_ID)
    store.update_visit(draft.id, answers={"cause": "Leak", "mould_seen": True}, notes="bathroom")
    photo = store.add_photo(draft.id, write_jpeg(tmp_path / "p.jpg", 400, 300))
    detail = _show(qtbot, window, case.id)
    [row] = detail.drafts_box.rows
    row.discard_button.click()
    box = detail.drafts_box.discard_box
    assert isinstance(box, QMessageBox) and box.isVisible()
    assert "2 answers" in box.text() and "1 photo" in box.text() and "notes" in box.text()
    screenshot(box, artifacts / "ui_discard_draft.png")
    box.button(QMessageBox.StandardButton.Cancel).click()
    wait_idle(qtbot, window.ctx.tasks)
    assert [d.visit_id for d in store.drafts()] == [draft.id] and photo.path.exists()
    row.discard_button.click()
    detail.drafts_box.discard_box.button(QMessageBox.StandardButton.Discard).click()
    qtbot.waitUntil(lambda: not detail.drafts_box.rows and not window.ctx.tasks.busy)
    assert store.drafts() == [] and not photo.path.exists()
    assert not detail.drafts_box.isVisible()


def test_start_visit_with_a_draft_asks_before_making_another(qtbot: Any, window: Any, store: Any) -> None:
    """Start visit on a case with a draft asks; Continue opens the draft, and only "Start another" makes a second."""
    case = _plain_case(store)
    draft = store.start_visit(case.id, TEMPLATE_ID)
    detail = _show(qtbot, window, case.id)
    question = _click_start(qtbot, detail)
    assert "draft" in question.text().lower()
    with qtbot.waitSignal(window.editor.sig_loaded, timeout=10000) as loaded:
        question.continue_button.click()
    assert loaded.args == [draft.id] and len(store.drafts(case.id)) == 1
    window.show_cases()
    _click_start(qtbot, detail).button(QMessageBox.StandardButton.Cancel).click()
    wait_idle(qtbot, window.ctx.tasks)
    assert len(store.drafts(case.id)) == 1 and window.pages.currentWidget() is not window.editor
    with qtbot.waitSignal(window.editor.sig_loaded, timeout=10000) as loaded:
        _click_start(qtbot, detail).another_button.click()
    assert loaded.args != [draft.id] and len(store.drafts(case.id)) == 2


def _click_start(qtbot: Any, detail: Any) -> Any:
    """Press Start visit and wait for the question about the case's draft."""
    detail.draft_question = None
    detail.start_button.click()
    qtbot.waitUntil(lambda: detail.draft_question is not None and detail.draft_question.isVisible())
    return detail.draft_question


def test_case_list_marks_cases_with_a_draft(qtbot: Any, window: Any, store: Any) -> None:
    """The case list marks a case that has a draft (and only it), and the mark goes when the draft is discarded."""
    marked, plain = _plain_case(store, 0), _plain_case(store, 1)
    assert "Draft" not in _reference_cell(window, marked.id)
    draft = store.start_visit(marked.id, TEMPLATE_ID)
    window.ctx.signals.sig_drafts_changed.emit()
    qtbot.waitUntil(lambda: "Draft" in _reference_cell(window, marked.id))
    assert "Draft" not in _reference_cell(window, plain.id)
    model = window.case_list.model
    tip = model.data(model.index(model.row_of(marked.id), CaseTableModel.COL_REFERENCE), Qt.ItemDataRole.ToolTipRole)
    assert "draft" in tip.lower()
    store.discard_draft(draft.id)
    window.ctx.signals.sig_drafts_changed.emit()
    qtbot.waitUntil(lambda: "Draft" not in _reference_cell(window, marked.id))


def test_a_draft_opens_with_its_own_form_after_the_form_left_scope(qtbot: Any, window: Any, store: Any) -> None:
    """A draft whose form was withdrawn (tombstoned) or reset still opens with its questions and answers."""
    case = _plain_case(store)
    draft = store.start_visit(case.id, TEMPLATE_ID)
    store.update_visit(draft.id, answers={"cause": "Leak"})
    store.reset_portal_data()   # 410 resync_required: the form is kept only as a tombstone until the pull
    with qtbot.waitSignal(window.editor.sig_loaded, timeout=10000):
        window.open_visit(draft.id)
    assert "cause" in window.editor.rows and "mould_seen" in window.editor.rows


def test_status_text_names_every_kind_of_unsent_work() -> None:
    """The status line says drafts and each kind of queued work by name (a hazard report is not "nothing")."""
    from fieldapp.types import Pending
    from ui.status import pending_text

    assert pending_text(Pending(0, 0, 0, 0)) == "Nothing waiting to send"
    assert pending_text(Pending(0, 0, 0, 0, drafts=2)) == "2 drafts not submitted · nothing waiting to send"
    assert pending_text(Pending(0, 0, 0, 0, reports=1)) == "Waiting to send: 1 hazard report"
    assert pending_text(Pending(1, 1, 2, 2048, drafts=1)) == \
        "1 draft not submitted · Waiting to send: 1 visit, 1 decision, 2 photos (2 KB)"


def test_discarding_a_refused_visit_in_needs_attention_asks_first(qtbot: Any, window: Any, store: Any) -> None:
    """"Discard my change" on a never-sent visit deletes all of it: it asks first, naming the answers it holds."""
    case = _plain_case(store)
    visit = store.start_visit(case.id, TEMPLATE_ID)
    store.update_visit(visit.id, answers={"mould_seen": True, "severity": "Minor", "cause": "Leak"},
                       outcome="completed")
    store.submit_visit(visit.id)
    [op] = store.outbox()
    store.record_results([op], [OpResult.model_validate({"op_id": op.op_id, "status": "rejected",
                                 "error": {"code": "not_found", "message": "No such case."}})])
    page = window.attention
    window.show_attention()
    qtbot.waitUntil(lambda: "discard" in page.action_buttons)
    page.action_buttons["discard"].click()
    qtbot.waitUntil(lambda: page.discard_box is not None and page.discard_box.isVisible())
    assert "3 answers" in page.discard_box.text()
    page.discard_box.button(QMessageBox.StandardButton.Cancel).click()
    wait_idle(qtbot, window.ctx.tasks)
    assert store.visit(visit.id).answers["cause"] == "Leak" and store.problems()
    page.action_buttons["discard"].click()
    qtbot.waitUntil(lambda: page.discard_box is not None and page.discard_box.isVisible())
    page.discard_box.button(QMessageBox.StandardButton.Discard).click()
    qtbot.waitUntil(lambda: not store.problems())
    assert store.drafts() == []
