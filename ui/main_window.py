"""The main window: cases, the visit editor, "Needs attention" and (for leads) Review."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QSize, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence, QResizeEvent, QShortcut
from PySide6.QtWidgets import (
    QMainWindow,
    QMessageBox,
    QSizePolicy,
    QSplitter,
    QStackedWidget,
    QToolBar,
    QToolButton,
    QWidget,
)

from fieldapp.types import Pending, UserInfo
from ui.case_detail import CaseDetailWidget
from ui.case_list import CaseListWidget
from ui.context import AppContext
from ui.deadlines import DeadlinesWidget
from ui.failures import FailureNotice
from ui.look import icon
from ui.photos import ANNOTATE_KEYS
from ui.problems import NeedsAttentionWidget
from ui.returned_visits import ReturnedTracker, returned_message
from ui.review import ReviewWidget
from ui.signin import SignInDialog
from ui.signout import RemoveDataDialog, sign_out_work
from ui.status import StatusInfo, StatusLine, SyncProgressWidget, read_status
from ui.sync_controller import SyncController, SyncOutcome
from ui.tasks import Op, TaskFailure
from ui.visit_editor import VisitEditorWidget
from ui.widgets import ElidedLabel

if TYPE_CHECKING:
    from fieldapp.store import FieldStore
    from sync.client import PortalClient

log = logging.getLogger(__name__)

#: Shown by F1; the same keys are set on the actions below.
SHORTCUTS = (
    ("F5 or Ctrl+R", "Sync now"),
    ("Ctrl+N", "Start a visit to the selected case"),
    ("Ctrl+F", "Search cases"),
    ("Ctrl+Page Down / Ctrl+Page Up", "Next / previous case"),
    ("Ctrl+1 / Ctrl+2 / Ctrl+3 / Ctrl+4", "Cases / Needs attention / Review / Deadlines"),
    ("Ctrl+Enter", "Submit the open visit"),
    ("Ctrl+Shift+P", "Add photos to the open visit"),
    (ANNOTATE_KEYS, "Annotate the chosen photo of the open visit (a marked-up copy)"),
    ("Esc", "Back from a visit to the cases (everything is saved)"),
)


class MainWindow(QMainWindow):
    """Everything the officer (or lead) sees; all data arrives through the task manager."""

    sig_status = Signal(object)   # StatusInfo, after each refresh
    sig_review_ready = Signal()

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.user: UserInfo | None = None
        self.review: ReviewWidget | None = None
        self.sign_in_dialog: SignInDialog | None = None
        self.remove_data_dialog: RemoveDataDialog | None = None
        self.setWindowTitle("Fieldapp")

        self.case_list = CaseListWidget(ctx)
        self.case_detail = CaseDetailWidget(ctx)
        self.cases_page = QSplitter(Qt.Orientation.Horizontal)
        self.cases_page.addWidget(self.case_list)
        self.cases_page.addWidget(self.case_detail)
        self.cases_page.setStretchFactor(0, 3)
        self.cases_page.setStretchFactor(1, 2)
        chars = self.fontMetrics().averageCharWidth()
        self.cases_page.setSizes([chars * 125, chars * 85])
        self.cases_page.setChildrenCollapsible(False)
        self.editor = VisitEditorWidget(ctx)
        self.attention = NeedsAttentionWidget(ctx)
        self.deadlines = DeadlinesWidget(ctx)
        self.pages = QStackedWidget()
        for page in (self.cases_page, self.editor, self.attention, self.deadlines):
            self.pages.addWidget(page)
        self.setCentralWidget(self.pages)

        self.sync = SyncController(ctx, self)
        self.failures = FailureNotice(self)
        ctx.tasks.sig_failed.connect(self.failures.show_failure)
        self._build_toolbar()
        self._build_status_bar()
        self._connect()
        width = self.fontMetrics().averageCharWidth()
        wanted = QSize(width * 210, self.fontMetrics().height() * 50)
        if self.screen() is not None:
            # Never larger than the screen (less its title bar): at 1366x768 with 150 % scaling the
            # window opened 1260x700 on a 911x512 screen, its right side and status bar off screen.
            room = self.screen().availableGeometry().size() - QSize(0, self.fontMetrics().height() * 2)
            wanted = wanted.boundedTo(room)
        self.resize(wanted)

    # ------------------------------------------------------------ building

    def _action(self, name: str, text: str, keys: tuple[str, ...], slot: Callable[[], object], tip: str) -> QAction:
        action = QAction(icon(name), text, self) if name else QAction(text, self)
        action.setShortcuts([QKeySequence(k) for k in keys])
        shortcut = f" ({' or '.join(keys)})" if keys else ""
        action.setToolTip(tip + shortcut)
        # The slot takes no argument: triggered's checked flag would land in its first optional parameter
        # (ask_sign_in's reason) and break it.
        action.triggered.connect(lambda _checked=False: slot())
        self.addAction(action)  # shortcuts work whichever page has focus
        return action

    def _build_toolbar(self) -> None:
        bar = self.toolbar = QToolBar("Main")
        bar.setObjectName("mainToolBar")
        bar.setMovable(False)
        bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.addToolBar(bar)
        self.cases_action = self._action("cases", "Cases", ("Ctrl+1",), self.show_cases, "Your cases")
        self.attention_action = self._action("attention", "Needs attention", ("Ctrl+2",), self.show_attention,
                                             "Visits your lead returned, and changes the portal could not accept")
        self.review_action = self._action("review", "Review", ("Ctrl+3",), self.show_review,
                                          "Visits of your team waiting for your decision")
        self.review_action.setVisible(False)
        self.deadlines_action = self._action("deadlines", "Deadlines", ("Ctrl+4",), self.show_deadlines,
                                             "Awaab's Law deadlines of your cases (a lead's: the team's), nearest first")
        self.sync_action = self._action("sync", "Sync now", ("F5", "Ctrl+R"), self.sync_now,
                                        "Send your visits and get the latest cases")
        self.new_visit_action = self._action("new_visit", "New visit", ("Ctrl+N",), self.new_visit,
                                             "Start a visit to the selected case")
        for action in (self.cases_action, self.attention_action, self.review_action, self.deadlines_action):
            action.setCheckable(True)
            bar.addAction(action)
        bar.addSeparator()
        bar.addAction(self.sync_action)
        bar.addAction(self.new_visit_action)
        # The user's name fills the space left and shrinks with "…" (tooltip: all of it); a plain
        # label and spacer pushed Sign in off the window at 1366x768 with 150 % scaling.
        self.user_label = ElidedLabel("Not signed in")
        self.user_label.setAccessibleName("Signed-in user")
        self.user_label.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.user_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        bar.addWidget(self.user_label)
        self.sign_in_action = self._action("user", "Sign in…", (), self.ask_sign_in, "Sign in to the portal")
        bar.addAction(self.sign_in_action)
        self.sign_out_action = self._action("", "Sign out", (), self.sign_out,
                                            "Sign out of the portal (you may then remove this laptop's data)")
        self.sign_out_action.setVisible(False)
        bar.addAction(self.sign_out_action)
        self._action("search", "Search", ("Ctrl+F",), self.focus_search, "Search cases")
        self._action("", "Next case", ("Ctrl+PgDown",), lambda: self.case_list.move_selection(1), "Next case")
        self._action("", "Previous case", ("Ctrl+PgUp",), lambda: self.case_list.move_selection(-1), "Previous case")
        self._action("", "Keyboard shortcuts", ("F1",), self.show_shortcuts, "Keyboard shortcuts")
        # Editor keys act only while the focus is in the editor, never on a hidden page.
        for keys, slot in (("Ctrl+Return", self.editor.submit), ("Ctrl+Shift+P", self.editor.photos.choose_files),
                           (ANNOTATE_KEYS, self.editor.photos.annotate),
                           ("Esc", self.editor.go_back)):
            shortcut = QShortcut(QKeySequence(keys), self.editor, slot)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)

    def _build_status_bar(self) -> None:
        self.progress = SyncProgressWidget()
        self.status_line = StatusLine(self.progress)   # the progress takes a row of its own where the bar is short
        self.statusBar().addWidget(self.status_line, 1)
        self.statusBar().setSizeGripEnabled(False)

    def _connect(self) -> None:
        signals = self.ctx.signals
        self.case_list.sig_case_selected.connect(self.case_detail.show_case)
        self.case_list.sig_case_activated.connect(lambda _id: self.case_detail.start_button.setFocus())
        self.case_detail.sig_visit_started.connect(self.open_visit)
        self.case_detail.sig_open_visit.connect(self.open_visit)
        self.editor.sig_back.connect(self.show_cases)
        self.editor.sig_open_visit.connect(self.open_visit)
        self.editor.sig_submitted.connect(lambda _id: self.refresh_status())
        self.editor.sig_submitted.connect(lambda _id: self.sync.send_soon())
        self.attention.sig_open_visit.connect(self.open_visit)
        self.deadlines.sig_open_case.connect(self.open_case)
        self.attention.sig_count.connect(self._on_attention_count)
        self.sync.sig_reachable.connect(lambda ok: self.status_line.set_reachable(ok, bool(self.ctx.portal_url)))
        self.sync.sig_started.connect(self._on_sync_started)
        self.sync.sig_progress.connect(self.progress.update_progress)
        self.sync.sig_finished.connect(self._on_sync_finished)
        # After a sync: how many visits came back from the lead, in the status line (ui/returned_visits).
        self.returned_tracker = ReturnedTracker(self.ctx, self)
        self.sync.sig_finished.connect(lambda _outcome: self.returned_tracker.check())
        self.returned_tracker.sig_new.connect(self._on_visits_returned)
        self.sync.sig_finished.connect(lambda _outcome: self.editor.refresh_state())
        self.sync.sig_need_sign_in.connect(self.ask_sign_in)
        self.sync.sig_session_ended.connect(self._on_session_ended)
        self.progress.sig_cancel.connect(self._on_progress_cancel)
        # The app-wide signals outlive this window: closeEvent cuts these links, because work
        # finishing after the window closed (a last save, a sync) must refresh nothing — the
        # task manager it would ask may already be gone.
        self._app_links = [
            (signals.sig_data_changed, self.refresh_all),
            (signals.sig_visit_changed, self._on_visit_changed),
            (signals.sig_drafts_changed, self._on_drafts_changed),
        ]
        for signal, slot in self._app_links:
            signal.connect(slot)
        # Many saves in a row (typing) refresh the waiting counts once, not each time.
        self._status_soon = QTimer(self)
        self._status_soon.setSingleShot(True)
        self._status_soon.setInterval(1000)
        self._status_soon.timeout.connect(self.refresh_status)
        # An edit can turn a returned visit into unsent corrections: the draft marks follow.
        self._status_soon.timeout.connect(self.case_list.reload_drafts)

    # ------------------------------------------------------------ start

    def set_opening(self, opening: bool) -> None:
        """While the store opens behind the shown window: nothing to click yet, and say so."""
        self.pages.setEnabled(not opening)
        for action in (self.sync_action, self.new_visit_action, self.sign_in_action):
            action.setEnabled(not opening)
        self.status_line.show_message("Opening your data…" if opening else "")

    def attach_store(self, store: FieldStore, client: PortalClient | None = None) -> None:
        """The store is open: use it (and the restored session) and load everything."""
        self.ctx.store = store
        self.ctx.client = client
        self.set_opening(False)
        self.returned_tracker.check()   # what the laptop already holds is not news at the next sync
        self.start()

    def attach_client(self, client: PortalClient) -> None:
        """A portal session became available (restored from the keyring, or a new sign-in)."""
        self.ctx.client = client
        self.refresh_status()
        self.sync.check_now()

    def start(self) -> None:
        """Load everything (off the GUI thread) and begin health checks and automatic sync."""
        self.show_cases()
        self.refresh_all()
        self.sync.start()

    def refresh_all(self) -> None:
        self.case_list.reload()
        self.case_detail.refresh()
        self.attention.refresh()
        if self.pages.currentWidget() is self.deadlines:
            self.deadlines.refresh()
        self.refresh_status()

    def _on_visit_changed(self, _visit_id: str) -> None:
        self._status_soon.start()

    def _on_drafts_changed(self) -> None:
        self.case_list.reload_drafts()
        self.case_detail.refresh()
        self.refresh_status()

    def refresh_status(self) -> None:
        store = self.ctx.store
        Op(self, lambda: read_status(store), what="read what waits to be sent").success(self._on_status) \
            .failure(self._on_status_failed).run()

    def _on_status_failed(self, failure: TaskFailure) -> None:
        self.status_line.pending.setText("Unsent work could not be read")
        self.status_line.show_message(f"{failure.message} Your work is kept on this laptop; "
                                      "if this stays, restart Fieldapp.")

    def _on_status(self, info: StatusInfo) -> None:
        self.status_line.set_info(info)
        self._on_attention_count(info.attention)
        self.set_user(info.state.user)
        self.sig_status.emit(info)

    def set_user(self, user: UserInfo | None) -> None:
        changed = (user.id, user.role) if user else None
        previous = (self.user.id, self.user.role) if self.user else None
        self.user = user
        if user is None:
            self.user_label.setText("Not signed in")
        else:
            # Not signed in: the Sign in button beside the name and the status line say so.
            self.user_label.setText(f"{user.display_name} · {user.role}")
        self.sign_in_action.setVisible(self.ctx.client is None)
        self.sign_out_action.setVisible(self.ctx.client is not None)
        if changed != previous:
            self._update_review_page()
        self._fit_toolbar()

    def _update_review_page(self) -> None:
        """The Review page exists only for leads.

        A lead's day starts with their queue: the window opens on Review when it appears.
        """
        is_lead = self.user is not None and self.user.role == "lead"
        if is_lead and self.review is None:
            self.review = self._make_review()
            if self.review is not None:
                self.pages.addWidget(self.review)
                self.sig_review_ready.emit()
        self.review_action.setVisible(is_lead and self.review is not None)
        if is_lead and self.review is not None and self.pages.currentWidget() is self.cases_page:
            self.show_review()
        if not is_lead and self.review is not None and self.pages.currentWidget() is self.review:
            self.show_cases()

    def _make_review(self) -> ReviewWidget | None:
        try:
            widget = ReviewWidget.from_context(self.ctx)
            widget.sig_show_problems.connect(self.show_attention)
            widget.refresh()
            return widget
        except Exception:
            log.exception("The review page could not be built")
            return None

    # ------------------------------------------------------------ navigation

    def _show_page(self, page: QWidget, action: QAction | None) -> None:
        if self.pages.currentWidget() is self.editor and page is not self.editor:
            self.editor.flush()
        self.pages.setCurrentWidget(page)
        for item in (self.cases_action, self.attention_action, self.review_action, self.deadlines_action):
            item.setChecked(item is action)

    def show_cases(self) -> None:
        self._show_page(self.cases_page, self.cases_action)

    def show_attention(self) -> None:
        self.attention.refresh()
        self._show_page(self.attention, self.attention_action)

    def show_deadlines(self) -> None:
        self.deadlines.refresh()
        self._show_page(self.deadlines, self.deadlines_action)

    def open_case(self, case_id: str) -> None:
        """Show a case on the cases page (from the Deadlines view)."""
        self.show_cases()
        if not self.case_list.select_case(case_id):
            self.case_detail.show_case(case_id)  # filtered out of the list: show it all the same

    def show_review(self) -> None:
        if self.review is not None:
            self._show_page(self.review, self.review_action)

    def open_visit(self, visit_id: str) -> None:
        self.editor.open_visit(visit_id)
        self._show_page(self.editor, None)

    def focus_search(self) -> None:
        self.show_cases()
        self.case_list.focus_search()

    def new_visit(self) -> None:
        self.show_cases()
        if self.case_detail.case is None:
            self.status_line.show_message("Choose a case first, then start a visit.")
            return
        self.case_detail.start_visit()

    def _on_attention_count(self, count: int) -> None:
        self.attention_action.setText(f"Needs attention ({count})" if count else "Needs attention")
        button = self.toolbar.widgetForAction(self.attention_action)
        if button is not None:  # the toolbar elides a longer text unless the button is resized
            button.adjustSize()
            self.toolbar.updateGeometry()
        self._fit_toolbar()

    def _fit_toolbar(self) -> None:
        """Where the toolbar is short of room, Sync now and New visit show their icons only (tooltips keep the words).

        At 1366x768 with 150 % scaling a lead's toolbar (with Review, a count and Sign out) is
        wider than the window, and Qt would hide the last actions in an overflow menu.
        """
        bar, label = self.toolbar, self.user_label
        buttons = [b for b in (bar.widgetForAction(a) for a in (self.sync_action, self.new_visit_action))
                   if isinstance(b, QToolButton)]
        for button in buttons:
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        needed = bar.sizeHint().width() - label.sizeHint().width() + label.minimumSizeHint().width()
        if needed > bar.width():
            for button in buttons:
                button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit_toolbar()

    def show_shortcuts(self) -> None:
        rows = "".join(f"<tr><td><b>{k}</b>&nbsp;&nbsp;</td><td>{v}</td></tr>" for k, v in SHORTCUTS)
        box = QMessageBox(QMessageBox.Icon.NoIcon, "Keyboard shortcuts", f"<table>{rows}</table>",
                          QMessageBox.StandardButton.Close, self)
        box.open()

    # ------------------------------------------------------------ sync and sign-in

    def sync_now(self) -> None:
        self.editor.flush()
        self.sync.start_sync()

    def _on_sync_started(self) -> None:
        self.sync_action.setEnabled(False)
        self.status_line.show_message("")   # the last sync's news gives way to this one's progress
        self.progress.begin()

    def _on_progress_cancel(self) -> None:
        self.progress.cancelling()
        self.sync.cancel()

    def _on_sync_finished(self, outcome: SyncOutcome) -> None:
        self.sync_action.setEnabled(True)
        self.progress.hide()
        self.status_line.show_message(outcome.message)

    def _on_visits_returned(self, count: int) -> None:
        self.status_line.show_message(returned_message(count))
        self.attention.refresh()

    def ask_sign_in(self, reason: str = "") -> None:
        if self.sign_in_dialog is not None and self.sign_in_dialog.isVisible():
            return
        username = self.user.username if self.user else ""
        self.sign_in_dialog = SignInDialog(self.ctx, self, username=username, reason=reason)
        self.sign_in_dialog.sig_signed_in.connect(self._on_signed_in)
        self.sign_in_dialog.open()

    def _on_session_ended(self, reason: str) -> None:
        """A revoked or expired token: say so and ask for sign-in (unsent work stays queued).

        With nothing unsent, the officer may instead remove this laptop's personal data.
        """
        self.set_user(self.user)
        store = self.ctx.store
        Op(self, store.pending).success(lambda pending: self._after_session_ended(pending, reason)).run()

    def _after_session_ended(self, pending: Pending, reason: str) -> None:
        if pending.empty:
            self._show_removal(pending, reason, offer_sign_in=True)
        else:
            self.ask_sign_in(reason)

    def _on_signed_in(self, client: PortalClient) -> None:
        self.attach_client(client)
        self.sync.start_sync()

    # ------------------------------------------------------------ signing out

    def sign_out(self) -> None:
        """Revoke the session, then offer to remove this laptop's personal data if nothing is unsent."""
        client, store = self.ctx.client, self.ctx.store
        if client is None:
            return
        self.editor.flush()
        self.sync.cancel()  # a running sync stops at its next clean point; no new one starts without a client
        self.ctx.client = None
        self.refresh_status()
        Op(self, lambda: sign_out_work(store, client), network=True) \
            .finally_(lambda: self._offer_removal("You are signed out.", offer_sign_in=False)).run()

    def _offer_removal(self, reason: str, *, offer_sign_in: bool) -> None:
        store = self.ctx.store
        Op(self, store.pending).success(lambda pending: self._show_removal(pending, reason, offer_sign_in)).run()

    def _show_removal(self, pending: Pending, reason: str, offer_sign_in: bool) -> None:
        self.remove_data_dialog = RemoveDataDialog(self.ctx, pending, reason, self, offer_sign_in=offer_sign_in)
        self.remove_data_dialog.sig_removed.connect(self._on_data_removed)
        self.remove_data_dialog.sig_sign_in.connect(lambda: self.ask_sign_in())
        self.remove_data_dialog.open()

    def _on_data_removed(self) -> None:
        self.status_line.show_message("This laptop's personal data was removed.")
        self.ctx.signals.sig_data_changed.emit()

    # ------------------------------------------------------------ closing

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt name)
        """Queue the last edits (the task manager finishes database work before the app exits)."""
        self.editor.flush()
        for signal, slot in self._app_links:
            signal.disconnect(slot)
        self._app_links = []
        self._status_soon.stop()   # a refresh due after the window closed has nothing to show
        self.sync.stop()
        super().closeEvent(event)
