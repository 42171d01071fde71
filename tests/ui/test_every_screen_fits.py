"""Every screen and dialog fits a small laptop: at 1366x768 with 150 % scaling and at 1280x720.

Each screen is opened as the officer (or lead) opens it, sized to the target, saved under
tests/artifacts/fit_<screen>_<size>.png, and walked by `fit.misfits`: no control cut off
or clipped, no toolbar action in the overflow menu, nothing reachable only sideways.
The key buttons (Start visit, Submit, Close) must be in view without any scrolling.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from factory import TEMPLATE_ID, screenshot, wait_idle, write_jpeg
from fit import SIZES, in_view, misfits
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QFileDialog,
    QInputDialog,
    QMessageBox,
    QWidget,
)

from fieldapp.types import ProblemAction
from ui.returned_visits import returned_message

pytestmark = pytest.mark.parametrize("size", list(SIZES))


class Screens:
    """Sizes each screen to the target, saves its screenshot and collects every fault of fit."""

    def __init__(self, size: str, artifacts: Path) -> None:
        self.size, self.artifacts = size, artifacts
        self.width, self.height = SIZES[size]
        self.faults: list[str] = []

    def window(self, window: QWidget, name: str) -> None:
        """A main window: resized to the whole target screen."""
        window.resize(self.width, self.height)
        if (window.width(), window.height()) != (self.width, self.height):
            self.faults.append(f"{name}: cannot be made {self.width}x{self.height} (is {window.width()}x{window.height()})")
        self._walk(window, name)

    def dialog(self, dialog: QWidget, name: str) -> None:
        """A dialog or popup: no bigger than the target screen, however large it opened."""
        QApplication.processEvents()
        dialog.resize(min(dialog.width(), self.width), min(dialog.height(), self.height))
        QApplication.processEvents()
        least = dialog.minimumSizeHint()
        if least.width() > self.width or least.height() > self.height:
            self.faults.append(f"{name}: needs at least {least.width()}x{least.height()}, more than the "
                               f"{self.width}x{self.height} screen")
        if dialog.width() > self.width or dialog.height() > self.height:
            self.faults.append(f"{name}: is {dialog.width()}x{dialog.height()}, larger than the "
                               f"{self.width}x{self.height} screen")
        self._walk(dialog, name)

    def _walk(self, widget: QWidget, name: str) -> None:
        screenshot(widget, self.artifacts / f"fit_{name}_{self.size}.png")
        self.faults.extend(f"{name}: {fault}" for fault in misfits(widget))

    def need_in_view(self, widget: QWidget, window: QWidget, what: str) -> None:
        if not in_view(widget, window):
            self.faults.append(f"{what} is not in view without scrolling")

    def check(self) -> None:
        assert not self.faults, f"At {self.size}:\n  " + "\n  ".join(self.faults)


def _case(window: Any, *, warnings: bool) -> str:
    return next(r.id for r in window.case_list.model.rows() if r.has_warnings == warnings)


def _show_case(qtbot: Any, window: Any, case_id: str) -> None:
    window.case_list.select_case(case_id)
    qtbot.waitUntil(lambda: window.case_detail.case is not None and window.case_detail.case.id == case_id)
    wait_idle(qtbot, window.ctx.tasks)


def _open_box(qtbot: Any, box: QWidget) -> QWidget:
    qtbot.waitUntil(box.isVisible, timeout=5000)
    return box


def _close(box: QWidget) -> None:
    box.close() if not isinstance(box, QDialog) else box.reject()


def test_the_officers_screens_fit(qtbot: Any, window: Any, tasks: Any, artifacts: Path, size: str,
                                  tmp_path: Path) -> None:
    """Cases, a case with warnings, its dialogs, the editor and its dialogs, Needs attention, Deadlines, boxes."""
    screens = Screens(size, artifacts)
    store = window.ctx.store
    window.resize(screens.width, screens.height)

    # The cases page, with a case whose home has warnings; Start visit asks first.
    warned = _case(window, warnings=True)
    _show_case(qtbot, window, warned)
    screens.window(window, "cases")
    screens.need_in_view(window.case_detail.start_button, window, "The case's Start visit")
    search = window.case_list.search
    if search.width() < search.fontMetrics().averageCharWidth() * 30:
        screens.faults.append("the case search is too narrow to read what is typed")
    window.case_detail.start_visit()
    qtbot.waitUntil(lambda: window.case_detail.warnings_dialog is not None
                    and window.case_detail.warnings_dialog.isVisible(), timeout=5000)
    screens.dialog(window.case_detail.warnings_dialog, "warnings_before_visit")
    window.case_detail.warnings_dialog.reject()

    # A case with a draft: the draft question, then the editor of a new visit.
    plain = _case(window, warnings=False)
    draft = store.start_visit(plain, TEMPLATE_ID)
    window.ctx.signals.sig_drafts_changed.emit()
    _show_case(qtbot, window, plain)
    qtbot.waitUntil(lambda: window.case_detail.drafts_box.isVisible(), timeout=5000)
    screens.window(window, "case_with_draft")
    drafts = window.case_detail.drafts_box
    drafts.rows[0].discard_button.click()
    screens.dialog(_open_box(qtbot, drafts.discard_box), "discard_draft")
    drafts.discard_box.button(QMessageBox.StandardButton.Cancel).click()
    window.case_detail.start_visit()
    qtbot.waitUntil(lambda: window.case_detail.draft_question is not None
                    and window.case_detail.draft_question.isVisible(), timeout=5000)
    screens.dialog(window.case_detail.draft_question, "draft_question")
    with qtbot.waitSignal(window.editor.sig_loaded, timeout=10000):
        window.case_detail.draft_question.continue_button.click()
    assert window.editor.visit.id == draft.id
    editor = window.editor
    wait_idle(qtbot, tasks)
    screens.window(window, "editor")
    screens.need_in_view(editor.submit_button, window, "The editor's Submit")

    # Photos in the editor, enlarged and captioned.
    editor.photos.import_files([write_jpeg(tmp_path / f"p{n}.jpg", 1600, 1200, hue=n) for n in range(3)])
    qtbot.waitUntil(lambda: editor.photos.model.rowCount() == 3, timeout=20000)
    wait_idle(qtbot, tasks)
    editor.scroll.ensureWidgetVisible(editor.photos)
    screens.window(window, "editor_photos")
    editor.photos.view.setCurrentIndex(editor.photos.model.index(0, 0))
    editor.photos.enlarge()
    viewer = _open_box(qtbot, editor.photos.viewer)
    wait_idle(qtbot, tasks)
    screens.dialog(viewer, "photo_viewer")
    viewer.reject()
    editor.photos.annotate()   # the annotate engineer's dialog, checked here with every other one
    annotator = _open_box(qtbot, editor.photos.annotator)
    wait_idle(qtbot, tasks)
    screens.dialog(annotator, "annotate_photo")
    annotator.reject()
    for ask, name in ((editor.photos.edit_caption, "photo_caption"), (editor.photos.attach_to_question, "photo_question")):
        ask()
        box = next(b for b in editor.photos.findChildren(QInputDialog) if b.isVisible())
        screens.dialog(box, name)
        box.reject()
    editor.photos.choose_files()
    chooser = _open_box(qtbot, next(d for d in editor.photos.findChildren(QFileDialog) if d.isVisible()))
    screens.dialog(chooser, "add_photos_file_dialog")
    chooser.reject()
    editor.photos._show_progress(True)   # as while an import runs: its bar and Stop importing
    screens.window(window, "editor_photo_import")
    editor.photos._show_progress(False)

    # A hazard row and the assessment.
    editor.hazards.add_row()
    editor.scroll.ensureWidgetVisible(editor.assessment)
    screens.window(window, "editor_hazards_assessment")

    # The date question's calendar.
    date = editor.rows["next_date"].editor
    editor.scroll.ensureWidgetVisible(date)
    date.pick.click()
    qtbot.waitUntil(lambda: QApplication.activePopupWidget() is not None, timeout=5000)
    popup = QApplication.activePopupWidget()
    screens.dialog(popup, "date_calendar")
    popup.close()

    # Submit with answers missing: every one listed at once.
    editor.submit()
    qtbot.waitUntil(lambda: editor.missing_dialog is not None and editor.missing_dialog.isVisible(), timeout=10000)
    screens.dialog(editor.missing_dialog, "missing_answers")
    editor.missing_dialog.reject()
    screens.window(window, "editor_after_submit")

    # Report a hazard from the visit, and its discard question.
    editor.report_hazard()
    qtbot.waitUntil(lambda: editor.report_dialog is not None and editor.report_dialog.isVisible(), timeout=5000)
    wait_idle(qtbot, tasks)
    report = editor.report_dialog
    screens.dialog(report, "report_hazard")
    report.description.setPlainText("Loose stair rail on the landing")
    report.reject()
    qtbot.waitUntil(lambda: report.confirm_box is not None and report.confirm_box.isVisible(), timeout=5000)
    screens.dialog(report.confirm_box, "report_hazard_discard")
    report.confirm_box.button(QMessageBox.StandardButton.Discard).click()

    # Needs attention with a returned visit and a refused change; Deadlines; the keyboard box.
    plain_cases = [r.id for r in window.case_list.model.rows() if not r.has_warnings]
    _returned_and_refused(store, plain_cases[:6], draft.id)   # a bad day: six visits came back
    window.show_cases()
    window.show_attention()
    wait_idle(qtbot, tasks)
    screens.window(window, "needs_attention")
    attention = window.attention
    qtbot.waitUntil(lambda: ProblemAction.DISCARD in attention.action_buttons, timeout=5000)
    attention.action_buttons[ProblemAction.DISCARD].click()
    qtbot.waitUntil(lambda: attention.discard_box is not None and attention.discard_box.isVisible(), timeout=5000)
    screens.dialog(attention.discard_box, "discard_refused_change")
    attention.discard_box.button(QMessageBox.StandardButton.Cancel).click()
    from clock_factory import add_clocks

    add_clocks(store, start=10)   # statutory clocks on cases past the ones used above
    window.show_deadlines()
    qtbot.waitUntil(lambda: window.deadlines.table.isVisible(), timeout=10000)
    wait_idle(qtbot, tasks)
    screens.window(window, "deadlines")
    window.show_shortcuts()
    box = next(b for b in window.findChildren(QMessageBox) if b.windowTitle() == "Keyboard shortcuts")
    screens.dialog(_open_box(qtbot, box), "keyboard_shortcuts")
    box.close()

    # The status line with a long message, and the failure box.
    window.show_cases()
    window.status_line.show_message("2 visits returned by your lead (Needs attention) · Sync complete: "
                                    "12 cases received, 3 visits sent")
    screens.window(window, "status_line_message")
    window.status_line.show_message(returned_message(2))   # the news after a sync: read whole, not cut short
    screens.window(window, "status_line_returned")
    if window.status_line.message.is_elided():
        screens.faults.append("the returned visits' message is cut short: " + window.status_line.message.text())
    from ui.tasks import TaskProgress

    window.sync.sig_started.emit()
    window.progress.update_progress(TaskProgress(0.4, "Uploading photos · 12 of 30 · 14.2 MB of 36.0 MB"))
    screens.window(window, "status_line_syncing")
    window.progress.hide()
    window.failures.show_failure(_failure("save the visit", "The disk is full. Free some space, then try again."))
    screens.dialog(_open_box(qtbot, window.failures.box), "failure")
    window.failures.box.close()
    screens.check()


def _returned_and_refused(store: Any, case_ids: list[str], refused_visit_id: str) -> None:
    """A visit the lead returned with a long comment to each case, and a change the portal refused."""
    from test_returned_visits import _returned_visit

    from fieldapp.outbox import add_problem
    from fieldapp.types import ProblemAction

    comment = ("The bathroom photos are missing: add them, say where the mould is and whether the extractor "
               "fan works, then submit again.")
    store.apply_changes([_returned_visit(case_id, comment) for case_id in case_ids], store.sync_state().cursor + 1)
    with store._write() as session:   # what a sync records when the portal refuses a change
        add_problem(session, kind="rejected", entity="visit", record_id=refused_visit_id,
                    message="The portal refused this visit: the case was closed on 30 Nov 2026 by the repairs team. "
                            "Send it again to attach it to the reopened case, or discard your change.",
                    actions=(ProblemAction.RETRY, ProblemAction.DISCARD))


def _failure(what: str, message: str) -> Any:
    from ui.tasks import TaskFailure

    return TaskFailure(message, RuntimeError(message), what)


def test_repeat_sections_letter_sign_in_and_sign_out_fit(qtbot: Any, window: Any, tasks: Any, artifacts: Path,
                                                         size: str, tmp_path: Path) -> None:
    """Rooms added one by one and their remove question; the tenant's letter; sign-in; removing the laptop's data."""
    from test_form_rules_ui import _open as open_rooms_visit
    from test_letter_ui import _visit as letter_visit

    from fieldapp.types import Pending
    from ui.letter import TenantLetterDialog
    from ui.signin import SignInDialog
    from ui.signout import RemoveDataDialog

    screens = Screens(size, artifacts)
    window.resize(screens.width, screens.height)
    editor = open_rooms_visit(qtbot, window)
    rooms = editor.repeats["rooms"]
    for _ in range(2):
        rooms.add_button.click()
    rooms.repetitions[0].rows["room"].editor.combo.setCurrentIndex(2)   # Bathroom: its fan question shows
    wait_idle(qtbot, tasks)
    editor.scroll.ensureWidgetVisible(rooms.repetitions[0])
    screens.window(window, "editor_rooms")
    rooms.repetitions[0].remove_button.click()
    screens.dialog(_open_box(qtbot, rooms.confirm_box), "remove_room")
    rooms.confirm_box.button(QMessageBox.StandardButton.Cancel).click()

    store = window.ctx.store
    completed = letter_visit(store, tmp_path)
    with qtbot.waitSignal(window.editor.sig_loaded, timeout=10000):
        window.open_visit(completed)   # submitted and completed: the tenant's summary line and its buttons
    wait_idle(qtbot, tasks)
    screens.window(window, "editor_summary_status")
    letter = TenantLetterDialog(store, completed)
    qtbot.addWidget(letter)
    with qtbot.waitSignal(letter.sig_ready, timeout=20_000):
        letter.show()
    screens.dialog(letter, "tenant_letter")
    letter.close()

    sign_in = SignInDialog(window.ctx, window, username="olivia",
                           reason="Your session ended on this laptop (signed out elsewhere). Sign in again to sync; "
                                  "your unsent work is kept.")
    sign_in.show()
    sign_in.error.setText("The portal did not accept that username and password. Check them (Caps Lock?) and try again.")
    sign_in.error.show()
    screens.dialog(_open_box(qtbot, sign_in), "sign_in")
    sign_in.reject()
    for name, pending in (("remove_data", Pending(visits=0, reviews=0, photos=0, bytes=0, drafts=0)),
                          ("remove_data_unsent", Pending(visits=2, reviews=0, photos=5, bytes=9_000_000, drafts=1))):
        dialog = RemoveDataDialog(window.ctx, pending, "You are signed out.", window, offer_sign_in=True)
        dialog.show()
        screens.dialog(_open_box(qtbot, dialog), name)
        dialog.reject()
    screens.check()


def test_the_leads_screens_fit(qtbot: Any, tasks: Any, artifacts: Path, size: str, tmp_path: Path) -> None:
    """A lead's window: the review queue, one visit with photos, the photo viewer (Close in view), the decision."""
    from test_review_keyboard import _seed

    from fieldapp.domain import Decision
    from ui.app import create_main_window

    screens = Screens(size, artifacts)
    window = create_main_window(_seed(tmp_path), tasks=tasks)
    qtbot.addWidget(window)
    window.resize(screens.width, screens.height)
    window.show()
    qtbot.waitUntil(lambda: window.review is not None and window.review_action.isVisible(), timeout=15000)
    window.show_review()
    page = window.review
    qtbot.waitUntil(lambda: page.queue.model.rowCount() > 0, timeout=15000)
    wait_idle(qtbot, tasks)
    screens.window(window, "review_queue")
    item = page.queue.model.items()[0]
    with qtbot.waitSignal(page.sig_visit_shown, timeout=10000):
        page.open_item(item)
    wait_idle(qtbot, tasks)
    screens.window(window, "review_visit")
    for button in (page.visit_view.approve_button, page.visit_view.return_button):
        screens.need_in_view(button, window, f"The review's {button.text()}")
    photo = page.visit_view.data.visit.photos[0]
    page.open_photo(photo)
    viewer = _open_box(qtbot, page.photo_dialog)
    screens.dialog(viewer, "review_photo")
    screens.need_in_view(viewer.close_button, viewer, "The lead's photo viewer's Close")
    viewer.reject()
    page.ask_decision(Decision.RETURN)
    decide = _open_box(qtbot, page.decide_dialog)
    screens.dialog(decide, "review_return")
    decide.reject()
    window.show_attention()
    screens.window(window, "lead_needs_attention")
    window.close()
    screens.check()


def test_the_window_opens_no_larger_than_its_screen(qtbot: Any, store: Any, tasks: Any, size: str) -> None:
    """A new main window fits the screen it opens on (it opened 1260x700 on a 911x512 screen at 150 %)."""
    from ui.app import create_main_window

    window = create_main_window(store, tasks=tasks, start=False)
    qtbot.addWidget(window)
    room = window.screen().availableGeometry().size()
    assert window.width() <= room.width() and window.height() <= room.height()
    window.close()


def test_the_main_screens_fit_at_the_real_scale_factor(size: str) -> None:
    """In a process run at QT_SCALE_FACTOR 1.5 (and 1), the case page and editor fit with no fault (fit_scaled.py)."""
    import subprocess
    import sys

    width, height, scale = {"1366x768@150": (1366, 768, 1.5), "1280x720": (1280, 720, 1.0)}[size]
    script = Path(__file__).with_name("fit_scaled.py")
    done = subprocess.run([sys.executable, str(script), str(width), str(height), str(scale)], check=False,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert done.stdout.startswith(f"window {round(width / scale)}x"), done.stdout


def test_the_councils_own_forms_fit(qtbot: Any, window: Any, tasks: Any, artifacts: Path, size: str) -> None:
    """Each form the demo council ships (portal/data/seed_templates.json), opened in the editor: nothing sideways.

    The forms' long lists of tick boxes ("Causes found", "Support offered") are what a made-up test form lacks.
    """
    import json
    import uuid

    from factory import TEMPLATE_DATA

    from portal.seed import TEMPLATES_FILE

    screens = Screens(size, artifacts)
    store = window.ctx.store
    case_id = _case(window, warnings=False)
    for number, form in enumerate(json.loads(TEMPLATES_FILE.read_text(encoding="utf-8"))):
        template_id = str(uuid.UUID(int=number + 1))
        # The test store's cases are of the made-up form's types: the council's form is offered for them too.
        data = {**form, "case_types": TEMPLATE_DATA["case_types"]}
        store.apply_changes([{"entity": "template", "id": template_id, "version": 1, "seq": 0, "deleted": False,
                              "data": data}], store.sync_state().cursor)
        visit = store.start_visit(case_id, template_id)
        with qtbot.waitSignal(window.editor.sig_loaded, timeout=10000):
            window.open_visit(visit.id)
        wait_idle(qtbot, tasks)
        name = "form_" + form["name"].lower().replace(" ", "_")
        screens.window(window, name)
        store.discard_draft(visit.id)
    screens.check()


def test_a_case_reference_shows_whole_with_its_warning_and_draft_marks(qtbot: Any, window: Any, tasks: Any,
                                                                        size: str) -> None:
    """The list's first column holds "⚠ HBC-VD-000178  · Returned" whole: it was cut to "HBC-VD-00017…"."""
    from ui.models import CaseTableModel

    from factory import case_pages

    screens = Screens(size, Path())
    store = window.ctx.store
    warned = _case(window, warnings=True)
    # The store's cases again (same seed), one with a reference as long as the council's.
    record = next(c for c in case_pages(60).changes if c["entity"] == "case" and c["id"] == warned)
    store.apply_changes([{**record, "version": 2, "data": {**record["data"], "reference": "HBC-VD-000178"}}],
                        store.sync_state().cursor + 1)
    from test_returned_visits import _returned_visit

    # The longest mark: a visit the lead returned (it is shown before a draft's).
    store.apply_changes([_returned_visit(warned, "Add the bathroom photos.")], store.sync_state().cursor + 1)
    window.case_list.reload()
    store.start_visit(warned, TEMPLATE_ID)
    window.ctx.signals.sig_drafts_changed.emit()
    window.resize(screens.width, screens.height)
    qtbot.waitUntil(lambda: "HBC-VD-000178  · Returned" == str(window.case_list.model.data(
        window.case_list.model.index(next(n for n, r in enumerate(window.case_list.model.rows()) if r.id == warned),
                                     CaseTableModel.COL_REFERENCE))), timeout=5000)
    wait_idle(qtbot, tasks)
    QApplication.processEvents()
    table = window.case_list.table
    shown = table.horizontalHeader().sectionSize(CaseTableModel.COL_REFERENCE)
    needed = table.sizeHintForColumn(CaseTableModel.COL_REFERENCE)
    assert shown >= needed, f"the reference column is {shown} px wide at {size}, its text and marks need {needed}"


def test_a_case_with_statutory_deadlines_fits(qtbot: Any, window: Any, tasks: Any, artifacts: Path, size: str) -> None:
    """A case under Awaab's Law: its next-deadline line and clock table wrap, so Start visit is in view, no sideways scroll."""
    from clock_factory import add_clocks

    screens = Screens(size, artifacts)
    window.resize(screens.width, screens.height)
    _breached, amber, _running, further = add_clocks(window.ctx.store)
    window.refresh_all()
    for case_id, name in ((amber, "case_with_clocks"), (further, "case_with_met_clocks")):
        _show_case(qtbot, window, case_id)
        assert window.case_detail.clocks_panel.rows, "the case shows its clocks"
        screens.window(window, name)
        screens.need_in_view(window.case_detail.start_button, window, f"{name}: Start visit")
    screens.check()


def test_another_case_opens_at_its_top_with_its_warnings_in_view(qtbot: Any, window: Any, tasks: Any,
                                                                  size: str, artifacts: Path) -> None:
    """Read to the bottom of one case, then pick one whose home has warnings: it shows from the top, warnings first."""
    screens = Screens(size, artifacts)
    window.resize(screens.width, screens.height)
    _show_case(qtbot, window, _case(window, warnings=False))
    detail = window.case_detail
    bar = detail.scroll_area.verticalScrollBar()
    QApplication.sendPostedEvents()
    QApplication.processEvents()
    bar.setValue(bar.maximum())
    assert bar.value() > 0, f"the case is taller than its pane (scroll range {bar.maximum()})"
    _show_case(qtbot, window, _case(window, warnings=True))
    QApplication.processEvents()
    screens.need_in_view(detail.banner, window, "The next case's safety warnings")
    screens.check()


def test_the_status_bar_says_everything_whole(qtbot: Any, window: Any, tasks: Any, artifacts: Path, size: str) -> None:
    """Every part of the status line (connection, last sync, what waits, the sync's news) and a sync's progress, uncut."""
    from ui.tasks import TaskProgress

    window.resize(*SIZES[size])
    wait_idle(qtbot, tasks)
    line = window.status_line
    line.pending.setText("2 drafts not submitted · Waiting to send: 1 visit, 3 photos (4.2 MB)")
    messages = {"returned": returned_message(2),
                "sync_news": "2 visits returned by your lead (Needs attention) · Sync complete: 12 cases received, "
                             "3 visits sent",
                "sync_failed": "The portal could not be reached. Check the network, then press Sync now again; "
                               "your work is kept on this laptop."}
    for name, message in messages.items():
        line.show_message(message)
        screenshot(window, artifacts / f"ui_status_bar_{name}_{size}.png")
        for part in line.labels:
            assert in_view(part, window), f"{part.text()!r} is not in view"
            assert not part.is_elided(), f"{part.text()!r} is cut to {part.width()} px"
    line.show_message("")
    window.sync.sig_started.emit()
    window.progress.update_progress(TaskProgress(0.4, "Uploading photos · 12 of 30 · 14.2 MB of 36.0 MB"))
    screenshot(window, artifacts / f"ui_status_bar_syncing_{size}.png")
    for part in (*(p for p in line.labels if p.text()), window.progress.text):
        assert in_view(part, window) and not part.is_elided(), f"{part.text()!r} is cut to {part.width()} px"
    window.progress.hide()
