"""One input widget per question kind of the template (PROTOCOL.md answer values).

Each widget shows an answer value and emits `sig_changed(value)` when the officer
changes it (None = unanswered). Typing emits `sig_typing` instead, so the editor can
debounce; leaving the field emits `sig_changed` at once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TypeAlias

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractButton,
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from fieldapp.domain import HHSRS_BANDS, HHSRS_HAZARDS, QuestionKind, is_category_1
from fieldapp.types import Photo, Question
from ui.format import photo_line
from ui.widgets import checked_values, tick_values

#: An answer value as PROTOCOL.md writes it (None = unanswered): JSON, its shape set by the question's kind.
#: Read-only containers, so a widget's ``list[str]`` or ``{"hazard", "band"}`` dict is one as it is.
Answer: TypeAlias = "None | bool | int | float | str | Sequence[Answer] | Mapping[str, Answer]"


class QuestionWidget(QWidget):
    """Base of the answer widgets."""

    sig_changed = Signal(object)   # a complete answer value, or None for unanswered
    sig_typing = Signal()          # text is being typed: save soon, not at every key

    def __init__(self, question: Question, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.question = question
        self._setting = False

    def value(self) -> Answer:
        raise NotImplementedError

    def set_value(self, value: Answer) -> None:
        """Show a stored answer without emitting a change."""
        self._setting = True
        try:
            self._show(value)
        finally:
            self._setting = False

    def _show(self, value: Answer) -> None:
        raise NotImplementedError

    def set_read_only(self, read_only: bool) -> None:
        self.setEnabled(not read_only)

    def explain(self, message: str) -> str:
        """A problem of the answer as this widget would put it (the shared rule's words by default)."""
        return message

    def focus_widget(self) -> QWidget:
        """The widget to focus when the officer jumps to this question."""
        return self.focusProxy() or self

    def _emit(self, *_args: object) -> None:  # connected to signals of any arguments
        if not self._setting:
            self.sig_changed.emit(self.value())

    def set_photos(self, photos: Sequence[Photo]) -> None:
        """The visit's photos changed (only photo questions care)."""


def _row(widget: QWidget, *children: QWidget, fill: bool = False) -> QHBoxLayout:
    """Children side by side; with ``fill`` the last one takes the whole width (text boxes)."""
    layout = QHBoxLayout(widget)
    layout.setContentsMargins(0, 0, 0, 0)
    for child in children:
        layout.addWidget(child)
    if not fill:
        layout.addStretch(1)
    return layout


class _ButtonsWidget(QuestionWidget):
    """Exclusive radio buttons (yes/no, rating 1–5); clicking the checked one clears it."""

    def __init__(self, question: Question, choices: Sequence[tuple[str, Answer]], parent: QWidget | None = None) -> None:
        super().__init__(question, parent)
        self.group = QButtonGroup(self)
        self.group.setExclusive(False)  # so that an answer can be taken back
        self._values: dict[int, Answer] = {}
        buttons = []
        for number, (text, value) in enumerate(choices):
            button = QRadioButton(text)
            self.group.addButton(button, number)
            self._values[number] = value
            buttons.append(button)
        _row(self, *buttons)
        self.setFocusProxy(buttons[0])
        self.group.buttonClicked.connect(self._on_group_clicked)

    def _on_group_clicked(self, button: QAbstractButton) -> None:
        for other in self.group.buttons():
            if other is not button:
                other.setChecked(False)
        self._emit()

    def value(self) -> Answer:
        button = self.group.checkedButton()
        return None if button is None else self._values[self.group.id(button)]

    def _show(self, value: Answer) -> None:
        for number, button in enumerate(self.group.buttons()):
            button.setChecked(value is not None and self._values[number] == value and type(value) is type(self._values[number]))


class YesNoWidget(_ButtonsWidget):
    """Yes / No radio buttons (answer true or false)."""

    def __init__(self, question: Question, parent: QWidget | None = None) -> None:
        super().__init__(question, (("Yes", True), ("No", False)), parent)


class RatingWidget(_ButtonsWidget):
    """A rating from 1 to 5."""

    def __init__(self, question: Question, parent: QWidget | None = None) -> None:
        super().__init__(question, tuple((str(n), n) for n in range(1, 6)), parent)


class ChoiceWidget(QuestionWidget):
    """One of the question's options, from a drop-down list."""

    def __init__(self, question: Question, parent: QWidget | None = None) -> None:
        super().__init__(question, parent)
        self.combo = QComboBox()
        self.combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.combo.addItem("— not answered —", None)
        for option in question.options:
            self.combo.addItem(option, option)
        _row(self, self.combo)
        self.setFocusProxy(self.combo)
        self.combo.currentIndexChanged.connect(self._emit)

    def value(self) -> Answer:
        answer: Answer = self.combo.currentData()  # Qt's item data is untyped: an option, or a stored answer kept
        return answer

    def _show(self, value: Answer) -> None:
        select_value(self.combo, value)


#: Tick boxes whose labels together are longer than this go one under another: side by side they
#: would push the form past a small screen's width ("Causes found" has eight long options).
INLINE_OPTIONS_MAX_CHARS = 40


class MultiChoiceWidget(QuestionWidget):
    """Any of the question's options, as tick boxes: side by side when short, else one under another."""

    def __init__(self, question: Question, parent: QWidget | None = None) -> None:
        super().__init__(question, parent)
        self.boxes = [QCheckBox(option) for option in question.options]
        inline = sum(len(option) for option in question.options) <= INLINE_OPTIONS_MAX_CHARS
        layout: QHBoxLayout | QVBoxLayout = QHBoxLayout(self) if inline else QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for box in self.boxes:
            layout.addWidget(box)
            box.toggled.connect(self._emit)
        layout.addStretch(1)
        if self.boxes:
            self.setFocusProxy(self.boxes[0])

    def value(self) -> Answer:
        chosen = [box.text() for box in self.boxes if box.isChecked()]
        return chosen or None

    def _show(self, value: Answer) -> None:
        chosen = set(listed(value))
        for box in self.boxes:
            box.setChecked(box.text() in chosen)


class FocusOutFilter(QObject):
    """Calls back when the watched field loses focus (save at once, don't wait for the timer)."""

    def __init__(self, callback: Callable[[], None], parent: QObject) -> None:
        super().__init__(parent)
        self._callback = callback

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt name)
        if event.type() == QEvent.Type.FocusOut:
            self._callback()
        return False


class TextWidget(QuestionWidget):
    """Free text; saved a moment after typing stops and when the box is left."""

    def __init__(self, question: Question, parent: QWidget | None = None) -> None:
        super().__init__(question, parent)
        self.edit = QPlainTextEdit()
        self.edit.setTabChangesFocus(True)
        lines = 3
        self.edit.setMinimumHeight(self.fontMetrics().lineSpacing() * lines + 16)
        self.edit.setMaximumHeight(self.fontMetrics().lineSpacing() * 8 + 16)
        _row(self, self.edit, fill=True)
        self.setFocusProxy(self.edit)
        self.edit.textChanged.connect(self._on_typed)
        self.edit.installEventFilter(FocusOutFilter(self._emit, self))

    def _on_typed(self) -> None:
        if not self._setting:
            self.sig_typing.emit()

    def value(self) -> Answer:
        text = self.edit.toPlainText()
        return text if text.strip() else None

    def _show(self, value: Answer) -> None:
        if (value or "") != self.edit.toPlainText():
            self.edit.setPlainText("" if value is None else str(value))


class LineTextWidget(QuestionWidget):
    """A short text on one line (a household member's name): a paragraph box for it wrapped a name over lines."""

    def __init__(self, question: Question, parent: QWidget | None = None) -> None:
        super().__init__(question, parent)
        self.edit = QLineEdit()
        self.edit.setMinimumWidth(self.fontMetrics().averageCharWidth() * 30)
        _row(self, self.edit, fill=True)
        self.setFocusProxy(self.edit)
        self.edit.textEdited.connect(lambda _t: self.sig_typing.emit())
        self.edit.editingFinished.connect(self._emit)

    def value(self) -> Answer:
        text = self.edit.text()
        return text if text.strip() else None

    def _show(self, value: Answer) -> None:
        self.edit.setText("" if value is None else str(value))


class NumberWidget(QuestionWidget):
    """A number; text that is not a number is kept as typed and reported, never lost."""

    def __init__(self, question: Question, parent: QWidget | None = None) -> None:
        super().__init__(question, parent)
        self.edit = QLineEdit()
        bounds = []
        if question.min is not None:
            bounds.append(f"from {question.min:g}")
        if question.max is not None:
            bounds.append(f"to {question.max:g}")
        self.edit.setPlaceholderText(("A number " + " ".join(bounds)).strip())
        self.edit.setMaxLength(40)
        self.edit.setMinimumWidth(self.fontMetrics().averageCharWidth() * 30)
        _row(self, self.edit)
        self.setFocusProxy(self.edit)
        self.edit.textEdited.connect(lambda _t: self.sig_typing.emit())
        self.edit.editingFinished.connect(self._emit)

    def value(self) -> Answer:
        text = self.edit.text().strip().replace(",", "")
        if not text:
            return None
        try:
            number = float(text)
        except ValueError:
            return self.edit.text()
        return int(number) if number.is_integer() and "." not in text and "e" not in text.lower() else number

    def _show(self, value: Answer) -> None:
        self.edit.setText("" if value is None else (f"{value:g}" if isinstance(value, float) else str(value)))


class HazardWidget(QuestionWidget):
    """An HHSRS hazard and its band (A–J)."""

    def __init__(self, question: Question, parent: QWidget | None = None) -> None:
        super().__init__(question, parent)
        self.hazard = hazard_combo()
        self.band = band_combo()
        _row(self, self.hazard, self.band)
        self.setFocusProxy(self.hazard)
        self.hazard.currentIndexChanged.connect(self._emit)
        self.band.currentIndexChanged.connect(self._emit)

    def value(self) -> Answer:
        hazard, band = self.hazard.currentData(), self.band.currentData()
        if hazard is None and band is None:
            return None
        return {"hazard": hazard, "band": band}

    def _show(self, value: Answer) -> None:
        parts = value if isinstance(value, Mapping) else {}
        select_value(self.hazard, parts.get("hazard"))
        select_value(self.band, parts.get("band"))


def select_value(combo: QComboBox, value: Answer) -> None:
    """Show ``value`` in a combo; a value not offered (any more) is added so it stays visible, never lost."""
    if value is None:
        combo.setCurrentIndex(0)
        return
    index = combo.findData(value)
    if index < 0:
        combo.addItem(str(value), value)
        index = combo.count() - 1
    combo.setCurrentIndex(index)


def listed(value: Answer) -> Sequence[Answer]:
    """The items of a list answer (multi-choice options, photo ids); none when unanswered (or not a list)."""
    return value if isinstance(value, (list, tuple)) else ()


class TickListWidget(QuestionWidget):
    """A question answered by ticking items of a list; an item's ``UserRole`` data is its value."""

    def __init__(self, question: Question, accessible_name: str, parent: QWidget | None = None) -> None:
        super().__init__(question, parent)
        self.list = QListWidget()
        self.list.setAccessibleName(accessible_name)
        _row(self, self.list, fill=True)
        self.setFocusProxy(self.list)
        self._chosen: list[str] = []
        self.list.itemChanged.connect(self._on_list_item_changed)

    def _on_list_item_changed(self, _item: QListWidgetItem) -> None:
        if self._setting:
            return
        self._chosen = checked_values(self.list)
        self._emit()

    def value(self) -> Answer:
        return list(self._chosen) or None

    def _show(self, value: Answer) -> None:
        self._chosen = [str(v) for v in listed(value)]
        tick_values(self.list, self._chosen)


class PhotoQuestionWidget(TickListWidget):
    """Photos of this visit attached to the question (tick the ones that show the answer)."""

    def __init__(self, question: Question, parent: QWidget | None = None) -> None:
        super().__init__(question, f"Photos for: {question.label}", parent)
        self.list.setMaximumHeight(self.fontMetrics().lineSpacing() * 4 + 12)
        self.set_photos(())

    def set_photos(self, photos: Sequence[Photo]) -> None:
        self._setting = True
        try:
            self.list.clear()
            if not photos:
                self.list.addItem("Add photos below, then tick them here.")
                self.list.item(0).setFlags(Qt.ItemFlag.NoItemFlags)
            for number, photo in enumerate(photos, 1):
                item = QListWidgetItem(photo_line(number, photo.caption))
                item.setData(Qt.ItemDataRole.UserRole, photo.id)
                item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsUserCheckable | Qt.ItemFlag.ItemIsSelectable)
                item.setCheckState(Qt.CheckState.Checked if photo.id in self._chosen else Qt.CheckState.Unchecked)
                self.list.addItem(item)
        finally:
            self._setting = False


def hazard_combo() -> QComboBox:
    """The 29 HHSRS hazards, with an empty first choice."""
    combo = QComboBox()
    combo.addItem("— choose a hazard —", None)
    for name in HHSRS_HAZARDS:
        combo.addItem(name, name)
    combo.setAccessibleName("HHSRS hazard")
    return combo


def band_combo(empty_text: str = "— band —") -> QComboBox:
    """Bands A–J, Category 1 marked (`fieldapp.domain.is_category_1`), after ``empty_text`` for no band."""
    combo = QComboBox()
    combo.addItem(empty_text, None)
    for band in HHSRS_BANDS:
        combo.addItem(f"{band} (Category 1)" if is_category_1(band) else band, band)
    combo.setAccessibleName("HHSRS band")
    return combo


_KINDS: dict[str, type[QuestionWidget]] = {
    QuestionKind.YES_NO: YesNoWidget,
    QuestionKind.CHOICE: ChoiceWidget,
    QuestionKind.MULTI_CHOICE: MultiChoiceWidget,
    QuestionKind.TEXT: TextWidget,
    QuestionKind.NUMBER: NumberWidget,
    QuestionKind.RATING: RatingWidget,
    QuestionKind.HAZARD: HazardWidget,
    QuestionKind.PHOTO: PhotoQuestionWidget,
}


def widget_for(question: Question, parent: QWidget | None = None, *, one_line: bool = False) -> QuestionWidget:
    """The widget for a question's kind (an unknown kind falls back to text, nothing is lost).

    ``one_line``: a text question answered in a word or a name gets a one-line field, not a paragraph box.
    """
    if one_line and question.kind == QuestionKind.TEXT:
        return LineTextWidget(question, parent)
    if question.kind == QuestionKind.DATE:
        from ui.date_input import DateAnswerWidget  # built on this module's QuestionWidget

        return DateAnswerWidget(question, parent)
    return _KINDS.get(question.kind, TextWidget)(question, parent)
