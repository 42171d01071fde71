"""Shows background failures that no screen handled itself, so none passes unseen.

One message at a time, never modal (the officer keeps working and nothing typed is
lost); a failure arriving while it is up replaces its text and counts the repeats,
so a failing refresh cannot stack dialogs. Every failure is in the log already
(`ui.tasks.log_failure`); this is the part the officer sees.
"""

from __future__ import annotations

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QMessageBox, QWidget

from ui.tasks import TaskFailure

ADVICE = "Your work is saved on this laptop. If this keeps happening, restart Fieldapp or tell IT support."


class FailureNotice(QObject):
    """The window's message for unhandled background failures."""

    def __init__(self, window: QWidget) -> None:
        super().__init__(window)
        self._window = window
        self.box: QMessageBox | None = None
        self._last = ""
        self._repeats = 0

    def show_failure(self, failure: TaskFailure) -> None:
        """Show (or update) the message for this failure."""
        sentence = failure.sentence
        if self.box is not None and self.box.isVisible():
            self._repeats = self._repeats + 1 if sentence == self._last else 1
        else:
            self.box = QMessageBox(QMessageBox.Icon.Warning, "Something did not work", "",
                                   QMessageBox.StandardButton.Close, self._window)
            self.box.setObjectName("failureNotice")
            self.box.setModal(False)
            self._repeats = 1
        self._last = sentence
        repeated = f"\n\n(This happened {self._repeats} times.)" if self._repeats > 1 else ""
        self.box.setText(f"{sentence}{repeated}\n\n{ADVICE}")
        self.box.show()
