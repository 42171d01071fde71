"""Hazards in the real editor and review screens over a real store: rows saved as typed, one list, one Category 1 rule."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt

from factory import LEAD, OFFICER, TEMPLATE_ID, loaded_review_page, screenshot, wait_idle
from fieldapp.types import Hazard
from test_screens import _start_visit
from ui.app import create_main_window, shutdown_window
from ui.review.queue_model import COL_HAZARDS

DAMP_C = {"hazard": "Damp and mould growth", "band": "C"}


def _editor(qtbot: Any, window: Any) -> Any:
    case_id = next(r.id for r in window.case_list.model.rows() if not r.has_warnings)
    _start_visit(qtbot, window, case_id)
    return window.editor


def _type_row(row: Any, hazard: str | None, location: str, notes: str) -> None:
    if hazard:
        row.hazard.setCurrentIndex(row.hazard.findData(hazard))
    for edit, text in ((row.location, location), (row.notes, notes)):
        edit.setText(text)
        edit.textEdited.emit(text)


def test_a_hazard_row_without_a_band_survives_closing_the_window(qtbot: Any, store_factory: Any, tasks: Any) -> None:
    """Hazard, location and notes but no band, then the window closes at once: the row is in the store as typed."""
    store = store_factory("laptop", cases=10)
    window = create_main_window(store, tasks=tasks)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.case_list.model.rowCount() > 0)
    editor = _editor(qtbot, window)
    _type_row(editor.hazards.add_row(), "Damp and mould growth", "Back bedroom", "Black mould behind the wardrobe")
    _type_row(editor.hazards.add_row(), None, "Kitchen", "Check the extractor")
    visit_id = editor.visit.id
    shutdown_window(window)
    store.close()
    reopened = store_factory("laptop")
    assert reopened.visit(visit_id).hazards == (
        Hazard("Damp and mould growth", "", "Back bedroom", "Black mould behind the wardrobe"),
        Hazard("", "", "Kitchen", "Check the extractor"))


def test_a_row_without_a_hazard_is_flagged_at_submit_and_shown_on_reopen(qtbot: Any, window: Any, artifacts: Path) -> None:
    """The nameless row is listed by the submit check and marked beside itself; the unbanded one is accepted."""
    editor = _editor(qtbot, window)
    _type_row(editor.hazards.add_row(), "Excess cold", "Hall", "No radiator")
    nameless = editor.hazards.add_row()
    _type_row(nameless, None, "Kitchen", "Check the extractor")
    assert not nameless.problem.isVisible()            # nothing nags before a submit is tried
    editor.outcome.setCurrentIndex(editor.outcome.findData("no_access"))
    editor.submit()
    qtbot.waitUntil(lambda: editor.missing_dialog is not None and editor.missing_dialog.isVisible(), timeout=10000)
    dialog = editor.missing_dialog
    keys = [dialog.list.item(i).data(Qt.ItemDataRole.UserRole) for i in range(dialog.list.count())]
    assert keys == ["hazards.1"] and dialog.list.item(0).text().startswith("Hazard 2:")
    dialog.list.itemActivated.emit(dialog.list.item(0))
    qtbot.waitUntil(lambda: window.focusWidget() is nameless.hazard)   # (the window may be inactive offscreen)
    assert nameless.problem.isVisible() and "Choose a hazard" in nameless.problem.text()
    assert not editor.hazards.rows[0].problem.isVisible()
    for width, height, name in ((1280, 720, "1280x720"), (911, 512, "1366x768_at_150")):  # 150 %: logical pixels
        window.resize(width, height)
        editor.scroll.ensureWidgetVisible(nameless)
        screenshot(window, artifacts / f"ui_hazard_row_flagged_{name}.png")
    window.show_cases()
    wait_idle(qtbot, window.ctx.tasks)
    with qtbot.waitSignal(editor.sig_loaded, timeout=10000):
        window.open_visit(editor.visit.id)
    assert [r.value() for r in editor.hazards.rows] == [Hazard("Excess cold", "", "Hall", "No radiator"),
                                                        Hazard("", "", "Kitchen", "Check the extractor")]


def test_the_editor_shows_hazards_answered_at_questions_with_the_list(qtbot: Any, window: Any) -> None:
    """A hazard answered at the "Main hazard" question is listed under the Hazards rows, Category 1 marked."""
    editor = _editor(qtbot, window)
    assert not editor.hazards.answered.isVisible()
    question = editor.rows["main_hazard"].editor
    question.hazard.setCurrentIndex(question.hazard.findData(DAMP_C["hazard"]))
    question.band.setCurrentIndex(question.band.findData("C"))
    text = editor.hazards.answered.text()
    assert editor.hazards.answered.isVisible()
    assert "Damp and mould growth, band C (Category 1) — at “Main hazard”" in text


def _lead_store_with_visit(store_factory: Any) -> tuple[Any, str]:
    """A lead's store holding one submitted team visit: band C damp at a question, band D cold in the list."""
    store = store_factory("lead", cases=3, user=LEAD)
    case = store.cases()[0]
    visit_id = str(uuid.uuid4())
    data = {"case_id": case.id, "officer_id": OFFICER.id, "template_id": TEMPLATE_ID, "template_version": 1,
            "started_at": "2026-11-20T10:00:00Z", "completed_at": "2026-11-20T10:45:00Z", "outcome": "completed",
            "answers": {"mould_seen": True, "severity": "Severe", "cause": "Leak", "main_hazard": DAMP_C},
            "notes": "", "hazards": [{"hazard": "Excess cold", "band": "D", "location": "Hall", "notes": ""}],
            "photos": [], "status": "submitted", "review": None}
    store.apply_changes([{"entity": "visit", "id": visit_id, "version": 1, "seq": 10_000, "deleted": False,
                          "data": data}], 10_000)
    return store, visit_id


def test_the_review_queue_marks_the_real_category_1_hazard(qtbot: Any, store_factory: Any, tasks: Any,
                                                          artifacts: Path) -> None:
    """The queue names the band C damp hazard as Category 1 and shows the band D one apart; the visit lists both."""
    store, visit_id = _lead_store_with_visit(store_factory)
    widget = loaded_review_page(qtbot, store, size=(1280, 720))
    model = widget.queue.table.model()
    cell = model.index(0, COL_HAZARDS).data()
    assert cell == "⚠ Category 1: Damp and mould growth (C); also Excess cold (D)"
    for width, height, name in ((1280, 720, "1280x720"), (911, 512, "1366x768_at_150")):
        widget.resize(width, height)
        screenshot(widget, artifacts / f"ui_review_queue_hazards_{name}.png")
    with qtbot.waitSignal(widget.sig_visit_shown, timeout=10000):
        widget.open_visit(visit_id)
    texts = [label.text() for label in widget.visit_view.scroll.widget().findChildren(type(widget.visit_view.meta_label))]
    assert "Excess cold, band D — Hall" in texts
    assert "Damp and mould growth, band C (Category 1) — at “Main hazard”" in texts
