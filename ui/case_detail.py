"""One case: resident(s), property, description, previous visits, and warnings shown first."""

from __future__ import annotations

from html import escape

from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from fieldapp.types import CaseDetail, Draft, Template, Visit, VisitState, VisitSummary, counted
from ui.clock_display import ClocksPanelWidget, show_due
from ui.context import AppContext
from ui.drafts import DraftQuestionBox, DraftsBoxWidget
from ui.format import date_text, label
from ui.letter import summary_text
from ui.look import PROBLEM_RED, icon
from ui.report_hazard import ReportHazardDialog
from ui.tasks import Op, TaskFailure
from ui.widgets import action_buttons, clear_layout, wrapping_label

VISIT_STATE_TEXT = {
    VisitState.DRAFT: "Draft (not submitted)",
    VisitState.QUEUED: "Submitted, waiting to sync",
    VisitState.SUBMITTED: "On the portal, waiting for review",
    VisitState.APPROVED: "Approved",
    VisitState.RETURNED: "Returned by the team lead",
}


def visit_line(visit: VisitSummary) -> str:
    """A visit in the case's list: "02 Dec 2026 06:52 — Aisha Khan — Completed — Submitted  (3 photos, 1 hazard)".

    A draft has no outcome yet: it is left out rather than shown as a dash between dashes.
    """
    parts = [date_text(visit.started_at), visit.officer_name, *([label(visit.outcome)] if visit.outcome else []),
             VISIT_STATE_TEXT.get(visit.state, visit.state)]
    counts = f"{counted(visit.photo_count, 'photo')}, {counted(visit.hazard_count, 'hazard')}"
    return " — ".join(parts) + f"  ({counts}{', Category 1' if visit.category_1 else ''})"


class WarningBanner(QFrame):
    """The residents' cautionary-contact warnings, impossible to miss."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("warningBanner")
        self.setAccessibleName("Safety warnings")
        layout = QHBoxLayout(self)
        badge = QLabel()
        badge.setPixmap(icon("warning").pixmap(self.fontMetrics().height() * 2))
        badge.setAlignment(Qt.AlignmentFlag.AlignTop)
        text = QVBoxLayout()
        self.title = QLabel("Safety warnings for this home")
        self.title.setObjectName("warningTitle")
        self.body = wrapping_label("")
        text.addWidget(self.title)
        text.addWidget(self.body)
        layout.addWidget(badge)
        layout.addLayout(text, 1)

    def set_warnings(self, warnings: Sequence[str]) -> None:
        self.body.setText("\n".join(f"•  {w}" for w in warnings))
        self.setVisible(bool(warnings))


class WarningsDialog(QDialog):
    """Before a visit starts: the warnings, and an acknowledgement the officer must tick."""

    def __init__(self, reference: str, warnings: Sequence[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Before you visit — {reference}")
        layout = QVBoxLayout(self)
        banner = WarningBanner()
        banner.set_warnings(warnings)
        layout.addWidget(banner)
        self.acknowledge = QCheckBox("I have read these warnings and will take care")
        layout.addWidget(self.acknowledge)
        self.buttons, self.start = action_buttons(self, "Start visit")
        self.start.setEnabled(False)
        self.acknowledge.toggled.connect(self.start.setEnabled)
        layout.addWidget(self.buttons)
        self.acknowledge.setFocus()


class CaseDetailWidget(QWidget):
    """The selected case, with a Start visit button that insists on the warnings."""

    sig_visit_started = Signal(str)  # the new visit's id
    sig_open_visit = Signal(str)     # an existing visit's id

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self.case: CaseDetail | None = None
        self.templates: list[Template] = []
        self.warnings_dialog: WarningsDialog | None = None
        self.draft_question: DraftQuestionBox | None = None
        self._wanted: str | None = None

        self.title = QLabel("Choose a case")
        self.title.setObjectName("pageTitle")
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.title.setWordWrap(True)
        self.subtitle = QLabel()
        self.subtitle.setObjectName("muted")
        self.subtitle.setWordWrap(True)  # a long line would widen the page past its scroll area and hide Start visit
        self.due = QLabel()
        # Wraps too: "Next deadline: Investigate the hazard · 8 working days left (due Tue 15 Dec 2026 23:59)"
        # on one line widened the page past its scroll area and hid Start visit sideways.
        self.due.setWordWrap(True)
        self.banner = WarningBanner()
        self.banner.hide()

        self.template_choice = QComboBox()
        self.template_choice.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.template_choice.setMinimumContentsLength(6)
        self.template_choice.setAccessibleName("Inspection form")
        self.start_button = QPushButton(icon("new_visit_light"), "Start visit")  # light icon on the primary colour
        self.start_button.setProperty("primary", True)
        self.start_button.setToolTip("Start a visit to this home (Ctrl+N)")
        self.start_button.clicked.connect(self.start_visit)
        # The form's name has the row to itself: beside Start visit it was clipped at 1366x768 with 150 %.
        form_row = QHBoxLayout()
        self.form_label = QLabel("Form:")
        form_row.addWidget(self.form_label)
        form_row.addWidget(self.template_choice, 1)
        self.template_choice.currentTextChanged.connect(self.template_choice.setToolTip)
        self.report_button = QPushButton(icon("warning"), "Report a hazard…")
        self.report_button.setToolTip("Report a hazard you saw here or nearby: it opens a case with its own "
                                      "deadline, sent at the next sync")
        self.report_button.clicked.connect(self.report_hazard)
        self.report_dialog: ReportHazardDialog | None = None
        self.clocks_panel = ClocksPanelWidget()

        self.drafts_box = DraftsBoxWidget(ctx)
        self.drafts_box.sig_continue.connect(self.sig_open_visit.emit)
        self.drafts_box.sig_discarded.connect(lambda _id: ctx.signals.sig_drafts_changed.emit())
        self.drafts_box.sig_message.connect(self.subtitle.setText)

        self.residents_box = QGroupBox("Residents")
        self.residents_layout = QVBoxLayout(self.residents_box)
        self.property_box = QGroupBox("Property")
        self.property_layout = QGridLayout(self.property_box)
        self.description_box = QGroupBox("Description")
        self.description = wrapping_label("")
        QVBoxLayout(self.description_box).addWidget(self.description)
        self.visits_box = QGroupBox("Visits")
        self.visits = QListWidget()
        self.visits.setAccessibleName("Visits to this case")
        # Each visit's line wraps to the page's width: a sideways scroll hid its state at 1366x768 with 150 %.
        self.visits.setWordWrap(True)
        self.visits.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.visits.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.visits.itemActivated.connect(self._on_visits_activated)
        QVBoxLayout(self.visits_box).addWidget(self.visits)

        content = QWidget()
        body = QVBoxLayout(content)
        body.addWidget(self.title)
        body.addWidget(self.subtitle)
        body.addWidget(self.due)
        body.addWidget(self.banner)
        body.addLayout(form_row)
        actions = QHBoxLayout()
        actions.addWidget(self.report_button)
        actions.addStretch(1)
        actions.addWidget(self.start_button)
        body.addLayout(actions)
        body.addWidget(self.drafts_box)
        for box in (self.clocks_panel, self.residents_box, self.property_box, self.description_box, self.visits_box):
            body.addWidget(box)
        body.addStretch(1)
        self.scroll_area = scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)  # nothing out of reach
        scroll.setWidget(content)
        self.setMinimumWidth(self.fontMetrics().averageCharWidth() * 45)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(scroll)
        self._set_enabled(False)

    def _set_enabled(self, enabled: bool) -> None:
        for widget in (self.form_label, self.template_choice, self.start_button, self.report_button,
                       self.clocks_panel, self.residents_box, self.property_box,
                       self.description_box, self.visits_box):
            widget.setVisible(enabled)

    # ------------------------------------------------------------ loading

    def show_case(self, case_id: str) -> None:
        """Load a case on the database thread and show it."""
        self._wanted = case_id
        store = self._ctx.store

        def work() -> tuple[CaseDetail, list[Template]]:
            return store.case(case_id), store.templates_for(case_id)

        Op(self, work).success(self._on_loaded).failure(self._on_failed).run()
        Op(self, lambda: store.drafts(case_id), what="read the drafts of this case") \
            .success(lambda drafts: self._on_drafts(case_id, drafts)).run()

    def _on_drafts(self, case_id: str, drafts: list[Draft]) -> None:
        if case_id == self._wanted:
            self.drafts_box.set_drafts(drafts, self.case.reference if self.case and self.case.id == case_id else "")

    def refresh(self) -> None:
        if self.case is not None:
            self.show_case(self.case.id)

    def _on_failed(self, failure: TaskFailure) -> None:
        self.title.setText("This case could not be shown")
        self.subtitle.setText(failure.message)

    def _on_loaded(self, loaded: tuple[CaseDetail, list[Template]]) -> None:
        case, templates = loaded
        if case.id != self._wanted:
            return  # the officer already moved on to another case
        another = self.case is None or self.case.id != case.id
        self.case, self.templates = case, templates
        if another:
            # From its top: the page kept the last case's scroll, and a home's safety warnings, shown
            # first, stayed above the view. The same case refreshed (after a sync) keeps its place.
            self.scroll_area.verticalScrollBar().setValue(0)
        self._set_enabled(True)
        self.title.setText(f"{case.reference} · {case.summary}")
        self.subtitle.setText(f"{label(case.case_type)} · {label(case.priority)} priority · {label(case.status)}"
                              f" · opened {date_text(case.opened_at)}")
        show_due(self.due, case)
        self.clocks_panel.set_case(case)
        self.banner.set_warnings(case.warnings)
        self.template_choice.clear()
        for template in templates:
            self.template_choice.addItem(f"{template.name} (v{template.version})", template.id)
        self.start_button.setEnabled(bool(templates) and case.status != "closed")
        if not templates:
            self.start_button.setToolTip("No inspection form fits this case type yet: sync first.")
        self._fill_residents(case)
        self._fill_property(case)
        self.description.setText(case.description or "No description.")
        self._fill_visits(case.visits)

    def _fill_residents(self, case: CaseDetail) -> None:
        clear_layout(self.residents_layout)
        if not case.residents:
            self.residents_layout.addWidget(QLabel("No resident recorded (empty home?)."))
        for resident in case.residents:
            lines = [f"<b>{escape(resident.full_name)}</b>"]
            contact = " · ".join(x for x in (resident.phone, resident.email) if x)
            if contact:
                lines.append(escape(contact))
            if resident.vulnerabilities:
                lines.append("Needs: " + escape(", ".join(resident.vulnerabilities)))
            if resident.warnings:
                lines.append(f"<span style='color:{PROBLEM_RED}'><b>Warnings:</b> "
                             + escape(", ".join(resident.warnings)) + "</span>")
            item = wrapping_label("<br>".join(lines))
            item.setTextFormat(Qt.TextFormat.RichText)
            self.residents_layout.addWidget(item)

    def _fill_property(self, case: CaseDetail) -> None:
        clear_layout(self.property_layout)
        prop = case.property
        rows = (("Address", prop.one_line), ("Type", f"{label(prop.property_type)}, {prop.bedrooms} bedroom(s)"),
                ("UPRN", prop.uprn))
        for number, (name, value) in enumerate(rows):
            key = QLabel(name)
            key.setObjectName("muted")
            self.property_layout.addWidget(key, number, 0, Qt.AlignmentFlag.AlignTop)
            self.property_layout.addWidget(wrapping_label(value), number, 1)
        self.property_layout.setColumnStretch(1, 1)

    def _fill_visits(self, visits: Sequence[VisitSummary]) -> None:
        self.visits.clear()
        if not visits:
            self.visits.addItem("No visits yet.")
            self.visits.item(0).setFlags(Qt.ItemFlag.NoItemFlags)
        for visit in sorted(visits, key=lambda v: v.started_at, reverse=True):
            text = visit_line(visit)
            if visit.outcome == "completed":
                text += f"\n    {summary_text(visit.summary_issued)}"
            item = QListWidgetItem(text)
            item.setData(Qt.ItemDataRole.UserRole, visit.id)
            item.setToolTip("Open this visit (Enter)")
            self.visits.addItem(item)
        rows = max(2, min(6, self.visits.count()))
        self.visits.setMinimumHeight(int(self.visits.sizeHintForRow(0) * rows + 8))

    def _on_visits_activated(self, item: QListWidgetItem) -> None:
        visit_id = item.data(Qt.ItemDataRole.UserRole)
        if visit_id:
            self.sig_open_visit.emit(visit_id)

    # ------------------------------------------------------------ starting a visit

    def start_visit(self) -> None:
        """Start a visit: first ask if the case has a draft, then the warnings dialog when the home has warnings."""
        if self.case is None or not self.start_button.isEnabled():
            return
        template_id = self.template_choice.currentData()
        if not template_id:
            return
        case, store = self.case, self._ctx.store
        # Asked of the store at the click, so a draft made a moment ago (another window, Ctrl+N) counts too.
        Op(self, lambda: store.drafts(case.id)).success(lambda drafts: self._ask_about_drafts(case, drafts, template_id)) \
            .failure(self._on_failed_start).run()

    def _ask_about_drafts(self, case: CaseDetail, drafts: list[Draft], template_id: str) -> None:
        if self.case is None or self.case.id != case.id:
            return
        if not drafts:
            self._confirm_warnings(template_id)
            return
        self.draft_question = question = DraftQuestionBox(drafts, case.reference, self)

        def answered() -> None:
            if question.clickedButton() is question.continue_button:
                self.sig_open_visit.emit(question.draft.visit_id)
            elif question.clickedButton() is question.another_button:
                self._confirm_warnings(template_id)

        question.finished.connect(lambda _r: answered())
        question.open()

    def _confirm_warnings(self, template_id: str) -> None:
        assert self.case is not None
        if self.case.warnings:
            self.warnings_dialog = WarningsDialog(self.case.reference, self.case.warnings, self)
            self.warnings_dialog.accepted.connect(lambda: self._create_visit(template_id))
            self.warnings_dialog.open()
        else:
            self._create_visit(template_id)

    def _create_visit(self, template_id: str) -> None:
        assert self.case is not None
        case_id, store = self.case.id, self._ctx.store
        self.start_button.setEnabled(False)
        Op(self, lambda: store.start_visit(case_id, template_id)) \
            .success(self._on_started) \
            .failure(self._on_failed_start).finally_(lambda: self.start_button.setEnabled(True)).run()

    def _on_started(self, visit: Visit) -> None:
        self.sig_visit_started.emit(visit.id)
        self._ctx.signals.sig_drafts_changed.emit()

    def report_hazard(self) -> None:
        """Open "Report a hazard" for this case's home (queued offline, sent at the next sync)."""
        if self.case is None:
            return
        self.report_dialog = ReportHazardDialog(self._ctx, self.case, parent=self)
        self.report_dialog.sig_reported.connect(lambda _r: self.subtitle.setText(
            "Hazard reported: it goes to the portal at the next sync, and comes back as a new case."))
        self.report_dialog.open()

    def _on_failed_start(self, failure: TaskFailure) -> None:
        self.subtitle.setText(f"The visit could not be started: {failure.message}")
