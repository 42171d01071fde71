"""'Needs attention': problems from sync (conflicts, rejections, locked visits) with their actions."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from fieldapp.returned import ReturnedVisit
from fieldapp.types import Draft, Problem, ProblemAction, Visit
from ui.context import AppContext
from ui.drafts import confirm_discard, lost_text
from ui.models import ProblemTableModel
from ui.returned_visits import ReturnedVisitsWidget
from ui.tasks import Op, TaskFailure
from ui.widgets import ProblemLabel, clear_layout, wrapping_label

ACTION_TEXT = {
    ProblemAction.AMEND: ("File an amendment", "Start a new visit that corrects the approved one; your edits carry over."),
    ProblemAction.RETRY: ("Send again", "Queue the change again on the portal's current version."),
    ProblemAction.DISCARD: ("Discard my change", "Drop what was changed on this laptop (asks first, and says what is lost)."),
    ProblemAction.DISMISS: ("Dismiss", "Hide this message."),
}


class NeedsAttentionWidget(QWidget):
    """The list of `store.problems()`; the selected one shows its message and action buttons."""

    sig_count = Signal(int)      # returned visits + problems, each time either is read
    sig_open_visit = Signal(str)
    sig_resolved = Signal(str)   # problem id

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self.discard_box: QMessageBox | None = None
        self._counts = {"returned": 0, "problems": 0}   # the two lists the toolbar's count adds up
        title = QLabel("Needs attention")
        title.setObjectName("pageTitle")
        intro = wrapping_label("Visits your lead returned, and changes the portal could not accept. Nothing is lost: "
                               "choose what to do with each.",
                               "muted")
        self.model = ProblemTableModel(self)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setStretchLastSection(True)
        for column in range(3):
            self.table.horizontalHeader().setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        self.table.setAccessibleName("Problems")
        self.detail = wrapping_label("")
        self.empty = wrapping_label("No change was refused by the portal.", "muted")
        self.actions_layout = QHBoxLayout()
        self.open_button = QPushButton("Open the visit")
        self.open_button.clicked.connect(self._on_open_clicked)
        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addWidget(intro)
        self.returned = ReturnedVisitsWidget()
        self.returned.sig_open_visit.connect(self.sig_open_visit)
        layout.addWidget(self.returned)
        layout.addWidget(self.empty)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.detail)
        buttons = QHBoxLayout()
        buttons.addLayout(self.actions_layout)
        buttons.addStretch(1)
        buttons.addWidget(self.open_button)
        layout.addLayout(buttons)
        self.table.selectionModel().currentRowChanged.connect(self._on_table_current_changed)
        self.message = ProblemLabel()
        layout.addWidget(self.message)
        layout.addStretch(0)   # takes the room only while the table is hidden: the page reads top down
        self._show_selected(None)

    def refresh(self) -> None:
        store = self._ctx.store
        Op(self, store.returned_visits, what="read the returned visits").success(self._on_returned).run()
        Op(self, store.problems).success(self._on_loaded) \
            .failure(lambda f: self._show_error(f"Problems could not be read: {f.message}")).run()

    def _on_returned(self, visits: list[ReturnedVisit]) -> None:
        self.returned.set_visits(visits)
        self._counts["returned"] = len(visits)
        self.sig_count.emit(sum(self._counts.values()))

    def _on_loaded(self, problems: list[Problem]) -> None:
        self.model.set_rows(problems)
        self.empty.setVisible(not problems)
        self.table.setVisible(bool(problems))
        self._counts["problems"] = len(problems)
        self.sig_count.emit(sum(self._counts.values()))
        if problems:
            self.table.selectRow(0)
        else:
            self._show_selected(None)

    def selected(self) -> Problem | None:
        return self.model.row_at(self.table.currentIndex().row())

    def _on_table_current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        self._show_selected(self.model.row_at(current.row()))

    def _show_selected(self, problem: Problem | None) -> None:
        clear_layout(self.actions_layout)
        self.action_buttons: dict[ProblemAction, QPushButton] = {}
        self.detail.setText(problem.message if problem else "")
        self.open_button.setVisible(problem is not None and problem.entity == "visit")
        if problem is None:
            return
        for action in problem.actions:
            text, tip = ACTION_TEXT.get(action, (str(action).capitalize(), ""))
            button = QPushButton(text)
            button.setToolTip(tip)
            button.clicked.connect(lambda _c=False, a=action, pid=problem.id: self.resolve(pid, a))
            self.actions_layout.addWidget(button)
            self.action_buttons[action] = button

    def resolve(self, problem_id: str, action: ProblemAction) -> None:
        problem = next((p for p in self.model.rows() if p.id == problem_id), None)
        if action == ProblemAction.DISCARD and problem is not None and problem.entity == "visit":
            # Discarding deletes what was typed here (all of a never-sent visit): ask first, saying what.
            store, visit_id = self._ctx.store, problem.record_id
            Op(self, lambda: (store.visit(visit_id), next((d for d in store.drafts() if d.visit_id == visit_id), None)),
               what="read what discarding would delete") \
                .success(lambda found: self._ask_discard(problem_id, *found)).run()
            return
        self._resolve(problem_id, action)

    def _ask_discard(self, problem_id: str, visit: Visit, draft: Draft | None) -> None:
        if visit.server_version == 0:
            text = (f"Discard this visit? The portal never accepted it, so all of it is deleted from this laptop. "
                    f"{lost_text(draft)} This cannot be undone.")
        else:
            text = ("Discard your changes to this visit? The portal's version replaces what you changed on this "
                    "laptop since. This cannot be undone.")
        self.discard_box = box = confirm_discard("Discard?", text, "Discard", self)
        box.finished.connect(lambda _r: self._resolve(problem_id, ProblemAction.DISCARD) if box.clickedButton() is
                             box.button(QMessageBox.StandardButton.Discard) else None)
        box.open()

    def _resolve(self, problem_id: str, action: ProblemAction) -> None:
        store = self._ctx.store
        Op(self, lambda: store.resolve_problem(problem_id, action)) \
            .success(lambda visit: self._on_resolved(problem_id, visit)).failure(self._on_resolve_failed).run()

    def _on_resolved(self, problem_id: str, visit: Visit | None) -> None:
        self.message.hide()
        self.sig_resolved.emit(problem_id)
        self._ctx.signals.sig_data_changed.emit()
        if visit is not None and visit.editable:
            self.sig_open_visit.emit(visit.id)

    def _on_resolve_failed(self, failure: TaskFailure) -> None:
        self._show_error(failure.message)

    def _show_error(self, text: str) -> None:
        self.message.say(text)

    def _on_open_clicked(self) -> None:
        problem = self.selected()
        if problem is not None and problem.entity == "visit":
            self.sig_open_visit.emit(problem.record_id)
