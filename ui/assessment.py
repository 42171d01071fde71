"""The assessment section of the visit editor: the question Awaab's Law turns on.

Emergency, significant, or neither, and why, for this household: the finding, the
hazards (from the visit's own vocabulary), the reasons, the household's risk factors
(the groups the government's guidance names), whether it was made safe at the visit,
the safety work, any supplementary work and whether the household must move out.

Each field is saved as the officer answers, like the questions of the form; the
shared rule (`fieldapp.domain_assessment`) says on submit what is still missing.
"""

from __future__ import annotations

from collections.abc import Mapping
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFormLayout, QGroupBox, QListWidgetItem, QWidget

from fieldapp.domain_assessment import HOUSEHOLD_FACTORS, Finding
from fieldapp.types import Question
from fieldapp.vocabulary import HazardVocabulary
# The editor's own answer widgets, so the assessment looks and saves like the rest of the form.
from ui.questions import Answer, MultiChoiceWidget, QuestionWidget, TextWidget, TickListWidget, YesNoWidget, _ButtonsWidget
from ui.report_hazard import fill_hazard_list
from ui.widgets import ProblemLabel, wrapping_label

#: The findings as the officer reads them, in the order they weigh them.
FINDING_TEXT: dict[Finding, str] = {
    Finding.EMERGENCY: "Emergency hazard",
    Finding.SIGNIFICANT: "Significant hazard",
    Finding.NOT_SIGNIFICANT: "Hazard, not significant",
    Finding.NO_HAZARD: "No hazard found",
}

#: Each field of the assessment as the editor and the lead's review title it, in the editor's order.
ASSESSMENT_TITLES: dict[str, str] = {
    "finding": "Finding", "hazards": "Hazards assessed", "reasons": "Why, for this household",
    "household_factors": "Household at greater risk", "make_safe_done": "Made safe at the visit",
    "safety_work": "Safety work needed", "supplementary_work": "Supplementary work",
    "alternative_accommodation": "Must the household move out?",
}


class FindingWidget(_ButtonsWidget):
    """The finding, as four radio buttons (clicking the chosen one takes it back)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        question = Question(id="finding", label="Finding", kind="choice")
        super().__init__(question, tuple((text, value.value) for value, text in FINDING_TEXT.items()), parent)


class AssessmentHazardsWidget(TickListWidget):
    """The hazards the assessment is about, ticked from the visit's vocabulary under its groups."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(Question(id="hazards", label="Hazards assessed", kind="multi_choice"), "Hazards assessed",
                         parent)
        self.list.setMinimumHeight(self.fontMetrics().lineSpacing() * 8)
        self.list.setMaximumHeight(self.fontMetrics().lineSpacing() * 12)

    def set_vocabulary(self, vocabulary: HazardVocabulary) -> None:
        """Offer this vocabulary's hazards; a chosen name it lacks stays listed (never lost)."""
        self._setting = True
        try:
            fill_hazard_list(self.list, vocabulary, self._chosen)
            for name in self._chosen:
                if name not in vocabulary.names:
                    item = QListWidgetItem(name)
                    item.setData(Qt.ItemDataRole.UserRole, name)
                    item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsUserCheckable)
                    item.setCheckState(Qt.CheckState.Checked)
                    self.list.addItem(item)
        finally:
            self._setting = False


def _text(field: str, label: str, placeholder: str) -> TextWidget:
    widget = TextWidget(Question(id=field, label=label, kind="text"))
    widget.edit.setPlaceholderText(placeholder)
    widget.edit.setAccessibleName(label)
    return widget


class AssessmentWidget(QGroupBox):
    """Every field of the assessment; emits which field changed (at once, or while typing)."""

    sig_changed = Signal(str)   # the field changed (save now)
    sig_typing = Signal(str)    # text is being typed in the field (save soon)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Assessment (Awaab's Law)", parent)
        self.setAccessibleName("Assessment")
        self.intro = wrapping_label("", "muted")
        self.finding = FindingWidget()
        self.hazards = AssessmentHazardsWidget()
        self.reasons = _text("reasons", "Why, for this household",
                             "Why it is (or is not) an emergency or significant hazard for the people who live here")
        self.household_factors = MultiChoiceWidget(Question(id="household_factors", label="Household",
                                                            kind="multi_choice", options=HOUSEHOLD_FACTORS))
        self.make_safe_done = YesNoWidget(Question(id="make_safe_done", label="Made safe at the visit", kind="yes_no"))
        self.safety_work = _text("safety_work", "Safety work needed", "What must be done to make the home safe")
        self.supplementary_work = _text("supplementary_work", "Supplementary work",
                                        "Further work to stop the hazard coming back (leave empty if none)")
        self.alternative_accommodation = YesNoWidget(Question(
            id="alternative_accommodation", label="Alternative accommodation needed", kind="yes_no"))
        self.fields: dict[str, QuestionWidget] = {
            "finding": self.finding, "hazards": self.hazards, "reasons": self.reasons,
            "household_factors": self.household_factors, "make_safe_done": self.make_safe_done,
            "safety_work": self.safety_work, "supplementary_work": self.supplementary_work,
            "alternative_accommodation": self.alternative_accommodation,
        }
        self.problem = ProblemLabel()
        form = QFormLayout(self)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        form.addRow(self.intro)
        for field, widget in self.fields.items():
            form.addRow(ASSESSMENT_TITLES[field], widget)
            widget.sig_changed.connect(lambda _v, f=field: self.sig_changed.emit(f))
            widget.sig_typing.connect(lambda f=field: self.sig_typing.emit(f))
        form.addRow(self.problem)
        self.set_required(False)

    # ------------------------------------------------------------ showing

    def set_vocabulary(self, vocabulary: HazardVocabulary) -> None:
        self.hazards.set_vocabulary(vocabulary)

    def set_assessment(self, assessment: Mapping[str, Answer] | None) -> None:
        """Show a stored assessment (draft or sent) without emitting changes."""
        assessment = assessment or {}
        for field, widget in self.fields.items():
            widget.set_value(assessment.get(field))

    def set_required(self, required: bool) -> None:
        """Say whether this visit must carry the assessment (case under Awaab's Law, outcome completed)."""
        self.setTitle("Assessment (Awaab's Law)  *" if required else "Assessment (Awaab's Law)")
        self.intro.setText(
            "Required: this case is under Awaab's Law. Say whether the hazard is an emergency, significant or "
            "neither, and why, for this household. An HHSRS band is not needed." if required else
            "Say whether any hazard is an emergency, significant or neither, and why, for this household. "
            "Required when the case is under Awaab's Law and the visit is completed.")

    def set_read_only(self, read_only: bool) -> None:
        for widget in self.fields.values():
            widget.set_read_only(read_only)

    def set_problem(self, message: str | None) -> None:
        self.problem.warn(message)

    def focus_widget(self) -> QWidget:
        return self.finding.focus_widget()

    # ------------------------------------------------------------ reading

    def values(self, fields: set[str] | None = None) -> dict[str, Answer]:
        """The fields' answers to save (all, or ``fields``); an emptied field is None, which removes it."""
        wanted = self.fields if fields is None else {f: self.fields[f] for f in fields if f in self.fields}
        return {field: widget.value() for field, widget in wanted.items()}
