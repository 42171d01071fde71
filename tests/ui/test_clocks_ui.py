"""Statutory clocks on the officer's and lead's screens: case list, case page, Deadlines, review queue."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtGui import QColor
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from clock_factory import add_clocks
from factory import screenshot, wait_idle
from ui.models import CaseTableModel


def test_case_list_shows_the_nearest_clock_in_red_and_amber(qtbot: Any, window: Any, artifacts: Path) -> None:
    """Due shows the nearest unmet clock: breached in red, one working day left in amber, others plain."""
    breached, amber, running, further = add_clocks(window.ctx.store)
    window.refresh_all()
    model = window.case_list.model
    qtbot.waitUntil(lambda: model.clock_of(breached) is not None, timeout=10000)

    def cell(case_id: str, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        return model.index(model.row_of(case_id), CaseTableModel.COL_DUE).data(role)

    assert cell(breached).startswith("Investigate · ") and cell(breached).endswith(" h late")
    assert cell(breached, Qt.ItemDataRole.ForegroundRole).color() == QColor("#b3261e")
    assert cell(amber).startswith("Summary · ") and cell(amber).endswith("h left")
    assert cell(amber, Qt.ItemDataRole.ForegroundRole).color() == QColor("#8a5a00")
    assert "work days left" in cell(running) and cell(running, Qt.ItemDataRole.ForegroundRole) is None
    assert cell(further).startswith("Further work: steps")
    assert "Investigate the hazard: due" in cell(breached, Qt.ItemDataRole.ToolTipRole)


def test_case_page_lists_every_clock_with_stage_due_and_met(qtbot: Any, window: Any, artifacts: Path) -> None:
    """The case page shows each clock in plain English, its London due time, and met ones as met."""
    _, amber, _, further = add_clocks(window.ctx.store)
    window.refresh_all()
    detail = window.case_detail
    window.case_list.select_case(further) or detail.show_case(further)
    qtbot.waitUntil(lambda: detail.case is not None and detail.case.id == further, timeout=10000)
    panel = detail.clocks_panel
    stages = [stage.text() for stage, _due, _status in panel.rows]
    assert stages == ["Investigate the hazard", "Written summary to the tenant",
                      "Take steps to begin further work", "Start the further (supplementary) work"]
    statuses = [status.text() for _stage, _due, status in panel.rows]
    assert statuses[0].startswith("Met ") and statuses[1].startswith("Met ")
    assert statuses[2] == "4 working days left" or statuses[2].endswith("working days left")
    assert panel.rows[0][2].property("clock") == "met"
    assert "aware" in panel.intro.text() and "Damp and mould growth" in panel.intro.text()
    assert detail.due.text().startswith("Next deadline: Take steps to begin further work")
    detail.show_case(amber)
    qtbot.waitUntil(lambda: detail.case.id == amber, timeout=10000)
    assert detail.due.property("clock") == "amber"


def test_deadlines_view_orders_by_the_nearest_unmet_clock(qtbot: Any, window: Any) -> None:
    """Deadlines: one row per case with an unmet clock, breached first; Enter opens the case."""
    breached, amber, running, further = add_clocks(window.ctx.store)
    with qtbot.waitSignal(window.deadlines.sig_loaded, timeout=10000):
        window.show_deadlines()
    model = window.deadlines.model
    assert [r.case_id for r in model.rows()] == [breached, amber, further, running]
    assert model.index(0, model.COL_LEFT).data(Qt.ItemDataRole.ForegroundRole).color() == QColor("#b3261e")
    assert "(+1 more)" in model.index(1, model.COL_STAGE).data()
    assert "1 breached" in window.deadlines.count.text()
    window.deadlines.table.setCurrentIndex(model.index(2, 0))
    window.deadlines.table.activated.emit(model.index(2, 0))
    qtbot.waitUntil(lambda: window.case_detail.case is not None and window.case_detail.case.id == further,
                    timeout=10000)
    assert window.pages.currentWidget() is window.cases_page
    wait_idle(qtbot, window.ctx.tasks)


def _open_report(qtbot: Any, window: Any) -> Any:
    case_id = next(r.id for r in window.case_list.model.rows() if not r.has_warnings)
    window.case_list.select_case(case_id)
    detail = window.case_detail
    qtbot.waitUntil(lambda: detail.case is not None and detail.case.id == case_id, timeout=10000)
    detail.report_button.click()
    dialog = detail.report_dialog
    qtbot.waitUntil(lambda: dialog.hazards.count() > 0, timeout=10000)
    return dialog


def _tick(list_widget: Any, text: str) -> None:
    item = next(list_widget.item(i) for i in range(list_widget.count()) if list_widget.item(i).text() == text)
    item.setCheckState(Qt.CheckState.Checked)


def test_report_a_hazard_from_a_case_is_queued_offline(qtbot: Any, window: Any, artifacts: Path) -> None:
    """The dialog offers the vocabulary's hazards in their groups; a bad report says why; a good one is queued."""
    dialog = _open_report(qtbot, window)
    names = [dialog.hazards.item(i).text() for i in range(dialog.hazards.count())]
    assert len(names) == 29 + 4 and names[0] == "Physiological requirements"
    assert dialog.priority.currentData() == "urgent" and not dialog.photos.isVisible()
    dialog.send_button.click()
    qtbot.waitUntil(lambda: dialog.problems["hazards"].isVisible(), timeout=10000)
    assert dialog.problems["description"].isVisible() and dialog.isVisible()
    _tick(dialog.hazards, "Excess cold")
    qtbot.keyClicks(dialog.description, "Upstairs flat has no heating; elderly tenant")
    dialog.priority.setCurrentIndex(dialog.priority.findData("emergency"))
    screenshot(dialog, artifacts / "ui_report_hazard.png")
    with qtbot.waitSignal(dialog.sig_reported, timeout=10000) as reported:
        dialog.send_button.click()
    report = reported.args[0]
    assert report.hazards == ("Excess cold",) and report.priority == "emergency" and report.state == "queued"
    assert not dialog.isVisible()
    (op,) = window.ctx.store.outbox()
    assert op.entity == "hazard_report" and op.data["from_case_id"] == window.case_detail.case.id
    assert window.ctx.store.pending().reports == 1


def test_closing_a_started_report_asks_first(qtbot: Any, window: Any) -> None:
    """Cancel with something written asks before discarding; answering Cancel keeps the dialog and the text."""
    from PySide6.QtWidgets import QMessageBox

    dialog = _open_report(qtbot, window)
    qtbot.keyClicks(dialog.description, "Loose stair rail")
    dialog.reject()
    box = dialog.confirm_box
    assert box is not None and box.isVisible()
    box.button(QMessageBox.StandardButton.Cancel).click()
    assert dialog.isVisible() and dialog.description.toPlainText() == "Loose stair rail"
    dialog.reject()
    dialog.confirm_box.button(QMessageBox.StandardButton.Discard).click()
    qtbot.waitUntil(lambda: not dialog.isVisible())
    assert window.ctx.store.outbox() == []


# ---------------------------------------------------------------- the assessment in the editor


def _editor_on(qtbot: Any, window: Any, case_id: str) -> Any:
    """Start a visit to a case (acknowledging warnings if any) and return the editor once loaded."""
    window.case_list.select_case(case_id) or window.case_detail.show_case(case_id)
    qtbot.waitUntil(lambda: window.case_detail.case is not None and window.case_detail.case.id == case_id,
                    timeout=10000)
    with qtbot.waitSignal(window.editor.sig_loaded, timeout=10000):
        window.case_detail.start_visit()
        if window.case_detail.case.warnings:
            window.case_detail.warnings_dialog.acknowledge.setChecked(True)
            window.case_detail.warnings_dialog.start.click()
    wait_idle(qtbot, window.ctx.tasks)
    return window.editor


def _fill_required(editor: Any) -> None:
    rows = editor.rows
    rows["mould_seen"].editor.group.buttons()[0].click()
    rows["severity"].editor.combo.setCurrentIndex(2)
    rows["cause"].editor.edit.setPlainText("Condensation")
    editor.outcome.setCurrentIndex(editor.outcome.findData("completed"))


def test_the_assessment_is_required_on_an_awaab_case_and_saved_as_answered(qtbot: Any, window: Any,
                                                                           artifacts: Path) -> None:
    """Case under Awaab's Law, outcome completed: the assessment is marked required, submit lists it, and once
    answered (no band needed) the visit is queued with it."""
    _breached, amber, _running, _further = add_clocks(window.ctx.store)
    editor = _editor_on(qtbot, window, amber)
    assessment = editor.assessment
    # Until an outcome is chosen the visit counts as an inspection (fieldapp.domain_required), as at submit.
    assert assessment.title().endswith("*")
    editor.outcome.setCurrentIndex(editor.outcome.findData("no_access"))
    assert not assessment.title().endswith("*")
    _fill_required(editor)
    assert assessment.title().endswith("*") and "Required" in assessment.intro.text()
    qtbot.waitUntil(lambda: assessment.hazards.list.count() == 33, timeout=10000)
    editor.submit()
    qtbot.waitUntil(lambda: editor.missing_dialog is not None and editor.missing_dialog.isVisible(), timeout=10000)
    keys = [editor.missing_dialog.list.item(i).data(Qt.ItemDataRole.UserRole)
            for i in range(editor.missing_dialog.list.count())]
    assert keys == ["assessment"] and assessment.problem.isVisible()
    editor.missing_dialog.close()

    assessment.finding.group.buttons()[1].click()                          # significant
    item = next(assessment.hazards.list.item(i) for i in range(assessment.hazards.list.count())
                if assessment.hazards.list.item(i).text() == "Damp and mould growth")
    item.setCheckState(Qt.CheckState.Checked)
    qtbot.keyClicks(assessment.reasons.edit, "Asthmatic child sleeps in the mouldy room")
    assessment.household_factors.boxes[0].setChecked(True)
    assessment.make_safe_done.group.buttons()[1].click()                   # no
    qtbot.keyClicks(assessment.safety_work.edit, "Mould wash and fungicidal paint")
    assessment.alternative_accommodation.group.buttons()[1].click()
    editor.scroll.ensureWidgetVisible(assessment)
    screenshot(window, artifacts / "ui_editor_assessment.png")
    with qtbot.waitSignal(editor.sig_submitted, timeout=10000):
        editor.submit()
    data = next(op.data for op in window.ctx.store.outbox() if op.entity == "visit")
    assert data["assessment"] == {"finding": "significant", "hazards": ["Damp and mould growth"],
                                  "reasons": "Asthmatic child sleeps in the mouldy room",
                                  "household_factors": [assessment.household_factors.boxes[0].text()],
                                  "make_safe_done": False, "safety_work": "Mould wash and fungicidal paint",
                                  "alternative_accommodation": False}
    assert not assessment.finding.isEnabled()


def test_a_case_outside_the_regulations_submits_without_an_assessment(qtbot: Any, window: Any) -> None:
    """No clocks, not under Awaab's Law: the assessment is optional and the visit goes without one."""
    case_id = next(r.id for r in window.case_list.model.rows() if not r.has_warnings)
    editor = _editor_on(qtbot, window, case_id)
    _fill_required(editor)
    assert not editor.assessment.title().endswith("*")
    with qtbot.waitSignal(editor.sig_submitted, timeout=10000):
        editor.submit()
    assert "assessment" not in window.ctx.store.outbox()[0].data


def test_report_a_hazard_from_a_submitted_visit_takes_its_photos(qtbot: Any, window: Any, tmp_path: Path) -> None:
    """From a visit: photos are offered only once it is submitted, and the op names the visit and its photos."""
    from factory import write_jpeg

    case_id = next(r.id for r in window.case_list.model.rows() if not r.has_warnings)
    editor = _editor_on(qtbot, window, case_id)
    store = window.ctx.store
    photo = store.add_photo(editor.visit.id, write_jpeg(tmp_path / "wall.jpg", 400, 300), caption="Wall")
    editor.open_visit(editor.visit.id)
    qtbot.waitUntil(lambda: len(editor.visit.photos) == 1, timeout=10000)
    editor.report_button.click()
    dialog = editor.report_dialog
    assert not dialog.photos.item(0).flags() & Qt.ItemFlag.ItemIsEnabled
    assert "once the visit is submitted" in dialog.photos_note.text()
    dialog.close()
    _fill_required(editor)
    with qtbot.waitSignal(editor.sig_submitted, timeout=10000):
        editor.submit()
    editor.report_button.click()
    dialog = editor.report_dialog
    qtbot.waitUntil(lambda: dialog.hazards.count() > 0, timeout=10000)
    _tick(dialog.hazards, "Fire")
    dialog.photos.item(0).setCheckState(Qt.CheckState.Checked)
    qtbot.keyClicks(dialog.description, "No smoke alarm on the landing")
    with qtbot.waitSignal(dialog.sig_reported, timeout=10000):
        dialog.send_button.click()
    op = next(op for op in store.outbox() if op.entity == "hazard_report")
    assert op.data["visit_id"] == editor.visit.id and op.data["photo_ids"] == [photo.id]
    assert op.data["hazards"] == ["Fire"]


def test_clock_screens_at_1366x768_150_percent_and_1280x720(artifacts: Path) -> None:
    """The case list, case page, editor with assessment and Deadlines render at both display sizes (screenshots)."""
    import subprocess
    import sys

    from PySide6.QtGui import QImage

    script = Path(__file__).with_name("clock_screens.py")
    for width, height, scale in ((1366, 768, 1.5), (1280, 720, 1.0)):
        done = subprocess.run([sys.executable, str(script), str(artifacts), str(width), str(height), str(scale)],
                              capture_output=True, text=True, timeout=120, env={**__import__("os").environ})
        assert done.returncode == 0, done.stderr[-2000:]
        for name in ("case_list", "case_page", "editor_assessment", "deadlines"):
            image = QImage(str(artifacts / f"clocks_{name}_{width}x{height}@{scale:g}.png"))
            # 1366 / 1.5 is not a whole number of points: the window is 911 points, 1367 pixels.
            assert abs(image.width() - width) <= 1 and abs(image.height() - height) <= 1, name


def test_review_queue_shows_and_sorts_by_the_next_deadline(qapp: Any) -> None:
    """The lead's queue: a Next deadline column, red when breached, and the default order puts it first."""
    from datetime import datetime, timedelta, timezone

    from fieldapp.types import Clock, ReviewItem
    from ui.review.queue_model import COL_CLOCK, ReviewQueueTableModel

    now = datetime(2026, 12, 2, 10, 0, tzinfo=timezone.utc)

    def item(ref: str, clock: Clock | None, cat1: bool = False) -> ReviewItem:
        return ReviewItem(visit_id=ref, case_id=ref, case_reference=ref, address="", officer_id="o",
                          officer_name="Olivia", started_at=now, received_at=now - timedelta(hours=len(ref)),
                          outcome="completed", hazards=(), photo_count=0, category_1=cat1, resubmitted=False,
                          clock=clock)

    model = ReviewQueueTableModel()
    model.set_rows([item("none-cat1", None, cat1=True), item("later", Clock("summary", now + timedelta(days=6), None)),
                    item("late", Clock("investigate", now - timedelta(hours=5), None))], now)
    assert [i.visit_id for i in model.visible_items()] == ["late", "later", "none-cat1"]
    assert model.index(0, COL_CLOCK).data() == "Investigate · 5 h late"
    assert model.index(0, COL_CLOCK).data(Qt.ItemDataRole.ForegroundRole).color() == QColor("#b3261e")
    assert model.index(2, COL_CLOCK).data() == "None running"


def test_a_reported_hazard_is_said_as_news_not_as_a_problem_and_stays_with_its_visit(qtbot: Any, window: Any) -> None:
    """'Hazard reported…' under the visit read in the problem red, and was still there on the next visit opened."""
    cases = [r.id for r in window.case_list.model.rows() if not r.has_warnings]
    editor = _editor_on(qtbot, window, cases[0])
    first = editor.visit.id
    editor.report_button.click()
    dialog = editor.report_dialog
    qtbot.waitUntil(lambda: dialog.hazards.count() > 0, timeout=10000)
    _tick(dialog.hazards, "Fire")
    qtbot.keyClicks(dialog.description, "No smoke alarm on the landing")
    with qtbot.waitSignal(dialog.sig_reported, timeout=10000):
        dialog.send_button.click()
    assert editor.message.isVisible() and editor.message.text().startswith("Hazard reported")
    assert editor.message.objectName() != "problem"
    second = window.ctx.store.start_visit(cases[1], editor.visit.template_id)
    with qtbot.waitSignal(editor.sig_loaded, timeout=10000):
        editor.open_visit(second.id)
    assert editor.visit.id != first
    assert not editor.message.isVisible()


def test_going_to_the_assessment_shows_where_the_cursor_is(qtbot: Any, window: Any) -> None:
    """From the missing-answers list, Assessment scrolls to its Finding, which has the cursor, on a small screen.

    The box is taller than the editor's view at 1366x768 with 150 %: centred, its middle showed and the cursor sat
    on Finding out of sight, where a key press would answer unseen."""
    from fit import SIZES, in_view

    window.resize(*SIZES["1366x768@150"])
    _breached, amber, _running, _further = add_clocks(window.ctx.store)
    editor = _editor_on(qtbot, window, amber)
    wait_idle(qtbot, window.ctx.tasks)
    assert editor.assessment.height() > editor.scroll.viewport().height()
    editor.jump_to("assessment")
    focus = editor.assessment.focus_widget()
    qtbot.waitUntil(focus.hasFocus, timeout=5000)
    assert in_view(focus, window), "the assessment's Finding, with the cursor, is in view"


def test_a_breach_of_weeks_reads_whole_in_the_deadlines_list(qtbot: Any, window: Any) -> None:
    """"Breached 19 days ago", in bold, fits the Time left column on both small screens (it showed "Breached 19 day…")."""
    from datetime import datetime, timedelta, timezone

    from PySide6.QtGui import QFontMetrics

    from fit import SIZES

    add_clocks(window.ctx.store, now=datetime.now(timezone.utc) - timedelta(days=19))
    with qtbot.waitSignal(window.deadlines.sig_loaded, timeout=10000):
        window.show_deadlines()
    table, model = window.deadlines.table, window.deadlines.model
    text = model.index(0, model.COL_LEFT).data()
    assert text.startswith("Breached 2") and text.endswith(" days ago")
    font = model.index(0, model.COL_LEFT).data(Qt.ItemDataRole.FontRole) or table.font()
    margins = 2 * (table.style().pixelMetric(table.style().PixelMetric.PM_FocusFrameHMargin) + 1)
    for width, height in SIZES.values():
        window.resize(width, height)
        QApplication.processEvents()
        assert QFontMetrics(font).horizontalAdvance(text) + margins <= table.columnWidth(model.COL_LEFT), (width, text)
