"""The officer's screens over a real store: case list, case detail with warnings, visit editing and submit."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt

from factory import screenshot, wait_idle
from fieldapp.types import VisitState
from ui.app import create_main_window, shutdown_window
from ui.case_detail import WarningsDialog
from ui.visit_editor import MissingDialog


def _warned_case(window: Any) -> str:
    return next(r.id for r in window.case_list.model.rows() if r.has_warnings)


def _start_visit(qtbot: Any, window: Any, case_id: str) -> None:
    """Select a case, press Start visit, acknowledge warnings if asked; waits for the editor."""
    window.case_list.select_case(case_id)
    qtbot.waitUntil(lambda: window.case_detail.case is not None and window.case_detail.case.id == case_id)
    with qtbot.waitSignal(window.editor.sig_loaded, timeout=10000):
        window.case_detail.start_visit()
        dialog = window.case_detail.warnings_dialog
        if window.case_detail.case.warnings:
            assert dialog is not None and dialog.isVisible()
            dialog.acknowledge.setChecked(True)
            dialog.start.click()


def test_case_list_searches_and_filters(qtbot: Any, window: Any, artifacts: Path) -> None:
    """Typing in the search box narrows the list; filters combine; the list is soonest-due first."""
    model = window.case_list.model
    assert model.rowCount() == 60
    dues = [r.due_at for r in model.rows()]
    assert dues == sorted(dues)
    with qtbot.waitSignal(window.case_list.sig_filtered):
        qtbot.keyClicks(window.case_list.search, "HC-00012")
    assert [r.reference for r in model.rows()] == ["HC-00012"]
    with qtbot.waitSignal(window.case_list.sig_filtered):
        window.case_list.search.clear()
    with qtbot.waitSignal(window.case_list.sig_filtered):
        window.case_list.overdue_filter.setChecked(True)
    assert model.rowCount() > 0 and all(r.overdue for r in model.rows())
    assert model.index(0, 1).data().startswith("Overdue")
    with qtbot.waitSignal(window.case_list.sig_filtered):
        window.case_list.overdue_filter.setChecked(False)
    status = window.case_list.status_filter
    with qtbot.waitSignal(window.case_list.sig_filtered):
        status.setCurrentIndex(status.findData("visited"))
    assert model.rowCount() > 0 and {r.status for r in model.rows()} == {"visited"}
    with qtbot.waitSignal(window.case_list.sig_filtered):
        status.setCurrentIndex(0)
    screenshot(window, artifacts / "ui_main_window.png")


def test_case_detail_shows_warnings_and_start_needs_acknowledgement(qtbot: Any, window: Any, artifacts: Path) -> None:
    """A home with warnings shows a banner, and a visit starts only after the officer ticks the acknowledgement."""
    case_id = _warned_case(window)
    window.case_list.select_case(case_id)
    detail = window.case_detail
    qtbot.waitUntil(lambda: detail.case is not None and detail.case.id == case_id)
    assert detail.banner.isVisible() and "Dog on premises" in detail.banner.body.text()
    screenshot(window, artifacts / "ui_case_detail_warnings.png")
    detail.start_visit()   # asks the store for drafts of the case first, then shows the warnings
    qtbot.waitUntil(lambda: detail.warnings_dialog is not None and detail.warnings_dialog.isVisible())
    dialog = detail.warnings_dialog
    assert isinstance(dialog, WarningsDialog)
    assert not dialog.start.isEnabled()
    screenshot(dialog, artifacts / "ui_warnings_dialog.png")
    dialog.reject()
    wait_idle(qtbot, window.ctx.tasks)
    assert window.pages.currentWidget() is not window.editor
    with qtbot.waitSignal(window.editor.sig_loaded, timeout=10000):
        detail.warnings_dialog = None
        detail.start_visit()
        qtbot.waitUntil(lambda: detail.warnings_dialog is not None and detail.warnings_dialog.isVisible())
        detail.warnings_dialog.acknowledge.setChecked(True)
        assert detail.warnings_dialog.start.isEnabled()
        detail.warnings_dialog.start.click()
    assert window.pages.currentWidget() is window.editor
    assert window.editor.warning_banner.isVisible()


def test_every_question_kind_is_edited_and_survives_close_and_reopen(qtbot: Any, store_factory: Any,
                                                                     tasks: Any, artifacts: Path) -> None:
    """Answers of every kind, hazards, outcome and notes are saved as typed; closing mid-visit loses nothing."""
    store = store_factory("laptop", cases=20)
    window = create_main_window(store, tasks=tasks)
    qtbot.addWidget(window)
    window.resize(1280, 900)
    window.show()
    qtbot.waitUntil(lambda: window.case_list.model.rowCount() > 0)
    case_id = next(r.id for r in window.case_list.model.rows() if not r.has_warnings)
    _start_visit(qtbot, window, case_id)
    editor = window.editor
    rows = editor.rows
    assert {row.editor.question.kind for row in rows.values()} >= {
        "yes_no", "choice", "multi_choice", "text", "number", "date", "rating", "hazard", "photo"}
    rows["mould_seen"].editor.group.buttons()[0].click()                   # yes_no → True
    rows["severity"].editor.combo.setCurrentIndex(2)                       # choice → Moderate
    rows["rooms"].editor.boxes[1].setChecked(True)                         # multi_choice
    area = rows["area"].editor.edit
    area.setFocus()
    qtbot.keyClicks(area, "12.5")
    area.editingFinished.emit()
    rows["condition"].editor.group.buttons()[3].click()                    # rating 4
    rows["next_date"].editor.today.click()                                 # date
    hazard = rows["main_hazard"].editor
    hazard.hazard.setCurrentIndex(1)
    hazard.band.setCurrentIndex(hazard.band.findData("B"))
    qtbot.keyClicks(rows["cause"].editor.edit, "Condensation from drying clothes")  # typed, saved after 300 ms
    row = editor.hazards.add_row()
    row.hazard.setCurrentIndex(row.hazard.findData("Excess cold"))
    row.band.setCurrentIndex(row.band.findData("C"))
    assert row.objectName() == "category1" and "Category 1" in row.category.text()
    editor.outcome.setCurrentIndex(editor.outcome.findData("completed"))
    qtbot.keyClicks(editor.notes, "Tenant helpful.")
    visit_id = editor.visit.id
    screenshot(editor, artifacts / "ui_visit_editor.png")
    # Close at once: the typing delay has not run out, the close must still save everything.
    shutdown_window(window)
    store.close()

    reopened = store_factory("laptop")
    visit = reopened.visit(visit_id)
    assert visit.answers["mould_seen"] is True
    assert visit.answers["severity"] == "Moderate"
    assert visit.answers["rooms"] == ["Bathroom"]
    assert visit.answers["area"] == 12.5
    assert visit.answers["condition"] == 4
    assert len(visit.answers["next_date"]) == 10
    assert visit.answers["main_hazard"]["band"] == "B"
    assert visit.answers["cause"] == "Condensation from drying clothes"
    assert [(h.hazard, h.band) for h in visit.hazards] == [("Excess cold", "C")]
    assert visit.outcome == "completed" and visit.notes == "Tenant helpful."


def test_invalid_answer_is_shown_beside_its_question(qtbot: Any, window: Any) -> None:
    """A number out of range is saved as typed and its message appears beside the question."""
    case_id = next(r.id for r in window.case_list.model.rows() if not r.has_warnings)
    _start_visit(qtbot, window, case_id)
    area = window.editor.rows["area"]
    area.editor.edit.setText("900")
    with qtbot.waitSignal(window.editor.sig_saved, timeout=10000):
        area.editor.edit.editingFinished.emit()
    qtbot.waitUntil(lambda: area.problem.isVisible())
    assert "500" in area.problem.text()


def test_submit_lists_what_is_missing_then_queues(qtbot: Any, window: Any, artifacts: Path) -> None:
    """Submit with missing answers lists them (activating one jumps there); once complete the visit is queued and locked."""
    case_id = next(r.id for r in window.case_list.model.rows() if not r.has_warnings)
    _start_visit(qtbot, window, case_id)
    editor = window.editor
    editor.outcome.setCurrentIndex(editor.outcome.findData("completed"))
    editor.submit()
    qtbot.waitUntil(lambda: editor.missing_dialog is not None and editor.missing_dialog.isVisible(), timeout=10000)
    dialog = editor.missing_dialog
    assert isinstance(dialog, MissingDialog)
    keys = [dialog.list.item(i).data(Qt.ItemDataRole.UserRole) for i in range(dialog.list.count())]
    assert {"mould_seen", "severity", "cause"} <= set(keys)
    screenshot(dialog, artifacts / "ui_missing_dialog.png")
    dialog.list.itemActivated.emit(dialog.list.item(keys.index("cause")))
    qtbot.waitUntil(lambda: editor.rows["cause"].editor.edit.hasFocus() or not dialog.isVisible())
    assert editor.rows["cause"].problem.isVisible()

    editor.rows["mould_seen"].editor.group.buttons()[1].click()
    editor.rows["severity"].editor.combo.setCurrentIndex(1)
    editor.rows["cause"].editor.edit.setPlainText("Leak from the flat above")
    with qtbot.waitSignal(editor.sig_submitted, timeout=10000):
        editor.submit()
    assert editor.visit.state == VisitState.QUEUED
    assert not editor.submit_button.isVisible() and editor.state_banner.isVisible()
    assert "waiting to sync" in editor.state_banner.text.text()
    assert not editor.rows["cause"].editor.isEnabled()
    screenshot(editor, artifacts / "ui_visit_submitted.png")
    wait_idle(qtbot, window.ctx.tasks)
    qtbot.waitUntil(lambda: "1 visit" in window.status_line.pending.text(), timeout=10000)


def test_keyboard_shortcuts_reach_search_and_new_visit(qtbot: Any, window: Any) -> None:
    """Ctrl+F focuses the search box; Ctrl+N starts a visit to the selected case."""
    qtbot.keyClick(window, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(window.case_list.search.hasFocus)
    case_id = next(r.id for r in window.case_list.model.rows() if not r.has_warnings)
    window.case_list.select_case(case_id)
    qtbot.waitUntil(lambda: window.case_detail.case is not None and window.case_detail.case.id == case_id)
    with qtbot.waitSignal(window.editor.sig_loaded, timeout=10000):
        qtbot.keyClick(window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    assert window.pages.currentWidget() is window.editor


def test_escape_in_the_editor_goes_back_and_saves(qtbot: Any, window: Any) -> None:
    """Esc in the visit editor returns to the cases with the typing saved; on the case page it does nothing."""
    case_id = next(r.id for r in window.case_list.model.rows() if not r.has_warnings)
    _start_visit(qtbot, window, case_id)
    editor = window.editor
    editor.notes.setFocus()
    qtbot.keyClicks(editor.notes, "Gas smell in hall")
    with qtbot.waitSignal(editor.sig_saved, timeout=10000):
        qtbot.keyClick(editor.notes, Qt.Key.Key_Escape)
    assert window.pages.currentWidget() is window.cases_page
    assert window.ctx.store.visit(editor.visit.id).notes == "Gas smell in hall"
    window.case_list.table.setFocus()
    qtbot.keyClick(window.case_list.table, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    wait_idle(qtbot, window.ctx.tasks)
    assert editor.missing_dialog is None   # Ctrl+Enter (submit) did not reach the hidden editor


def test_notes_past_the_portal_limit_are_flagged_while_typing(qtbot: Any, window: Any) -> None:
    """Notes over the shared limit show a warning at once and are saved as typed (nothing cut)."""
    from fieldapp.limits import NOTES_MAX_CHARS

    case_id = next(r.id for r in window.case_list.model.rows() if not r.has_warnings)
    _start_visit(qtbot, window, case_id)
    editor = window.editor
    assert not editor.notes_problem.isVisible()
    long_notes = "n" * (NOTES_MAX_CHARS + 5)
    with qtbot.waitSignal(editor.sig_saved, timeout=10000):
        editor.notes.setPlainText(long_notes)
    assert editor.notes_problem.isVisible() and "Shorten it by 5" in editor.notes_problem.text()
    assert editor.visit.notes == long_notes
    editor.notes.setPlainText("short")
    assert not editor.notes_problem.isVisible()


def test_the_toolbars_sign_in_opens_the_sign_in_box(qtbot: Any, window: Any) -> None:
    """Signed out, the toolbar's Sign in… asks for the password: it once raised a TypeError and opened nothing.

    A QAction passes its checked state to the slot, which took it for the reason to show.
    """
    assert window.ctx.client is None and window.sign_in_action.isVisible()
    window.sign_in_action.trigger()
    qtbot.waitUntil(lambda: window.sign_in_dialog is not None and window.sign_in_dialog.isVisible(), timeout=5000)
    assert not window.sign_in_dialog.reason.isVisible()   # no reason was given: none is shown
    window.sign_in_dialog.reject()
