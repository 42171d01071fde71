"""The visit editor, generated from the template; every edit is saved at once.

Choices are saved immediately; typing is saved ~300 ms after the last key, when the
field loses focus, and when the editor closes. Saves go through the database executor
in order, so the latest edit always wins and nothing typed is lost.
"""

from __future__ import annotations

from html import escape

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, TypedDict

from PySide6.QtCore import QEvent, QPoint, Qt, QTimer, Signal
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent, QPalette
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from fieldapp.domain import Outcome, QuestionKind, is_blank, visit_hazards
from fieldapp.domain_required import assessment_required
from fieldapp.errors import ValidationError
from fieldapp.limits import NOTES_MAX_CHARS, too_long
from fieldapp.domain_forms import FormShape
from fieldapp.types import CaseDetail, Hazard, Photo, Question, Section, Template, Visit, VisitState, counted
from fieldapp.vocabulary import HazardVocabulary
from ui.case_detail import WarningBanner
from ui.assessment import AssessmentWidget
from ui.progress_line import ProgressLineWidget
from ui.repeat_section import RepeatSectionWidget, RepetitionWidget, names_repetition
from ui.report_hazard import ReportHazardDialog
from ui.context import AppContext
from ui.format import date_text, label
from ui.hazards import HazardsEditorWidget
from ui.letter import SummaryStatusWidget, TenantLetterDialog
from ui.look import icon
from ui.photos import PhotoPanelWidget, local_files
from ui.question_row import QuestionRowWidget
from ui.questions import Answer, FocusOutFilter, widget_for
from ui.tasks import Op, TaskFailure
from ui.widgets import ElidedLabel, ProblemLabel, clear_layout, repolish, wrapping_label

if TYPE_CHECKING:
    from fieldapp.store import FieldStore

TYPING_SAVE_MS = 300

#: Keys of `Visit.problems` / `ValidationError.problems` that are not questions.
FIELD_LABELS = {"outcome": "Outcome", "notes": "Notes", "hazards": "Hazards", "photos": "Photos",
                "assessment": "Assessment"}


class VisitChanges(TypedDict, total=False):
    """The edits of one save, as `FieldStore.update_visit` takes them (a key left out is unchanged)."""

    answers: dict[str, Answer]
    notes: str
    outcome: str
    hazards: tuple[Hazard, ...]
    assessment: dict[str, Answer]


@dataclass(frozen=True)
class VisitBundle:
    """What the editor shows: the visit, its form and its case."""

    visit: Visit
    template: Template | None
    case: CaseDetail
    vocabulary: HazardVocabulary | None = None   # the hazards the visit is recorded under


def load_bundle(store: FieldStore, visit_id: str) -> VisitBundle:
    """Read a visit with its template and case (database thread)."""
    visit = store.visit(visit_id)
    case = store.case(visit.case_id)
    # The version the visit was started on, even once the portal withdrew it or published a newer one.
    template = store.visit_template(visit_id)
    return VisitBundle(visit, template, case, store.hazard_vocabulary(visit.vocabulary))


def problem_label(key: str, labels: Mapping[str, str]) -> str:
    """What a problem key ("severity", "outcome", "hazards.0") is called on screen."""
    if key in labels:
        return labels[key]
    field, _, number = key.partition(".")
    if field == "hazards" and number.isdigit():
        return f"Hazard {int(number) + 1}"
    return FIELD_LABELS.get(field, key)


def form_order(problems: Mapping[str, str], labels: Mapping[str, str]) -> list[str]:
    """Problem keys in the order the form shows them: questions, then hazards, photos, outcome, notes."""
    questions = list(labels)
    fixed = ["hazards", "photos", "outcome", "notes"]

    def position(key: str) -> tuple[int, int, str]:
        if key in labels:
            return (0, questions.index(key), key)
        field, _, number = key.partition(".")
        group = fixed.index(field) + 1 if field in fixed else len(fixed) + 1
        return (group, int(number) if number.isdigit() else -1, key)

    return sorted(problems, key=position)


class MissingDialog(QDialog):
    """Everything that stops the visit being submitted, at once; each line is a link that jumps to it."""

    sig_jump = Signal(str)

    def __init__(self, problems: Mapping[str, str], labels: Mapping[str, str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Not ready to submit")
        layout = QVBoxLayout(self)
        count = len(problems)
        layout.addWidget(wrapping_label(f"{counted(count, 'thing', 'to finish before submitting')}. "
                                        "Click one (or press Enter on it) to go to it."))
        self.list = QListWidget()
        self.list.setObjectName("linkList")
        self.list.setWordWrap(True)
        self.list.setMouseTracking(True)
        self.list.viewport().setCursor(Qt.CursorShape.PointingHandCursor)
        self.setMinimumWidth(self.fontMetrics().averageCharWidth() * 70)
        link = self.palette().color(QPalette.ColorRole.Link)
        for key in form_order(problems, labels):
            item = QListWidgetItem(f"{problem_label(key, labels)}: {problems[key]}")
            item.setData(Qt.ItemDataRole.UserRole, key)
            item.setForeground(link)
            font = item.font()
            font.setUnderline(True)
            item.setFont(font)
            self.list.addItem(item)
        self.list.setCurrentRow(0)
        # A link: one click goes there (Enter and double-click too, for the keyboard).
        self.list.itemClicked.connect(self._on_list_activated)
        self.list.itemActivated.connect(self._on_list_activated)
        layout.addWidget(self.list)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def keys(self) -> list[str]:
        """The problem keys as listed."""
        return [self.list.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.list.count())]

    def _on_list_activated(self, item: QListWidgetItem) -> None:
        if not self.isVisible():
            return  # a click and the activation it also triggers: jump once
        self.accept()
        self.sig_jump.emit(item.data(Qt.ItemDataRole.UserRole))


class StateBanner(QFrame):
    """Where a submitted visit stands, and the lead's comment on a returned one.

    A returned visit's comment shows on one line beside "Returned by the team lead:", cut
    with "…" where it is long (its tooltip holds all of it), and "Show all" opens the whole
    of it: written out in full it took half of a small screen (1366x768 at 150 %) from the
    form the officer must change.
    """

    sig_amend = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("stateBanner")
        self.text = wrapping_label("")
        self.text.setTextFormat(Qt.TextFormat.RichText)
        self.headline = QLabel("<b>Returned by the team lead:</b>")
        self.comment_line = ElidedLabel(min_chars=12)
        font = self.comment_line.font()
        font.setItalic(True)
        self.comment_line.setFont(font)
        self.comment_line.setAccessibleName("The team lead's comment")
        self.more_button = QPushButton("Show all")
        self.more_button.setCheckable(True)
        self.more_button.setAccessibleName("Show the team lead's whole comment")
        self.more_button.toggled.connect(self._show_whole)
        self.amend_button = QPushButton(icon("amend"), "File an amendment")
        self.amend_button.setToolTip("Approved visits are locked: an amendment is a new visit that corrects it.")
        self.amend_button.clicked.connect(self.sig_amend.emit)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 3, 6, 3)
        layout.addWidget(self.headline)
        layout.addWidget(self.comment_line, 1)
        layout.addWidget(self.text, 1)
        layout.addWidget(self.more_button, 0, Qt.AlignmentFlag.AlignTop)
        layout.addWidget(self.amend_button)
        self._comment = ""

    def show_visit(self, visit: Visit) -> None:
        state = visit.state
        comment = visit.review.comment if visit.review else ""
        texts = {
            VisitState.DRAFT: "",
            VisitState.QUEUED: "<b>Submitted — waiting to sync.</b> It goes to the portal at the next sync.",
            VisitState.SUBMITTED: "<b>On the portal</b>, waiting for the team lead's review.",
            VisitState.APPROVED: "<b>Approved</b> by the team lead. It is locked.",
            VisitState.RETURNED: "<b>Returned by the team lead.</b> Please change what they ask and submit again."
                                 + (f"<br><br>Their comment: <i>{escape(comment)}</i>" if comment else ""),
        }
        text = texts.get(state, "")
        if visit.amends:
            text += ("<br>" if text else "") + "This visit amends an earlier, approved visit."
        self.text.setText(text)
        # One line: the comment's own line breaks would be lost in it, so they read as spaces.
        self._comment = " ".join(comment.split()) if state == VisitState.RETURNED else ""
        self.comment_line.setText(self._comment)
        self.more_button.blockSignals(True)
        self.more_button.setChecked(False)   # each returned visit opens with its form in view
        self.more_button.blockSignals(False)
        self._show_whole(False)
        self.setProperty("state", str(state))
        repolish(self)
        self.amend_button.setVisible(state == VisitState.APPROVED)
        self.setVisible(bool(text))

    def _show_whole(self, whole: bool) -> None:
        """The one line of a returned visit's comment, or the whole banner text (Show all / Show less)."""
        short = bool(self._comment) and not whole
        self.headline.setVisible(short)
        self.comment_line.setVisible(short)
        self.text.setVisible(not short)
        self.more_button.setVisible(bool(self._comment))
        self.more_button.setText("Show less" if whole else "Show all")
        self.more_button.setToolTip("Back to one line, for more of the form" if whole
                                    else "Read the team lead's whole comment")


class VisitEditorWidget(QWidget):
    """The form of one visit: questions, hazards, photos, outcome and notes, saved as typed."""

    sig_loaded = Signal(str)       # visit id
    sig_saved = Signal(object)     # the saved Visit
    sig_submitted = Signal(str)    # visit id
    sig_back = Signal()            # the officer asked to go back to the cases
    sig_open_visit = Signal(str)   # open another visit (an amendment)

    #: The page's scroll area (the name hides QWidget.scroll(), which nothing here calls).
    scroll: QScrollArea  # type: ignore[assignment]

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self.bundle: VisitBundle | None = None
        self.rows: dict[str, QuestionRowWidget] = {}
        self.repeats: dict[str, RepeatSectionWidget] = {}             # repeat sections by section id
        self._repeat_of: dict[str, RepeatSectionWidget] = {}          # their questions' ids
        self._shape: FormShape | None = None
        self.missing_dialog: MissingDialog | None = None
        self._dirty_answers: set[str] = set()
        self._dirty_fields: set[str] = set()
        self._saves_in_flight = 0
        self._show_missing = False
        self.save_error: str | None = None
        self._not_saved_message: str | None = None   # the "Not saved yet" shown, until the edit is saved
        self.setAcceptDrops(True)

        self.back_button = QPushButton(icon("back"), "Cases")
        self.back_button.setToolTip("Back to the case list (Esc); everything is saved")
        self.back_button.clicked.connect(self.go_back)
        # One line, cut with "…" where the address is long (the tooltip has all of it): two lines of title were
        # taken from the form on a small screen, which the officer needs more than the town and postcode.
        self.title = ElidedLabel(min_chars=12)
        self.title.setObjectName("pageTitle")
        self.save_label = QLabel()
        self.save_label.setObjectName("muted")
        # Room for the longest state, so a long address in the title never squeezes it out.
        self.save_label.setMinimumWidth(self.fontMetrics().horizontalAdvance("Started 00 Mmm 0000 00:00") + 8)
        self.save_label.setAccessibleName("Save status")
        header = QHBoxLayout()
        header.addWidget(self.back_button)
        header.addWidget(self.title, 1)
        header.addWidget(self.save_label)
        self.report_button = QPushButton(icon("warning"), "Report a hazard…")
        self.report_button.setToolTip("Report another hazard seen on this visit: a new case with its own deadline")
        self.report_button.clicked.connect(self.report_hazard)
        self.report_dialog: ReportHazardDialog | None = None
        header.addWidget(self.report_button)

        self.warning_banner = WarningBanner()
        self.warning_banner.hide()
        self.state_banner = StateBanner()
        self.state_banner.hide()
        self.state_banner.sig_amend.connect(self.file_amendment)

        self.form = QWidget()
        self.form_layout = QVBoxLayout(self.form)
        self.hazards = HazardsEditorWidget()
        self.hazards.sig_changed.connect(lambda: self._mark("hazards", 0))
        self.hazards.sig_typing.connect(lambda: self._mark("hazards", TYPING_SAVE_MS))
        self.assessment = AssessmentWidget()
        self.assessment.sig_changed.connect(lambda f: self._mark(f"assessment.{f}", 0))
        self.assessment.sig_typing.connect(lambda f: self._mark(f"assessment.{f}", TYPING_SAVE_MS))
        self.photos = PhotoPanelWidget(ctx)
        self.photos.sig_photos_changed.connect(self._on_photos_changed)
        self.photos.attachable_questions = self.shown_questions
        self.outcome = QComboBox()
        self.outcome.addItem("— choose the outcome —", None)
        for outcome in Outcome:
            self.outcome.addItem(label(outcome.value), outcome.value)
        self.outcome.setAccessibleName("Outcome")
        self.outcome.currentIndexChanged.connect(lambda _i: self._mark("outcome", 0))
        self.outcome.currentIndexChanged.connect(lambda _i: self._show_assessment_required())
        self.outcome_problem = ProblemLabel()
        self.notes = QPlainTextEdit()
        self.notes.setTabChangesFocus(True)
        self.notes.setPlaceholderText("Anything else the team lead should know")
        self.notes.setMinimumHeight(self.fontMetrics().lineSpacing() * 4)
        self.notes.setMaximumHeight(self.fontMetrics().lineSpacing() * 10)
        self.notes.setAccessibleName("Notes")
        self.notes.textChanged.connect(self._on_notes_typed)
        self.notes.installEventFilter(FocusOutFilter(self._save_now, self))
        # Said while typing: the portal refuses notes past its limit (kept here as typed).
        self.notes_problem = ProblemLabel()

        hazards_box = QGroupBox("Hazards (HHSRS)")
        QVBoxLayout(hazards_box).addWidget(self.hazards)
        photos_box = QGroupBox("Photos")
        QVBoxLayout(photos_box).addWidget(self.photos)
        outcome_box = QGroupBox("Outcome and notes")
        outcome_form = QFormLayout(outcome_box)
        outcome_form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        outcome_form.addRow("Outcome  *", self.outcome)
        outcome_form.addRow("", self.outcome_problem)
        outcome_form.addRow("Notes", self.notes)
        outcome_form.addRow("", self.notes_problem)
        self.fixed_boxes = (hazards_box, self.assessment, photos_box, outcome_box)

        content = QWidget()
        body = QVBoxLayout(content)
        body.addWidget(self.form)
        for box in self.fixed_boxes:
            body.addWidget(box)
        body.addStretch(1)
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setWidget(content)

        self.submit_button = QPushButton(icon("submit_light"), "Submit visit")  # light icon on the primary colour
        self.submit_button.setProperty("primary", True)
        self.submit_button.setToolTip("Check the visit and queue it for the portal (Ctrl+Enter)")
        self.submit_button.clicked.connect(self.submit)
        self.message = ProblemLabel()
        # The tenant's summary line shares the Submit button's row: a row of its own was taken from the form.
        footer = QHBoxLayout()
        footer.addStretch(0)
        footer.addWidget(self.submit_button, 0, Qt.AlignmentFlag.AlignRight)

        self.progress_line = ProgressLineWidget(self)
        self.progress_line.hide()
        self.progress_line.sig_jump.connect(self.jump_to)
        self.progress_line.set_current(self._focused_question)

        layout = QVBoxLayout(self)
        layout.addLayout(header)
        layout.addWidget(self.warning_banner)
        layout.addWidget(self.state_banner)
        layout.addWidget(self.progress_line)
        layout.addWidget(self.scroll, 1)
        self.summary_status = SummaryStatusWidget()
        self.summary_status.use_store(ctx.store)
        self.summary_status.sig_open_letter.connect(self.open_letter)
        self.summary_status.sig_recorded.connect(self._on_summary_recorded)
        self.letter_dialog: TenantLetterDialog | None = None
        footer.insertWidget(0, self.summary_status, 1)
        layout.addWidget(self.message)
        layout.addLayout(footer)

        self._save_timer = QTimer(self)
        self._save_timer.setSingleShot(True)
        self._save_timer.timeout.connect(self._save_now)

    # ------------------------------------------------------------ loading

    @property
    def visit(self) -> Visit | None:
        return self.bundle.visit if self.bundle else None

    def open_visit(self, visit_id: str) -> None:
        """Save what is pending for the current visit, then load another."""
        self.flush()
        store = self._ctx.store
        Op(self, lambda: load_bundle(store, visit_id)).success(self._on_loaded).failure(self._on_load_failed).run()

    def _on_load_failed(self, failure: TaskFailure) -> None:
        self._show_message(f"This visit could not be opened: {failure.message}")

    def _on_loaded(self, bundle: VisitBundle) -> None:
        self.bundle = bundle
        self._dirty_answers.clear()
        self._dirty_fields.clear()
        self._show_missing = bundle.visit.state == VisitState.RETURNED
        visit, case = bundle.visit, bundle.case
        self.title.setText(f"Visit to {case.reference} · {case.property.one_line}")
        self.warning_banner.set_warnings(case.warnings)
        if self.message.objectName() != "problem":
            self._show_message("")   # the last visit's news is not this one's (a problem stays until resolved)
        self._build_form(bundle.template, visit)
        self.hazards.set_hazards(visit.hazards)
        self._show_answered_hazards()
        if bundle.vocabulary is not None:
            self.assessment.set_vocabulary(bundle.vocabulary)
        self.assessment.set_assessment(visit.assessment)
        self.outcome.blockSignals(True)
        self.outcome.setCurrentIndex(max(0, self.outcome.findData(visit.outcome)))
        self.outcome.blockSignals(False)
        self.notes.blockSignals(True)
        self.notes.setPlainText(visit.notes)
        self.notes.blockSignals(False)
        self._show_notes_limit()
        self.photos.set_photos(visit.id, visit.photos, self.question_labels())
        self._apply_visit(visit)
        self.save_label.setText(f"Started {date_text(visit.started_at)}")
        self.scroll.verticalScrollBar().setValue(0)
        # Lay the form out now, not at a later event loop turn: a field is where it shows the moment it is loaded
        # (the assessment's boxes size themselves only once laid out, which moved the questions above them).
        QApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)
        self.sig_loaded.emit(visit.id)

    def _build_form(self, template: Template | None, visit: Visit) -> None:
        clear_layout(self.form_layout)
        self.rows = {}
        self.repeats = {}
        self._repeat_of = {}
        self._shape = None
        if template is None:
            self.form_layout.addWidget(wrapping_label(
                "The form of this visit is not on this laptop. Sync, then open the visit again.", "problem"))
            return
        self._shape = FormShape.of(template.rules_document())
        for section in template.sections:
            if section.repeat:
                repeat = self._repeat_section(section, visit)
                self.form_layout.addWidget(repeat)
                repeat.show()
                continue
            box = QGroupBox(section.title)
            box_layout = QVBoxLayout(box)
            for question in section.questions:
                row = self._make_row(question, visit.answers.get(question.id))
                editor = row.editor
                editor.sig_changed.connect(lambda _v, qid=question.id: self._mark_answer(qid, 0))
                editor.sig_typing.connect(lambda qid=question.id: self._mark_answer(qid, TYPING_SAVE_MS))
                self.rows[question.id] = row
                box_layout.addWidget(row)
            self.form_layout.addWidget(box)
            # Shown now, not at the next event loop turn (a layout defers showing new children).
            box.show()

        self._apply_show_if()

    def _make_row(self, question: Question, value: Answer, *, one_line: bool = False) -> QuestionRowWidget:
        """A question's row showing ``value``; a change re-decides which questions are shown."""
        editor = widget_for(question, one_line=one_line)
        editor.set_photos(self.visit.photos if self.visit else ())
        editor.set_value(value)
        editor.sig_changed.connect(lambda _v: self._apply_show_if())
        if question.kind == QuestionKind.HAZARD:
            editor.sig_changed.connect(self._show_answered_hazards)
        return QuestionRowWidget(editor)

    def _repeat_section(self, section: Section, visit: Visit) -> RepeatSectionWidget:
        """A room-by-room section; adding or removing a repetition saves every list of it at once."""
        def make_row(question: Question, value: Answer) -> QuestionRowWidget:
            return self._make_row(question, value, one_line=names_repetition(section, question, value))

        box = RepeatSectionWidget(section, make_row, visit.answers)
        box.sig_changed.connect(lambda qid: self._mark_answer(qid, 0))
        box.sig_typing.connect(lambda qid: self._mark_answer(qid, TYPING_SAVE_MS))
        box.sig_structure.connect(lambda: self._on_repetitions_changed(box))
        box.sig_added.connect(self._show_added_repetition)
        self.repeats[section.id] = box
        for question in section.questions:
            self._repeat_of[question.id] = box
        return box

    def _on_repetitions_changed(self, box: RepeatSectionWidget) -> None:
        for qid in box.question_ids:
            self._dirty_answers.add(qid)
        self._schedule(0)
        self._apply_show_if()
        self._show_answered_hazards()

    def _show_added_repetition(self, repetition: RepetitionWidget) -> None:
        """A repetition just added, in view from its title with the cursor in its first field, as a jump shows a box."""
        first = next(iter(repetition.rows.values()), None)
        # Laid out first: the new repetition has no geometry until its layout request is handled.
        QApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)
        self._bring_into_view(repetition, first.editor.focus_widget() if first is not None else repetition)

    def current_answers(self) -> dict[str, Answer]:
        """Every answer as on screen now, repeat sections as lists."""
        answers = {qid: row.editor.value() for qid, row in self.rows.items()}
        for box in self.repeats.values():
            answers.update(box.values())
        return answers

    def _apply_show_if(self) -> None:
        """Show each question only while its show_if holds; a hidden answer is kept, never cleared."""
        if self._shape is None:
            return
        answers = self.current_answers()
        for qid, row in self.rows.items():
            row.setVisible(self._shape.is_shown(answers, qid))
        for box in self.repeats.values():
            box.apply_show_if(self._shape, answers)

    def shown_questions(self) -> set[str]:
        """The questions on screen now: those `_apply_show_if` left shown (a repeated one: in any repetition)."""
        repeated = ((qid, row) for box in self.repeats.values() for r in box.repetitions for qid, row in r.rows.items())
        return {qid for qid, row in (*self.rows.items(), *repeated) if not row.isHidden()}

    def question_labels(self) -> dict[str, str]:
        """Every question's label in the form's order (lists offering questions follow the form, repeat sections too)."""
        template = self.bundle.template if self.bundle else None
        sections = template.sections if template else ()
        return {q.id: q.label for section in sections for q in section.questions
                if q.id in self.rows or section.id in self.repeats}

    def _show_answered_hazards(self) -> None:
        """Under the Hazards list, the hazards answered at questions: the visit's one list, as on screen now."""
        answers = self.current_answers()   # only hazard answers are objects: visit_hazards picks them out
        labels = self.question_labels()
        self.hazards.set_answered(visit_hazards((), answers), lambda qid: labels.get(qid, qid))

    def _apply_visit(self, visit: Visit) -> None:
        """Show state, problems and whether editing is allowed, after a load or a save."""
        self.bundle = replace(self.bundle, visit=visit) if self.bundle else None
        read_only = not visit.editable
        for row in self.rows.values():
            row.editor.set_read_only(read_only)
        self.hazards.set_read_only(read_only)
        for box in self.repeats.values():
            box.set_read_only(read_only)
        self.assessment.set_read_only(read_only)
        self._show_assessment_required()
        self.photos.set_read_only(read_only)
        self.outcome.setEnabled(not read_only)
        self.notes.setReadOnly(read_only)
        self.submit_button.setVisible(not read_only)
        self.submit_button.setText("Submit again" if visit.state == VisitState.RETURNED else "Submit visit")
        self.state_banner.show_visit(visit)
        self._show_progress()
        self.summary_status.show_visit(visit)
        self.show_problems(visit.problems)

    def show_problems(self, problems: Mapping[str, str]) -> None:
        """Messages beside each question; "must be answered" waits until a submit was tried."""
        answers = self.visit.answers if self.visit else {}
        for qid, row in self.rows.items():
            message = problems.get(qid)
            if message and not self._show_missing and is_blank(answers.get(qid)):
                message = None
            row.set_problem(message)
        self.hazards.show_problems(problems, self._show_missing)
        for box in self.repeats.values():
            box.show_problems(problems, self._show_missing)
        self.assessment.set_problem(problems.get("assessment") if self._show_missing else None)
        outcome_message = problems.get("outcome") if self._show_missing else None
        self.outcome_problem.warn(outcome_message)

    def _show_assessment_required(self) -> None:
        """Mark the assessment required as the store and portal will (fieldapp.domain_required: Awaab case, an inspection)."""
        case = self.bundle.case if self.bundle else None
        self.assessment.set_required(assessment_required(bool(case and case.awaab), self.outcome.currentData()))

    def _on_photos_changed(self, photos: tuple[Photo, ...]) -> None:
        for row in [*self.rows.values(), *(r for box in self.repeats.values() for r in box.rows())]:
            row.editor.set_photos(photos)
            row.editor.set_value(row.editor.value())
        if self.visit is not None:
            self._apply_photos(photos)

    def _apply_photos(self, photos: tuple[Photo, ...]) -> None:
        assert self.bundle is not None
        self.bundle = replace(self.bundle, visit=replace(self.bundle.visit, photos=photos))

    # ------------------------------------------------------------ saving

    def _mark_answer(self, question_id: str, delay_ms: int) -> None:
        self._dirty_answers.add(question_id)
        self._schedule(delay_ms)

    def _mark(self, field: str, delay_ms: int) -> None:
        if self.bundle is None:
            return
        self._dirty_fields.add(field)
        self._schedule(delay_ms)

    def _on_notes_typed(self) -> None:
        self._show_notes_limit()
        self._mark("notes", TYPING_SAVE_MS)

    def _show_notes_limit(self) -> None:
        message = too_long(self.notes.toPlainText(), NOTES_MAX_CHARS)
        self.notes_problem.warn(message)

    def _schedule(self, delay_ms: int) -> None:
        self.save_label.setText("Saving…")
        self._show_progress()
        if self._save_timer.isActive() and self._save_timer.interval() == 0:
            return  # a choice is about to be saved: the typing goes with it, never later
        # Typing restarts the short delay; a choice cuts a pending delay to "now".
        self._save_timer.start(delay_ms)

    @property
    def dirty(self) -> bool:
        """True while an edit has not reached the database yet."""
        return bool(self._dirty_answers or self._dirty_fields or self._saves_in_flight)

    def flush(self) -> None:
        """Queue every pending edit now (on focus-out, navigation and close)."""
        self._save_timer.stop()
        self._save_now()

    def _save_now(self) -> None:
        visit = self.visit
        if visit is None or not visit.editable or not (self._dirty_answers or self._dirty_fields):
            return
        changes: VisitChanges = {}
        if self._dirty_answers:
            answers = {qid: self.rows[qid].editor.value() for qid in self._dirty_answers if qid in self.rows}
            answers.update({qid: self._repeat_of[qid].values()[qid] for qid in self._dirty_answers
                            if qid in self._repeat_of})
            changes["answers"] = answers
        if "notes" in self._dirty_fields:
            changes["notes"] = self.notes.toPlainText()
        if "outcome" in self._dirty_fields:
            changes["outcome"] = self.outcome.currentData() or ""  # "" clears it; None would mean "unchanged"
        if "hazards" in self._dirty_fields:
            changes["hazards"] = self.hazards.hazards()
        assessed = {f.partition(".")[2] for f in self._dirty_fields if f.startswith("assessment.")}
        if assessed:
            changes["assessment"] = self.assessment.values(assessed)
        self._dirty_answers.clear()
        self._dirty_fields.clear()
        self._saves_in_flight += 1
        store, visit_id = self._ctx.store, visit.id
        Op(self, lambda: store.update_visit(visit_id, **changes)).success(self._on_saved) \
            .failure(lambda f: self._on_save_failed(f, changes)).finally_(self._on_save_done).run()

    def _on_saved(self, visit: Visit) -> None:
        if self.visit is None or visit.id != self.visit.id:
            return
        self.save_error = None
        # Keep what is on screen (the officer may have typed on); take state and problems.
        self.bundle = replace(self.bundle, visit=visit) if self.bundle else None
        self.show_problems(visit.problems)
        self.sig_saved.emit(visit)
        self._ctx.signals.sig_visit_changed.emit(visit.id)

    def _on_save_failed(self, failure: TaskFailure, changes: VisitChanges) -> None:
        self.save_error = failure.message
        # Mark the fields dirty again so the next edit or close retries them.
        self._dirty_answers.update(changes.get("answers", {}))
        self._dirty_fields.update(k for k in changes if k not in ("answers", "assessment"))
        self._dirty_fields.update(f"assessment.{f}" for f in changes.get("assessment", {}))
        self._not_saved_message = f"Not saved yet: {failure.message}"
        self._show_message(self._not_saved_message)

    def _on_save_done(self) -> None:
        self._saves_in_flight -= 1
        # The failed edit waits (dirty) for the next edit or close: say it is not saved, not "Saving…".
        if self.save_error is not None:
            self.save_label.setText("Not saved")
        elif not self.dirty:
            self.save_label.setText("All changes saved")
            if self._not_saved_message is not None and self.message.text() == self._not_saved_message:
                self._show_message("")   # saved since: the warning would now be wrong
            self._not_saved_message = None

    # ------------------------------------------------------------ submit and amend

    def submit(self) -> None:
        """Save, then submit; what is missing is listed with a way to jump to it."""
        visit = self.visit
        if visit is None or not visit.editable:
            return
        self.flush()
        self.message.hide()
        self.submit_button.setEnabled(False)
        store, visit_id = self._ctx.store, visit.id
        Op(self, lambda: store.submit_visit(visit_id)).success(self._on_submitted) \
            .failure(self._on_submit_failed).finally_(lambda: self.submit_button.setEnabled(True)).run()

    def refresh_state(self) -> None:
        """After a sync: a read-only visit shows where it stands now ("waiting to sync" becomes "On the portal").

        Only a read-only visit is re-read: an editable one may hold unsaved typing, which a reload must never touch.
        """
        visit = self.visit
        if visit is None or visit.editable:
            return
        store, visit_id = self._ctx.store, visit.id
        Op(self, lambda: store.visit(visit_id), what="read where the visit stands") \
            .success(self._on_state_read).run()

    def _on_state_read(self, visit: Visit) -> None:
        current = self.visit
        if current is not None and current.id == visit.id and not current.editable:
            self._apply_visit(visit)

    def _on_submitted(self, visit: Visit) -> None:
        self._apply_visit(visit)
        self._ctx.signals.sig_data_changed.emit()
        self.sig_submitted.emit(visit.id)

    def _on_submit_failed(self, failure: TaskFailure) -> None:
        error = failure.error
        if isinstance(error, ValidationError) and error.problems:
            self._show_missing = True
            self.show_problems(error.problems)
            self.missing_dialog = MissingDialog(error.problems, self.question_labels(), self)
            self.missing_dialog.sig_jump.connect(self.jump_to)
            self.missing_dialog.open()
        else:
            self._show_message(f"The visit could not be submitted: {failure.message}")

    def _show_progress(self) -> None:
        """The progress line counted from the answers and outcome on screen now."""
        bundle = self.bundle
        template = bundle.template if bundle is not None else None
        self.progress_line.update_from(template, self.current_answers() if template else {},
                                       self.outcome.currentData(), editable=bool(bundle and bundle.visit.editable))

    def _focused_question(self) -> str | None:
        """The question the keyboard focus is in, if any."""
        focus = QApplication.focusWidget()
        if focus is None:
            return None
        rows = [*self.rows.values(), *(r for box in self.repeats.values() for r in box.rows())]
        return next((row.editor.question.id for row in rows if row is focus or row.isAncestorOf(focus)), None)

    def jump_to(self, key: str) -> None:
        """Scroll to a question (or the outcome, hazards or notes) and put the cursor there."""
        if key in self.rows:
            row = self.rows[key]
            self._bring_into_view(row, row.editor.focus_widget())
        elif key.startswith("hazards.") and key.partition(".")[2].isdigit():
            target = self.hazards.focus_row(int(key.partition(".")[2]))
            self.scroll.ensureWidgetVisible(target.parentWidget() or target)  # the whole row, its message too
        elif key in self._repeat_of:
            box = self._repeat_of[key]
            # The first repetition that shows the question and leaves it blank: the section may hold many rooms.
            rows = [r.rows[key] for r in box.repetitions if key in r.rows and not r.rows[key].isHidden()]
            blank = next((row for row in rows if is_blank(row.editor.value())), None)
            if blank is not None:
                self._bring_into_view(blank, blank.editor.focus_widget())
            else:
                self._bring_into_view(box, box.add_button)
        elif key == "assessment":
            self._bring_into_view(self.assessment, self.assessment.focus_widget())
        elif key.partition(".")[0] in ("outcome", "notes", "hazards", "photos"):
            target = {"outcome": self.outcome, "notes": self.notes, "hazards": self.hazards,
                      "photos": self.photos}[key.partition(".")[0]]
            self._bring_into_view(target, target)

    def _bring_into_view(self, box: QWidget, focus: QWidget) -> None:
        """Show ``box`` from its top, then ``focus`` (which gets the cursor) whole.

        `ensureWidgetVisible` centres a box taller than the view: the assessment's middle showed and the
        cursor sat on its first question out of sight, where a key press would answer unseen.
        """
        content = self.scroll.widget()
        if content is not None and box.height() > self.scroll.viewport().height():
            self.scroll.verticalScrollBar().setValue(box.mapTo(content, QPoint(0, 0)).y())
        else:
            self.scroll.ensureWidgetVisible(box)
        self.scroll.ensureWidgetVisible(focus)
        focus.setFocus(Qt.FocusReason.OtherFocusReason)

    def file_amendment(self) -> None:
        visit = self.visit
        if visit is None:
            return
        store, visit_id = self._ctx.store, visit.id
        Op(self, lambda: store.file_amendment(visit_id)).success(lambda v: self.sig_open_visit.emit(v.id)) \
            .failure(lambda f: self._show_message(f"The amendment could not be started: {f.message}")).run()

    def report_hazard(self) -> None:
        """Report a hazard seen on this visit (queued offline; photos once the visit is submitted)."""
        if self.bundle is None:
            return
        self.flush()
        self.report_dialog = ReportHazardDialog(self._ctx, self.bundle.case, self.bundle.visit, parent=self)
        self.report_dialog.sig_reported.connect(lambda _r: self._show_message(
            "Hazard reported: it goes to the portal at the next sync and comes back as a new case.", problem=False))
        self.report_dialog.open()

    def open_letter(self) -> None:
        """The tenant's letter of this visit, from what is saved (the pending save goes first)."""
        visit = self.visit
        if visit is None:
            return
        self.flush()  # the letter's read queues behind this save on the database thread
        self.letter_dialog = TenantLetterDialog(self._ctx.store, visit.id,
                                                self._ctx.settings.letter_template if self._ctx.settings else None, self)
        self.letter_dialog.open()

    def _on_summary_recorded(self, visit: Visit) -> None:
        self._ctx.signals.sig_visit_changed.emit(visit.id)
        self._ctx.signals.sig_data_changed.emit()

    def go_back(self) -> None:
        self.flush()
        self.sig_back.emit()

    def _show_message(self, text: str, *, problem: bool = True) -> None:
        """The line under the form: a problem in red, or news (a hazard reported) in the muted colour."""
        self.message.setObjectName("problem" if problem else "muted")
        repolish(self.message)
        self.message.say(text)

    # ------------------------------------------------------------ drag and drop

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 (Qt name)
        if self.visit is not None and self.visit.editable and local_files(event.mimeData()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:  # noqa: N802
        if self.visit is not None and self.visit.editable and local_files(event.mimeData()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802
        paths = local_files(event.mimeData())
        if paths and self.visit is not None and self.visit.editable:
            event.acceptProposedAction()
            self.photos.import_files(paths)
        else:
            event.ignore()
