"""The window against a real portal on 127.0.0.1: sign-in, sync with progress, offline, and a conflict."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt

from factory import screenshot, wait_idle, write_jpeg
from fieldapp.domain import HHSRS_HAZARDS
from fieldapp.types import VisitState
from ui.app import create_main_window, ensure_app
from ui.context import AppContext
from ui.signin import SignInDialog

# The sync end-to-end helpers (record a complete visit, sign a store in) are reused, not copied.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))
from sync_support import assessment_for, fill, open_signed_in, sync  # noqa: E402


@dataclass(frozen=True)
class SiteSettings:
    """The few settings the window reads (as `fieldapp.config.Settings` has them)."""

    portal_url: str
    ca_bundle: str | None = None
    sync_interval_minutes: int = 15
    locked: frozenset[str] = frozenset()
    letter_template: Path | None = None


def _account(portal: Any, role: str, index: int = 0) -> Any:
    teams = sorted({a.team for a in portal.accounts if a.team})
    return [a for a in portal.accounts if a.role == role and a.team == teams[0]][index]


def _complete_visit(store: Any, case_id: str) -> Any:
    """A visit answered in full (HHSRS names as the domain spells them), not yet submitted."""
    template = store.templates_for(case_id)[0]
    answers = fill(template, [])
    for section in template.sections:
        for question in section.questions:
            if question.kind == "hazard":
                answers[question.id] = {"hazard": HHSRS_HAZARDS[0], "band": "D"}
    visit = store.start_visit(case_id, template.id)
    store.update_visit(visit.id, answers=answers, outcome="completed", assessment=assessment_for(store, case_id))
    return visit


def _submit_complete_visit(store: Any, case_id: str) -> Any:
    """A visit answered in full, submitted on the laptop."""
    return store.submit_visit(_complete_visit(store, case_id).id)


class Laptops:
    """The test's laptops signed in to a portal and their main windows, all closed after it (windows first)."""

    def __init__(self, qtbot: Any, tasks: Any, folder: Path) -> None:
        self._qtbot, self._tasks, self._folder = qtbot, tasks, folder
        self._stores: list[Any] = []
        self._windows: list[Any] = []

    def open(self, portal: Any, role: str = "officer", name: str = "laptop") -> tuple[Any, Any]:
        """A store in its own folder ``name``, signed in as the portal's first ``role`` of the first team."""
        store, client = open_signed_in(self._folder / name, portal.url, _account(portal, role))
        self._stores.append(store)
        return store, client

    def window(self, store: Any, client: Any, portal: Any, size: tuple[int, int] = (1280, 800)) -> Any:
        """The app's main window over ``store``, shown at ``size``."""
        window = create_main_window(store, client=client, settings=SiteSettings(portal.url), tasks=self._tasks)
        self._qtbot.addWidget(window)
        window.resize(*size)
        window.show()
        self._windows.append(window)
        return window

    def close(self) -> None:
        for window in self._windows:
            window.close()
        for store in self._stores:
            store.close()


@pytest.fixture
def laptops(qtbot: Any, tasks: Any, tmp_path: Path) -> Iterator[Laptops]:
    """Opens laptops and windows for the test (`Laptops`) and closes them after it."""
    opened = Laptops(qtbot, tasks, tmp_path)
    yield opened
    opened.close()


def _officer_with_submitted_visit(laptops: Laptops, portal: Any, name: str) -> tuple[Any, Any, Any]:
    """An officer's laptop, synced, with one complete visit submitted (not yet sent)."""
    store, client = laptops.open(portal, "officer", name)
    sync(store, client)
    case_id = next(c.id for c in store.cases() if store.templates_for(c.id))
    return store, client, _submit_complete_visit(store, case_id)


def _seeded_own_portal(tmp_path: Path, **settings: Any) -> Any:
    from portal.core.config import PortalSettings
    from portal.seed import seed
    from portal.server import start_background

    url = f"sqlite:///{tmp_path / 'portal.db'}"
    accounts = seed(url, 24).accounts
    portal = start_background(url, tmp_path / "blobs", settings=PortalSettings.from_env(
        database_url=url, blob_dir=tmp_path / "blobs", **settings))
    portal.accounts = accounts
    return portal


@pytest.fixture
def own_portal(tmp_path: Path) -> Iterator[Any]:
    """A seeded portal of this test alone (it may be stopped or changed without touching others)."""
    portal = _seeded_own_portal(tmp_path)
    yield portal
    portal.stop()


@pytest.fixture
def chunked_portal(tmp_path: Path) -> Iterator[Any]:
    """``own_portal`` taking photos in 64 KiB chunks: an upload lasts long enough to be cancelled mid-way."""
    portal = _seeded_own_portal(tmp_path, chunk_bytes=64 * 1024)
    yield portal
    portal.stop()


def _sync(qtbot: Any, window: Any) -> Any:
    with qtbot.waitSignal(window.sync.sig_finished, timeout=60000) as blocker:
        window.sync_action.trigger()
    return blocker.args[0]


def test_sign_in_dialog_preset_url_wrong_then_right_password(qtbot: Any, portal_sqlite: Any, store_factory: Any,
                                                           tasks: Any, artifacts: Path) -> None:
    """The portal address comes from the site settings; a wrong password is explained, the right one signs in."""
    store = store_factory("signin")
    ensure_app()  # styled as in the app
    ctx = AppContext(store=store, tasks=tasks, settings=SiteSettings(portal_sqlite.url))
    dialog = SignInDialog(ctx)
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.url.text() == portal_sqlite.url
    officer = _account(portal_sqlite, "officer")
    dialog.username.setText(officer.username)
    dialog.password.setText("not-the-password")
    dialog.attempt()
    qtbot.waitUntil(dialog.error.isVisible, timeout=20000)
    assert dialog.error.text() and dialog.password.text() == ""
    screenshot(dialog, artifacts / "ui_sign_in.png")
    dialog.password.setText(officer.password)
    with qtbot.waitSignal(dialog.sig_signed_in, timeout=20000):
        dialog.attempt()
    assert ctx.client is not None
    assert store.current_user().username == officer.username


def test_sync_button_shows_progress_and_fills_the_window(qtbot: Any, portal_sqlite: Any, laptops: Laptops,
                                                         tasks: Any, artifacts: Path) -> None:
    """Sync now pulls the officer's cases; the status bar shows reachable, last sync and nothing waiting."""
    store, client = laptops.open(portal_sqlite)
    window = laptops.window(store, client, portal_sqlite)
    started: list[bool] = []
    window.sync.sig_started.connect(lambda: started.append(window.progress.isVisible()))
    outcome = _sync(qtbot, window)
    assert started == [True] and outcome.ok, outcome.message
    qtbot.waitUntil(lambda: window.case_list.model.rowCount() > 0, timeout=10000)
    qtbot.waitUntil(lambda: "just now" in window.status_line.last_sync.text(), timeout=10000)
    qtbot.waitUntil(lambda: window.sync.reachable is True, timeout=10000)
    assert "reachable" in window.status_line.reachable.text()
    assert "Nothing waiting" in window.status_line.pending.text()
    assert not window.progress.isVisible()
    assert window.user_label.text().startswith(store.current_user().display_name)
    assert not window.review_action.isVisible()   # officers have no Review page
    screenshot(window, artifacts / "ui_after_sync.png")
    wait_idle(qtbot, tasks)


def test_offline_portal_is_shown_and_work_goes_on(qtbot: Any, own_portal: Any, laptops: Laptops, tasks: Any) -> None:
    """With the portal stopped the window says offline, a sync explains itself, and visits can still be edited."""
    store, client = laptops.open(own_portal)
    window = laptops.window(store, client, own_portal)
    assert _sync(qtbot, window).ok
    qtbot.waitUntil(lambda: window.case_list.model.rowCount() > 0, timeout=10000)
    own_portal.stop()
    window.sync.check_now()
    qtbot.waitUntil(lambda: window.sync.reachable is False, timeout=20000)
    assert "Offline" in window.status_line.reachable.text()
    outcome = _sync(qtbot, window)
    assert not outcome.ok and "Cannot reach the portal" in outcome.message
    case_id = window.case_list.model.rows()[0].id
    window.case_list.select_case(case_id)
    qtbot.waitUntil(lambda: window.case_detail.case is not None and window.case_detail.case.id == case_id)
    with qtbot.waitSignal(window.editor.sig_loaded, timeout=10000):
        window.case_detail._create_visit(window.case_detail.template_choice.currentData())
    with qtbot.waitSignal(window.editor.sig_saved, timeout=10000):
        window.editor.notes.setPlainText("Written with no signal")
        window.editor.flush()
    assert store.visit(window.editor.visit.id).notes == "Written with no signal"
    wait_idle(qtbot, tasks)


def test_conflict_appears_in_needs_attention_with_its_actions(qtbot: Any, own_portal: Any, laptops: Laptops,
                                                              tasks: Any, artifacts: Path) -> None:
    """A decision another laptop overtook comes back from sync as a problem listed in 'Needs attention'."""
    o1, c1, visit = _officer_with_submitted_visit(laptops, own_portal, "officer")
    la, ca = laptops.open(own_portal, "lead", "leadA")
    lb, cb = laptops.open(own_portal, "lead", "leadB")
    assert sync(o1, c1).ok and sync(la, ca).ok and sync(lb, cb).ok
    la.decide(visit.id, "return", "Please add the kitchen.")
    assert sync(la, ca).ok
    lb.decide(visit.id, "approve")   # this laptop has not seen the return yet

    window = laptops.window(lb, cb, own_portal)
    qtbot.waitUntil(window.review_action.isVisible, timeout=10000)   # a lead gets the Review page
    assert window.review is not None and window.pages.indexOf(window.review) >= 0
    assert window.pages.currentWidget() is window.review   # a lead's window opens on their queue
    outcome = _sync(qtbot, window)
    assert not outcome.ok
    qtbot.waitUntil(lambda: "(1)" in window.attention_action.text(), timeout=10000)
    window.attention_action.trigger()
    attention = window.attention
    qtbot.waitUntil(lambda: attention.model.rowCount() == 1, timeout=10000)
    problem = attention.model.row_at(0)
    assert problem.kind == "conflict" and attention.detail.text() == problem.message
    assert attention.action_buttons and all(b.isVisible() for b in attention.action_buttons.values())
    screenshot(window, artifacts / "ui_needs_attention.png")
    action = next(iter(attention.action_buttons))
    with qtbot.waitSignal(attention.sig_resolved, timeout=10000):
        attention.action_buttons[action].click()
    wait_idle(qtbot, tasks)


def test_approved_visit_is_locked_and_offers_an_amendment(qtbot: Any, own_portal: Any, laptops: Laptops,
                                                          tasks: Any, artifacts: Path) -> None:
    """After the lead approves, the officer's visit shows 'Approved', is read-only, and an amendment opens a new draft."""
    officer_store, officer_client, visit = _officer_with_submitted_visit(laptops, own_portal, "officer")
    lead_store, lead_client = laptops.open(own_portal, "lead", "lead")
    window = laptops.window(officer_store, officer_client, own_portal)
    assert _sync(qtbot, window).ok
    assert sync(lead_store, lead_client).ok
    lead_store.decide(visit.id, "approve")
    assert sync(lead_store, lead_client).ok
    assert _sync(qtbot, window).ok
    with qtbot.waitSignal(window.editor.sig_loaded, timeout=10000):
        window.open_visit(visit.id)
    editor = window.editor
    assert "Approved" in editor.state_banner.text.text()
    assert editor.state_banner.amend_button.isVisible() and not editor.submit_button.isVisible()
    assert editor.notes.isReadOnly()
    screenshot(window, artifacts / "ui_visit_approved.png")
    with qtbot.waitSignal(editor.sig_loaded, timeout=10000):
        editor.state_banner.amend_button.click()
    assert editor.visit.id != visit.id and editor.visit.amends == visit.id and editor.visit.editable
    wait_idle(qtbot, tasks)


def test_automatic_sync_runs_only_when_reachable_and_signed_in(qtbot: Any, portal_sqlite: Any, laptops: Laptops,
                                                                 tasks: Any) -> None:
    """The interval timer starts a sync when the portal is reachable and there is a session, never otherwise."""
    store, client = laptops.open(portal_sqlite)
    window = laptops.window(store, client, portal_sqlite)
    controller = window.sync
    assert controller.auto_timer.isActive() and controller.auto_timer.interval() == 15 * 60_000
    controller.reachable = False
    controller.auto_timer.timeout.emit()
    assert not controller.running
    controller.reachable = True
    with qtbot.waitSignal(controller.sig_finished, timeout=60000):
        controller.auto_timer.timeout.emit()
        assert controller.running
    wait_idle(qtbot, tasks)


def test_progress_text_shows_phase_counts_and_bytes() -> None:
    """A sync progress update reads as phase, counts and megabytes, with the fraction by bytes."""
    from sync.progress import SyncProgress
    from ui.sync_controller import progress_text

    fraction, text = progress_text(SyncProgress("upload", 3, 10, 2 * 1024 * 1024, 8 * 1024 * 1024))
    assert fraction == 0.25
    assert text == "Uploading photos · 3 of 10 · 2.0 MB of 8.0 MB"
    assert progress_text(SyncProgress("pull", 40))[0] < 0


def test_cancel_during_upload_keeps_everything_queued(qtbot: Any, chunked_portal: Any, tmp_path: Path, laptops: Laptops,
                                                      tasks: Any, artifacts: Path) -> None:
    """Cancel in the status bar stops a sync between chunks; what was not sent stays waiting and the next sync sends it.

    Photos go in 64 KiB chunks here: with the served 4 MiB, four connections can send all twelve
    before the click is handled, and the visit then rightly goes too (nothing waits to be kept).
    """
    store, client = laptops.open(chunked_portal)
    sync(store, client)
    case_id = next(c.id for c in store.cases() if store.templates_for(c.id))
    template = store.templates_for(case_id)[0]
    visit = store.start_visit(case_id, template.id)
    for n in range(12):
        store.add_photo(visit.id, write_jpeg(tmp_path / f"p{n}.jpg", 1600, 1200, hue=n, noise=True))
    store.update_visit(visit.id, outcome="no_access")   # no answers needed when nobody let us in
    store.submit_visit(visit.id)
    window = laptops.window(store, client, chunked_portal)
    texts: list[str] = []

    def on_progress(update: Any) -> None:
        texts.append(update.text)
        if update.text.startswith("Uploading") and window.progress.cancel_button.isEnabled():
            window.statusBar().grab().save(str(artifacts / "ui_sync_progress.png"))
            window.progress.cancel_button.click()

    window.sync.sig_progress.connect(on_progress)
    with qtbot.waitSignal(window.sync.sig_finished, timeout=60000) as blocker:
        window.sync_action.trigger()
    outcome = blocker.args[0]
    assert outcome.cancelled and not outcome.ok
    assert any(t.startswith("Uploading photos") and "MB" in t for t in texts)
    assert not window.progress.isVisible() and window.sync_action.isEnabled()
    assert store.pending().visits == 1
    qtbot.waitUntil(lambda: "1 visit" in window.status_line.pending.text(), timeout=10000)
    window.sync.sig_progress.disconnect(on_progress)
    assert _sync(qtbot, window).ok
    assert store.pending().empty
    wait_idle(qtbot, tasks)


def test_returned_visit_shows_the_leads_comment_on_top_and_can_be_resubmitted(
        qtbot: Any, own_portal: Any, laptops: Laptops, tasks: Any, artifacts: Path) -> None:
    """A returned visit reopens editable with the lead's comment on top, and goes back as 'Submit again'."""
    officer_store, officer_client, visit = _officer_with_submitted_visit(laptops, own_portal, "officer")
    lead_store, lead_client = laptops.open(own_portal, "lead", "lead")
    assert sync(officer_store, officer_client).ok and sync(lead_store, lead_client).ok
    lead_store.decide(visit.id, "return", "Please add a photo of the extractor fan.")
    assert sync(lead_store, lead_client).ok
    window = laptops.window(officer_store, officer_client, own_portal)
    assert _sync(qtbot, window).ok
    with qtbot.waitSignal(window.editor.sig_loaded, timeout=10000):
        window.open_visit(visit.id)
    editor = window.editor
    assert "Returned" in editor.state_banner.text.text()
    assert "extractor fan" in editor.state_banner.text.text()
    assert editor.submit_button.isVisible() and editor.submit_button.text() == "Submit again"
    screenshot(window, artifacts / "ui_visit_returned.png")
    with qtbot.waitSignal(editor.sig_saved, timeout=10000):
        editor.notes.setPlainText("Extractor fan photographed, working.")
        editor.flush()
    with qtbot.waitSignal(editor.sig_submitted, timeout=10000):
        editor.submit()
    assert editor.visit.state.value == "queued" and "waiting to sync" in editor.state_banner.text.text()
    assert _sync(qtbot, window).ok
    wait_idle(qtbot, tasks)


def test_a_portal_error_during_sync_is_an_outcome_not_a_crash(monkeypatch: Any) -> None:
    """`run_sync` turns any sync error (here a portal error) into a failed outcome with its message."""
    import threading

    from sync.engine import SyncEngine
    from sync.errors import PortalError
    from ui.sync_controller import run_sync

    def refuse(*_args: Any, **_kwargs: Any) -> Any:
        raise PortalError(500, "internal", "The portal failed; try again later.", {})

    monkeypatch.setattr(SyncEngine, "run", refuse)
    outcome = run_sync(object(), object(), lambda *_: None, threading.Event())
    assert not outcome.ok and not outcome.needs_sign_in and "try again later" in outcome.message



def _submit_in_editor(qtbot: Any, window: Any, store: Any) -> Any:
    """A complete visit opened in the window's editor and submitted with its Submit button."""
    case_id = next(c.id for c in store.cases() if store.templates_for(c.id))
    draft = _complete_visit(store, case_id)
    with qtbot.waitSignal(window.editor.sig_loaded, timeout=10000):
        window.open_visit(draft.id)
    with qtbot.waitSignal(window.editor.sig_submitted, timeout=10000):
        qtbot.mouseClick(window.editor.submit_button, Qt.MouseButton.LeftButton)
    return draft


def test_submitting_sends_at_once_and_the_banners_clear(qtbot: Any, portal_sqlite: Any, laptops: Laptops,
                                                          tasks: Any, artifacts: Path) -> None:
    """With the portal reachable, Submit starts a background sync; 'waiting to sync' becomes 'On the portal'."""
    store, client = laptops.open(portal_sqlite)
    window = laptops.window(store, client, portal_sqlite)
    assert _sync(qtbot, window).ok
    qtbot.waitUntil(lambda: window.sync.reachable is True, timeout=10000)
    with qtbot.waitSignal(window.sync.sig_finished, timeout=60000) as blocker:
        draft = _submit_in_editor(qtbot, window, store)   # no Sync button pressed
    assert blocker.args[0].ok, blocker.args[0].message
    assert store.visit(draft.id).state == VisitState.SUBMITTED and store.pending().empty
    qtbot.waitUntil(lambda: "On the portal" in window.editor.state_banner.text.text(), timeout=10000)
    qtbot.waitUntil(lambda: "Nothing waiting" in window.status_line.pending.text(), timeout=10000)
    screenshot(window, artifacts / "ui_submitted_sent.png")
    detail = window.case_detail
    texts = lambda: [detail.visits.item(i).text() for i in range(detail.visits.count())]  # noqa: E731
    window.open_case(draft.case_id)
    qtbot.waitUntil(lambda: any("On the portal" in t for t in texts()), timeout=10000)
    assert not any("waiting to sync" in t for t in texts())
    wait_idle(qtbot, tasks)


def test_submitting_offline_waits_quietly_for_the_portal(qtbot: Any, own_portal: Any, laptops: Laptops,
                                                         tasks: Any) -> None:
    """Offline, Submit starts no failing sync and no error: the visit waits, marked to go once the portal answers."""
    store, client = laptops.open(own_portal)
    window = laptops.window(store, client, own_portal)
    assert _sync(qtbot, window).ok
    own_portal.stop()
    window.sync.check_now()
    qtbot.waitUntil(lambda: window.sync.reachable is False, timeout=20000)
    started: list[bool] = []
    checks: list[bool] = []
    window.sync.sig_started.connect(lambda: started.append(True))
    window.sync.sig_reachable.connect(checks.append)
    draft = _submit_in_editor(qtbot, window, store)
    qtbot.waitUntil(lambda: bool(checks), timeout=20000)   # the submit asked for a health check at once
    assert checks == [False] and not started and window.sync.send_wanted
    assert "waiting to sync" in window.editor.state_banner.text.text()
    assert store.visit(draft.id).state == VisitState.QUEUED
    wait_idle(qtbot, tasks)
