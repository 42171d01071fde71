"""A question of the form as the editor shows it: its label, the answer widget, help and the problem beside it."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from ui.look import PROBLEM_RED
from ui.questions import QuestionWidget
from ui.widgets import ProblemLabel, wrapping_label


class QuestionRowWidget(QWidget):
    """A question: its label (required marked), the answer widget, help and the problem beside it."""

    def __init__(self, editor: QuestionWidget, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        question = editor.question
        self.editor = editor
        title = QLabel(question.label + (f"  <span style='color:{PROBLEM_RED}'>* required</span>" if question.required else ""))
        title.setTextFormat(Qt.TextFormat.RichText)
        title.setWordWrap(True)
        title.setBuddy(editor.focus_widget())
        self.problem = ProblemLabel()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 4)
        layout.addWidget(title)
        if question.help:
            layout.addWidget(wrapping_label(question.help, "muted"))
        layout.addWidget(editor)
        layout.addWidget(self.problem)

    def set_problem(self, message: str | None) -> None:
        message = self.editor.explain(message) if message else message
        self.problem.warn(message)
