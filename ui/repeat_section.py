"""Revision 2 templates in the editor: ``repeat`` sections (room by room) and ``show_if`` questions.

A repeat section is answered once per repetition; its answers are lists, one value
per repetition (None where a repetition leaves a question unanswered), as PROTOCOL.md
writes them. Adding a repetition is one click; removing one asks first, because its
answers go with it.

A ``show_if`` question is hidden while its condition does not hold, decided by the
shared rule (`fieldapp.domain_forms`). Hiding never clears it: what the officer typed
stays in the draft and comes back if the condition holds again; only the document
sent leaves it out.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from fieldapp.domain import QuestionKind, is_blank
from fieldapp.domain_forms import FormShape
from fieldapp.types import Question, Section
from ui.look import icon
from ui.question_row import QuestionRowWidget
from ui.questions import Answer

#: Makes the editor's row for a question with its stored value (the editor's own rows, so they look alike).
RowFactory = Callable[[Question, Answer], QuestionRowWidget]

#: The most of a first answer a repetition's title shows (a room's name, not a paragraph).
NAME_LENGTH = 40


def repetition_name(first_answer: Answer) -> str:
    """A repetition's name: its first answer when that is a text or a choice ("Kitchen"), else none."""
    return " ".join(first_answer.split())[:NAME_LENGTH] if isinstance(first_answer, str) else ""


def names_repetition(section: Section, question: Question, value: Answer) -> bool:
    """Whether ``question`` is the one-line text that names a repetition (a household member's "Full name").

    The section's first question, a text, names each repetition in its title; a stored answer over
    several lines keeps its paragraph box, so nothing typed is flattened.
    """
    first = section.questions[0] if section.questions else None
    return (first is not None and question.id == first.id and question.kind == QuestionKind.TEXT
            and not (isinstance(value, str) and "\n" in value))


def repetition_title(number: int, first_answer: Answer) -> str:
    """"Repetition 2 · Kitchen", or "Repetition 2" unnamed: as the editor and the lead's review both title it."""
    name = repetition_name(first_answer)
    return f"Repetition {number} · {name}" if name else f"Repetition {number}"


class RepetitionWidget(QFrame):
    """One repetition: its number and name, a Remove button and a row per question.

    The name is the answer to the section's first question when that is a short text or a
    choice ("Kitchen", a household member's name), so a long room-by-room form can be
    scanned by room; the number stays, because messages name repetitions by number.
    """

    sig_remove = Signal(object)   # self

    def __init__(self, number: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("hazardRow")   # the same framed look as a hazard row
        self.title = QLabel()
        self.title.setObjectName("sectionTitle")
        self.remove_button = QPushButton(icon("remove"), "Remove")
        self.remove_button.clicked.connect(lambda: self.sig_remove.emit(self))
        header = QHBoxLayout()
        header.addWidget(self.title, 1)
        header.addWidget(self.remove_button)
        self.body = QVBoxLayout(self)
        self.body.addLayout(header)
        self.rows: dict[str, QuestionRowWidget] = {}
        self.name = ""
        self.set_number(number)

    def set_number(self, number: int) -> None:
        self.number = number
        self._show_title()
        self.remove_button.setToolTip(f"Remove repetition {number} and its answers (asks first)")
        self.remove_button.setAccessibleName(f"Remove repetition {number}")

    def set_name(self, answer: Answer) -> None:
        """Name the repetition by its first answer (a text or a choice); anything else leaves it unnamed."""
        self.name = repetition_name(answer)
        self._show_title()

    def _show_title(self) -> None:
        self.title.setText(repetition_title(self.number, self.name))


class RepeatSectionWidget(QGroupBox):
    """A section answered once per repetition; emits which question's list changed."""

    sig_changed = Signal(str)       # a question id whose list changed (save now)
    sig_typing = Signal(str)        # typing in a question (save soon)
    sig_structure = Signal()        # a repetition was added or removed: every list of the section changed
    #: The officer added this RepetitionWidget: the page brings it into view with the cursor in its first field
    #: (it opens below the button, out of sight on a small screen, where typing would go unseen).
    sig_added = Signal(object)

    def __init__(self, section: Section, make_row: RowFactory, answers: Mapping[str, Answer],
                 parent: QWidget | None = None) -> None:
        super().__init__(section.title, parent)
        self.section = section
        self._make_row = make_row
        self.repetitions: list[RepetitionWidget] = []
        self.confirm_box: QMessageBox | None = None
        self.add_button = QPushButton(icon("add"), "Add another")
        self.add_button.setToolTip(f"Answer “{section.title}” once more (for example, another room)")
        self.add_button.clicked.connect(self._on_add_clicked)
        self.empty = QLabel("None recorded yet. Press “Add another” to answer this section.")
        self.empty.setObjectName("muted")
        self._layout = QVBoxLayout(self)
        self._layout.addWidget(self.empty)
        self._layout.addWidget(self.add_button, 0, Qt.AlignmentFlag.AlignLeft)
        count = max((len(v) for q in section.questions if isinstance(v := answers.get(q.id), list)), default=0)
        for index in range(count):
            self._append({q.id: repetition_value(answers.get(q.id), index) for q in section.questions})
        self.empty.setVisible(not self.repetitions)

    @property
    def question_ids(self) -> list[str]:
        return [q.id for q in self.section.questions]

    def _append(self, values: Mapping[str, Answer]) -> RepetitionWidget:
        repetition = RepetitionWidget(len(self.repetitions) + 1)
        for question in self.section.questions:
            row = self._make_row(question, values.get(question.id))
            row.editor.sig_changed.connect(lambda _v, qid=question.id: self.sig_changed.emit(qid))
            row.editor.sig_typing.connect(lambda qid=question.id: self.sig_typing.emit(qid))
            repetition.rows[question.id] = row
            repetition.body.addWidget(row)
        repetition.sig_remove.connect(self.ask_remove)
        self._name_by_first_answer(repetition)
        self.repetitions.append(repetition)
        self._layout.insertWidget(self._layout.count() - 1, repetition)
        repetition.show()
        self.empty.hide()
        return repetition

    def _name_by_first_answer(self, repetition: RepetitionWidget) -> None:
        """Keep the repetition's title naming it by its first question's answer, as it is typed or chosen."""
        first = next(iter(repetition.rows.values()), None)
        if first is None:
            return
        editor = first.editor
        repetition.set_name(editor.value())
        editor.sig_changed.connect(repetition.set_name)
        editor.sig_typing.connect(lambda: repetition.set_name(editor.value()))

    def _on_add_clicked(self) -> None:
        repetition = self._append({})
        self.sig_structure.emit()
        self.sig_added.emit(repetition)

    def ask_remove(self, repetition: RepetitionWidget) -> None:
        """Remove a repetition once the officer confirms: its answers go with it."""
        which = f"repetition {repetition.number}" + (f" ({repetition.name})" if repetition.name else "")
        self.confirm_box = QMessageBox(
            QMessageBox.Icon.Question, f"Remove {which}?",
            f"Remove {which} of “{self.section.title}” and everything answered in it?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel, self)
        self.confirm_box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        self.confirm_box.finished.connect(lambda result: self._on_confirm_finished(repetition, result))
        self.confirm_box.open()

    def _on_confirm_finished(self, repetition: RepetitionWidget, result: int) -> None:
        if result != QMessageBox.StandardButton.Yes or repetition not in self.repetitions:
            return
        self.repetitions.remove(repetition)
        repetition.deleteLater()
        for number, remaining in enumerate(self.repetitions, start=1):
            remaining.set_number(number)
        self.empty.setVisible(not self.repetitions)
        self.sig_structure.emit()

    # ------------------------------------------------------------ values and state

    def values(self) -> dict[str, Answer]:
        """Each question's list, one value per repetition (None = unanswered); None for all when there is none."""
        if not self.repetitions:
            return {qid: None for qid in self.question_ids}
        return {qid: [r.rows[qid].editor.value() for r in self.repetitions] for qid in self.question_ids}

    def rows(self) -> list[QuestionRowWidget]:
        return [row for r in self.repetitions for row in r.rows.values()]

    def set_read_only(self, read_only: bool) -> None:
        self.add_button.setVisible(not read_only)
        for repetition in self.repetitions:
            repetition.remove_button.setVisible(not read_only)
        for row in self.rows():
            row.editor.set_read_only(read_only)

    def show_problems(self, problems: Mapping[str, str], show_missing: bool) -> None:
        """A question's message ("Repetition 2: …") beside that repetition's row, else beside the first."""
        for repetition in self.repetitions:
            for qid, row in repetition.rows.items():
                message = problems.get(qid)
                prefix = f"Repetition {repetition.number}: "
                if message and message.startswith("Repetition "):
                    message = message[len(prefix):] if message.startswith(prefix) else None
                elif message and repetition.number != 1:
                    message = None
                if message and not show_missing and is_blank(row.editor.value()):
                    message = None
                row.set_problem(message)

    def apply_show_if(self, shape: FormShape, answers: Mapping[str, Answer]) -> None:
        """Show each row only while its condition holds in its own repetition."""
        for index, repetition in enumerate(self.repetitions):
            for qid, row in repetition.rows.items():
                row.setVisible(shape.is_shown(answers, qid, index))


def repetition_value(value: Answer, index: int) -> Answer:
    """One repetition's value of a repeated answer (None past its end or when it is not a list)."""
    return value[index] if isinstance(value, list) and index < len(value) else None
