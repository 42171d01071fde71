"""The "Report a hazard" dialog: from any case or visit, offline; queued like a visit, sent at the next sync.

The portal turns the report into a new case for the officer's team with its own
statutory clock (PROTOCOL.md revision 2, "Hazard reports from the field"). The
hazards offered are those of the vocabulary in use (pulled from the portal, the
bundled HHSRS list before the first sync). Closing the dialog with something typed
asks first: nothing the officer wrote is dropped without their word.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timezone

from PySide6.QtCore import QDateTime, Qt, QTimeZone, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDateTimeEdit,
    QDialog,
    QFormLayout,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from fieldapp.domain import Priority
from fieldapp.errors import ValidationError
from fieldapp.hazard_reports import DEFAULT_PRIORITY
from fieldapp.types import CaseDetail, HazardReport, Photo, Visit, VisitState
from fieldapp.vocabulary import HazardVocabulary
from ui.context import AppContext
from ui.format import label, photo_line
from ui.tasks import Op, TaskFailure
from ui.widgets import ProblemLabel, action_buttons, checked_values, wrapping_label

LONDON = QTimeZone(b"Europe/London")
#: A visit whose photos are (or are about to be) on the portal.
_SENT_STATES = (VisitState.QUEUED, VisitState.SUBMITTED, VisitState.APPROVED, VisitState.RETURNED)


def fill_hazard_list(widget: QListWidget, vocabulary: HazardVocabulary, chosen: Sequence[str] = ()) -> None:
    """The vocabulary's hazards as tick boxes under their group headings."""
    widget.clear()
    group = None
    for hazard in vocabulary.hazards:
        if hazard.group and hazard.group != group:
            group = hazard.group
            heading = QListWidgetItem(group)
            heading.setFlags(Qt.ItemFlag.NoItemFlags)
            font = heading.font()
            font.setBold(True)
            heading.setFont(font)
            widget.addItem(heading)
        item = QListWidgetItem(hazard.name)
        item.setData(Qt.ItemDataRole.UserRole, hazard.name)
        item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsUserCheckable)
        item.setCheckState(Qt.CheckState.Checked if hazard.name in chosen else Qt.CheckState.Unchecked)
        widget.addItem(item)


class ReportHazardDialog(QDialog):
    """What was seen, when, how urgent, and (from a submitted visit) which photos show it."""

    sig_reported = Signal(object)   # the queued HazardReport

    def __init__(self, ctx: AppContext, case: CaseDetail, visit: Visit | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self.case, self.visit = case, visit
        self.setWindowTitle("Report a hazard")
        self.setMinimumWidth(self.fontMetrics().averageCharWidth() * 80)
        intro = wrapping_label(
            f"At {case.property.one_line}. The report becomes a new case for your team, with its own deadline. "
            "It is kept on this laptop and sent at the next sync.", "muted")
        self.hazards = QListWidget()
        self.hazards.setAccessibleName("Hazards seen")
        self.hazards.setMinimumHeight(self.fontMetrics().lineSpacing() * 10)
        self.description = QPlainTextEdit()
        self.description.setTabChangesFocus(True)
        self.description.setPlaceholderText("What you saw and where (room, flat, communal area), and who is at risk")
        self.description.setMinimumHeight(self.fontMetrics().lineSpacing() * 4)
        self.description.setAccessibleName("Description")
        self.observed = QDateTimeEdit()
        self.observed.setTimeZone(LONDON)
        self.observed.setDisplayFormat("ddd dd MMM yyyy HH:mm")
        self.observed.setCalendarPopup(True)
        self.observed.setDateTime(QDateTime.currentDateTime().toTimeZone(LONDON))
        self.observed.setMaximumDateTime(QDateTime.currentDateTime().toTimeZone(LONDON).addSecs(600))
        self.observed.setAccessibleName("When you saw it")
        self.priority = QComboBox()
        for value in (Priority.URGENT, Priority.EMERGENCY, Priority.ROUTINE):
            self.priority.addItem(label(value.value), value.value)
        self.priority.setCurrentIndex(self.priority.findData(DEFAULT_PRIORITY))
        self.priority.setAccessibleName("Priority")
        self.photos = QListWidget()
        self.photos.setAccessibleName("Photos of the visit")
        self.photos.setMaximumHeight(self.fontMetrics().lineSpacing() * 5)
        self.photos_note = wrapping_label("", "muted")
        self.problems: dict[str, QWidget] = {}
        form = QFormLayout()
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        for key, title, widget in (("hazards", "Hazards seen  *", self.hazards),
                                   ("description", "Description  *", self.description),
                                   ("observed_at", "When you saw it", self.observed),
                                   ("priority", "Priority", self.priority),
                                   ("photo_ids", "Photos", self.photos)):
            problem = ProblemLabel()
            self.problems[key] = problem
            form.addRow(title, widget)
            form.addRow("", problem)
        form.addRow("", self.photos_note)
        self.message = ProblemLabel()
        self.buttons, self.send_button = action_buttons(self, "Queue the report", self.send)
        self.send_button.setToolTip("Keep the report here and send it at the next sync")
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)
        # A problem goes as soon as the officer works on its field (it is checked again on send).
        self.hazards.itemChanged.connect(lambda _item: self.problems["hazards"].hide())
        self.description.textChanged.connect(self.problems["description"].hide)
        self.observed.dateTimeChanged.connect(lambda _d: self.problems["observed_at"].hide())
        self._fill_photos(visit.photos if visit else (), visit)
        self.confirm_box: QMessageBox | None = None
        store, vocabulary = ctx.store, (visit.vocabulary if visit else None)
        Op(self, lambda: store.hazard_vocabulary(vocabulary)).success(self._on_vocabulary) \
            .failure(lambda f: self._show_message(f"The hazard list could not be read: {f.message}")).run()

    def _on_vocabulary(self, vocabulary: HazardVocabulary) -> None:
        fill_hazard_list(self.hazards, vocabulary, self.chosen_hazards())

    def _fill_photos(self, photos: Sequence[Photo], visit: Visit | None) -> None:
        sendable = visit is not None and visit.state in _SENT_STATES
        for number, photo in enumerate(photos, 1):
            item = QListWidgetItem(photo_line(number, photo.caption))
            item.setData(Qt.ItemDataRole.UserRole, photo.id)
            flags = Qt.ItemFlag.ItemIsUserCheckable | (Qt.ItemFlag.ItemIsEnabled if sendable else Qt.ItemFlag.NoItemFlags)
            item.setFlags(flags)
            item.setCheckState(Qt.CheckState.Unchecked)
            self.photos.addItem(item)
        if visit is None or not photos:
            self.photos_note.setText("Photos can be attached when you report from a visit that has photos.")
        elif not sendable:
            self.photos_note.setText("This visit's photos can be attached once the visit is submitted; "
                                     "report now without them, or submit the visit first.")
        self.photos.setVisible(bool(photos))

    # ------------------------------------------------------------ reading the form

    def chosen_hazards(self) -> list[str]:
        return checked_values(self.hazards)

    def chosen_photos(self) -> list[str]:
        return checked_values(self.photos)

    def observed_at(self) -> datetime:
        """The time entered, as an aware UTC instant."""
        return datetime.fromtimestamp(self.observed.dateTime().toSecsSinceEpoch(), tz=timezone.utc)

    @property
    def dirty(self) -> bool:
        """True when the officer has written or chosen something."""
        return bool(self.description.toPlainText().strip() or self.chosen_hazards() or self.chosen_photos())

    # ------------------------------------------------------------ sending

    def send(self) -> None:
        """Queue the report (database thread); problems are shown beside their fields, nothing is lost."""
        self.send_button.setEnabled(False)
        self._show_problems({})
        store, case, visit = self._ctx.store, self.case, self.visit
        hazards, description = self.chosen_hazards(), self.description.toPlainText()
        observed, priority, photos = self.observed_at(), self.priority.currentData(), self.chosen_photos()

        def work() -> HazardReport:
            return store.report_hazard(hazards=hazards, description=description, observed_at=observed,
                                       priority=priority, case_id=case.id, visit_id=visit.id if visit else None,
                                       photo_ids=photos)

        Op(self, work).success(self._on_sent).failure(self._on_send_failed) \
            .finally_(lambda: self.send_button.setEnabled(True)).run()

    def _on_sent(self, report: HazardReport) -> None:
        self.sig_reported.emit(report)
        self._ctx.signals.sig_data_changed.emit()
        super().accept()

    def _on_send_failed(self, failure: TaskFailure) -> None:
        error = failure.error
        if isinstance(error, ValidationError) and error.problems:
            self._show_problems(error.problems)
            self._show_message(failure.message)
        else:
            self._show_message(f"The report could not be kept: {failure.message}")

    def _show_problems(self, problems: Mapping[str, str]) -> None:
        for key, widget in self.problems.items():
            message = problems.get(key)
            widget.setText(f"⚠ {message}" if message else "")  # type: ignore[attr-defined]
            widget.setVisible(bool(message))
        self.message.hide()

    def _show_message(self, text: str) -> None:
        self.message.setText(text)
        self.message.setVisible(bool(text))

    # ------------------------------------------------------------ closing

    def reject(self) -> None:
        """Close; with something written, only once the officer confirms it may go."""
        if not self.dirty:
            super().reject()
            return
        self.confirm_box = QMessageBox(QMessageBox.Icon.Question, "Discard this report?",
                                       "You have started a hazard report. Discard what you wrote?",
                                       QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel, self)
        self.confirm_box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        self.confirm_box.finished.connect(self._on_confirm_finished)
        self.confirm_box.open()

    def _on_confirm_finished(self, result: int) -> None:
        if result == QMessageBox.StandardButton.Discard:
            super().reject()
