"""Annotate a photo: draw arrows, circles, lines and short texts, and save them as a new photo of the visit.

The original photo is never changed: Save makes an annotated copy (drawn and prepared
on the background thread with Pillow, then attached on the database thread) that
goes beside it. Nothing drawn is lost without the officer saying so: closing with
marks asks first, a failed save keeps the marks on screen with the reason, and the
dialog cannot be closed while a save is under way; and the marks are kept in the store
as they are drawn (`ui.annotate_keeper`), so even a crash gives them back next time.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import (
    QAction,
    QActionGroup,
    QColor,
    QHideEvent,
    QIcon,
    QImage,
    QKeySequence,
    QPainter,
    QPixmap,
)
from PySide6.QtWidgets import (
    QAbstractButton,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QInputDialog,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QToolBar,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from fieldapp.errors import ValidationError
from fieldapp.photos import PreparedPhoto
from fieldapp.photos_annotate import PhotoPixels, decode_pixels
from fieldapp.photos_marks import COLOURS, TEXT_MAX_CHARS, Mark, Point, validate_marks
from fieldapp.types import Photo, counted
from ui.annotate_canvas import MAX_ZOOM, ZOOM_STEP, AnnotateCanvasWidget, Tool
from ui.annotate_keeper import MarksKeeper
from ui.context import AppContext
from ui.drafts import confirm_discard
from ui.tasks import Op, TaskFailure
from ui.widgets import ProblemLabel, wrapping_label

log = logging.getLogger(__name__)

#: Tools with their button text and key, in the order of the toolbar.
TOOLS = ((Tool.ARROW, "Arrow", "A"), (Tool.ELLIPSE, "Circle", "C"), (Tool.FREEHAND, "Freehand", "F"),
         (Tool.TEXT, "Text", "T"), (Tool.SELECT, "Select", "S"))

_HINTS = {
    Tool.ARROW: "Drag from the tail to what it points at — or move the cross with the arrow keys and press Enter at each end.",
    Tool.ELLIPSE: "Drag across what to circle — or press Enter at one corner and at the opposite one.",
    Tool.FREEHAND: "Drag to draw a line — or press Enter, move with the arrow keys, and press Enter to finish.",
    Tool.TEXT: "Click where the text goes — or move the cross and press Enter — then type a few words.",
    Tool.SELECT: "Click a mark — or press Page Down — then drag it or move it with the arrow keys; Delete removes it.",
}


def swatch(rgb: tuple[int, int, int], halo: tuple[int, int, int]) -> QIcon:
    """A square of the colour in a rim of its halo, as the mark will look."""
    pixmap = QPixmap(20, 20)
    pixmap.fill(QColor(*halo))
    inner = QPixmap(14, 14)
    inner.fill(QColor(*rgb))
    painter = QPainter(pixmap)
    painter.drawPixmap(3, 3, inner)
    painter.end()
    return QIcon(pixmap)


def to_qimage(pixels: PhotoPixels) -> QImage:
    """A QImage over decoded pixels, copied so it owns them (made on the GUI thread)."""
    return QImage(pixels.rgb, pixels.width, pixels.height, pixels.width * 3, QImage.Format.Format_RGB888).copy()


class AnnotateDialog(QDialog):
    """The photo, the drawing tools, and Save as new photo / Cancel."""

    sig_saved = Signal(object)  # the new Photo

    def __init__(self, ctx: AppContext, photo: Photo, number: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self.photo = photo
        self.saving = False
        self.saved: Photo | None = None
        self.discard_box: QMessageBox | None = None
        self.text_dialog: QInputDialog | None = None
        self.setWindowTitle(f"Annotate photo {number}" + (f": {photo.caption}" if photo.caption else ""))

        self.canvas = AnnotateCanvasWidget()
        self.canvas.setEnabled(False)
        self.canvas.sig_changed.connect(self._update_actions)
        self.keeper = MarksKeeper(ctx.store, photo.id, self)
        self.keeper.sig_restored.connect(self._on_marks_restored)
        self.keeper.sig_failed.connect(self._on_keep_failed)
        self.canvas.sig_changed.connect(lambda: self.keeper.changed(self.canvas.marks))
        self.canvas.sig_text_wanted.connect(self.ask_text)
        self.toolbar = QToolBar("Annotation tools")
        self.toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.toolbar.setIconSize(QSize(20, 20))
        self.tool_actions = self._tool_actions()
        self.toolbar.addSeparator()
        self.colour_actions = self._colour_actions()
        # Undo, Redo and Delete sit by Save: at 1366x768 with 150% scaling one toolbar cannot hold them all.
        self.undo_action = self._action("Undo", ("Ctrl+Z",), self.canvas.undo, "Undo the last change", False)
        self.redo_action = self._action("Redo", ("Ctrl+Y", "Ctrl+Shift+Z"), self.canvas.redo, "Redo what was undone", False)
        self.delete_action = self._action("Delete", ("Delete",), self.canvas.delete_selected, "Remove the chosen mark",
                                          False)
        self.zoom_in_action = self._action("Zoom in", ("+", "="), lambda: self.canvas.zoom_by(ZOOM_STEP),
                                           "Closer, around the cross (or Ctrl+wheel)", False)
        self.zoom_out_action = self._action("Zoom out", ("-",), lambda: self.canvas.zoom_by(1 / ZOOM_STEP),
                                            "Further out; 0 shows the whole photo", False)
        self._action("Whole photo", ("0",), self.canvas.zoom_to_fit, "Show the whole photo", False)
        self.edit_buttons = [self._button(a) for a in (self.undo_action, self.redo_action, self.delete_action,
                                                       self.zoom_in_action, self.zoom_out_action)]

        self.hint = wrapping_label("Loading the photo…", "muted")
        self.message = ProblemLabel()
        buttons = QDialogButtonBox()
        self.save_button = buttons.addButton("Save as new photo", QDialogButtonBox.ButtonRole.AcceptRole)
        self.save_button.setToolTip("Add the marked-up copy to the visit; the original stays as it is (Ctrl+S)")
        self.save_button.setShortcut(QKeySequence("Ctrl+S"))
        self.cancel_button = buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.save_button.clicked.connect(self.save)
        self.cancel_button.clicked.connect(self.reject)
        # Enter places points on the photo: it must never press a button behind the officer's back.
        for button in (self.save_button, self.cancel_button):
            button.setAutoDefault(False)
            button.setDefault(False)

        bottom = QHBoxLayout()
        for button in self.edit_buttons:
            bottom.addWidget(button)
        bottom.addStretch(1)
        bottom.addWidget(buttons)
        layout = QVBoxLayout(self)
        layout.addWidget(self.toolbar)
        layout.addWidget(self.canvas, 1)
        layout.addWidget(self.hint)
        layout.addWidget(self.message)
        layout.addLayout(bottom)
        self._size_to_screen()
        self._update_actions()
        self._load()

    # ------------------------------------------------------------ building

    def _action(self, text: str, keys: tuple[str, ...], slot: Callable[[], object], tip: str,
                on_toolbar: bool = True) -> QAction:
        """An action with its keys, which work anywhere in the dialog; on the toolbar, or for a button of its own."""
        action = QAction(text, self)
        action.setShortcuts([QKeySequence(k) for k in keys])
        action.setToolTip(f"{tip} ({' or '.join(keys)})")
        action.triggered.connect(slot)
        if not on_toolbar:
            self.addAction(action)
        else:
            self.toolbar.addAction(action)
        return action

    @staticmethod
    def _button(action: QAction) -> QPushButton:
        """A push button that follows the action (looks like the dialog's other buttons, greys out with it)."""
        button = QPushButton(action.text())
        button.setToolTip(action.toolTip())
        button.setAutoDefault(False)
        button.clicked.connect(action.trigger)
        action.changed.connect(lambda: button.setEnabled(action.isEnabled()))
        return button

    def _tool_actions(self) -> dict[Tool, QAction]:
        group = QActionGroup(self)
        actions = {}
        for tool, text, key in TOOLS:
            action = self._action(f"{text} ({key})", (key,), partial(self.set_tool, tool), _HINTS[tool].split(" — ")[0])
            action.setCheckable(True)
            group.addAction(action)
            actions[tool] = action
        actions[self.canvas.tool].setChecked(True)
        return actions

    def _colour_actions(self) -> dict[str, QAction]:
        group = QActionGroup(self)
        actions = {}
        for number, colour in enumerate(COLOURS, start=1):
            action = self._action(colour.name.capitalize(), (str(number),), partial(self.set_colour, colour.name),
                                  f"Draw in {colour.name}")
            action.setIcon(swatch(colour.rgb, colour.halo))
            action.setCheckable(True)
            group.addAction(action)
            button = self.toolbar.widgetForAction(action)
            if isinstance(button, QToolButton):
                button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
                button.setAccessibleName(f"{colour.name.capitalize()} ({number})")
            actions[colour.name] = action
        actions[self.canvas.colour].setChecked(True)
        return actions

    def _size_to_screen(self) -> None:
        """Large, for drawing precisely, but never past the screen (1366x768 at 150% leaves 911x480)."""
        screen = self.screen()
        if screen is None:
            return
        available = screen.availableGeometry()
        self.resize(min(1400, int(available.width() * 0.95)), min(1000, int(available.height() * 0.95)))

    # ------------------------------------------------------------ loading

    def _load(self) -> None:
        photo, path = self.photo, self.photo.path
        if path is None:
            self.hint.setText("This photo is not on this laptop yet. Sync to download it, then annotate it.")
            return
        # Pillow, not QImage, decodes off the GUI thread; the QImage is made here from its pixels.
        Op(self, lambda: decode_pixels(path, photo.sha256), network=True, what="open the photo to annotate") \
            .success(self._on_loaded).failure(self._on_load_failed).run()

    def _on_loaded(self, pixels: PhotoPixels) -> None:
        self.canvas.set_image(to_qimage(pixels), (pixels.photo_width, pixels.photo_height))
        self.canvas.setEnabled(True)
        self.canvas.setFocus()
        self._update_actions()
        self.keeper.restore()

    def _on_marks_restored(self, marks: tuple[Mark, ...]) -> None:
        """Marks drawn before and never saved nor discarded (the app closed, or the laptop lost power)."""
        if self.canvas.marks or self.saving:
            return   # the officer began drawing before they arrived: what is on screen wins
        try:
            validate_marks(marks, *self.canvas.image_size)
        except ValidationError:
            return
        self.canvas.resume(marks)
        count = len(marks)
        self.message.say(f"The {counted(count, 'mark')} you drew on this photo before "
                         f"{'are' if count != 1 else 'is'} back. Go on drawing, or Undo to start afresh.")

    def _on_keep_failed(self, message: str) -> None:
        self.message.say(f"Your marks could not be kept on this laptop in case it loses power: {message} "
                         "They are still here; save the copy to keep them.")

    def _on_load_failed(self, failure: TaskFailure) -> None:
        self.hint.setText(f"The photo could not be opened: {failure.message}")

    # ------------------------------------------------------------ drawing

    def set_tool(self, tool: Tool) -> None:
        self.tool_actions[tool].setChecked(True)
        self.canvas.set_tool(tool)
        self.canvas.setFocus()

    def set_colour(self, name: str) -> None:
        self.colour_actions[name].setChecked(True)
        self.canvas.set_colour(name)
        self.canvas.setFocus()

    def ask_text(self, at: Point) -> None:
        """Ask for the words of a text mark; the mark is placed only when they are given."""
        dialog = self.text_dialog = QInputDialog(self)
        dialog.setWindowTitle("Text on the photo")
        dialog.setLabelText(f"What should it say? (up to {TEXT_MAX_CHARS} characters)")
        dialog.textValueSelected.connect(lambda text: self.canvas.add_text(at, text))
        dialog.finished.connect(self._back_to_drawing)
        dialog.open()
        edit = dialog.findChild(QLineEdit)   # made when the dialog is first shown
        if edit is not None:
            edit.setMaxLength(TEXT_MAX_CHARS)

    def _back_to_drawing(self) -> None:
        """The keys go to the photo again once the text box closes (without a window manager nobody else does it)."""
        self.activateWindow()
        self.canvas.setFocus()

    def _update_actions(self) -> None:
        canvas = self.canvas
        ready = canvas.ready and not self.saving
        for action in (*self.tool_actions.values(), *self.colour_actions.values()):
            action.setEnabled(ready)
        self.undo_action.setEnabled(ready and canvas.history.can_undo)
        self.redo_action.setEnabled(ready and canvas.history.can_redo)
        self.delete_action.setEnabled(ready and canvas.selected is not None)
        self.zoom_in_action.setEnabled(ready and canvas.zoom < MAX_ZOOM)
        self.zoom_out_action.setEnabled(ready and canvas.zoom > 1)
        self.save_button.setEnabled(ready and bool(canvas.marks))
        self.cancel_button.setEnabled(not self.saving)
        if canvas.ready and not self.saving:
            count = len(canvas.marks)
            marks = f"{counted(count, 'mark')}. " if count else ""
            self.hint.setText(marks + _HINTS[canvas.tool])

    # ------------------------------------------------------------ saving

    def save(self) -> None:
        """Draw the marks into a new photo of the visit (background thread), then attach it (database thread)."""
        marks = self.canvas.marks
        if self.saving or not marks:
            return
        self.keeper.flush()   # kept until the copy is attached, in case the save fails or the app stops
        self.saving = True
        self.canvas.setEnabled(False)
        self.message.hide()
        self.hint.setText("Saving the annotated copy…")
        self._update_actions()
        store, photo = self._ctx.store, self.photo
        Op(self, lambda: store.prepare_annotated(photo, marks), background=True, what="make the annotated copy") \
            .success(self._on_prepared).failure(self._on_save_failed).run()

    def _on_prepared(self, prepared: PreparedPhoto) -> None:
        store, photo_id = self._ctx.store, self.photo.id
        try:
            Op(self, lambda: store.attach_annotated(photo_id, prepared), what="add the annotated copy to the visit") \
                .success(self._on_saved).failure(self._on_save_failed).run()
        except RuntimeError:  # the app is closing: the marks stay kept, the staged files are tidied at next start
            log.info("Not attaching the annotated copy of %s: the app is closing", photo_id)

    def _on_saved(self, photo: Photo) -> None:
        self.saving = False
        self.saved = photo
        self.sig_saved.emit(photo)
        self.accept()

    def _on_save_failed(self, failure: TaskFailure) -> None:
        self.saving = False
        self.canvas.setEnabled(True)
        self.message.say(f"The annotated copy was not saved: {failure.message} Your marks are still here.")
        self._update_actions()

    # ------------------------------------------------------------ closing

    def hideEvent(self, event: QHideEvent) -> None:  # noqa: N802 (Qt name)
        """Gone from the screen however it went (the app closing too): the latest marks are written now."""
        self.keeper.flush()
        super().hideEvent(event)

    def reject(self) -> None:
        """Cancel, Esc or the window's close: ask before throwing marks away; never during a save."""
        if self.saving:
            return
        marks = len(self.canvas.marks)
        if not marks:
            self.keeper.forget()
            super().reject()
            return
        box = self.discard_box = confirm_discard(
            "Discard your marks?", f"You drew {counted(marks, 'mark')} on this photo that "
            "{} not saved. Discard {}?".format("are" if marks != 1 else "is", "them" if marks != 1 else "it"),
            "Discard marks", self)
        box.button(QMessageBox.StandardButton.Cancel).setText("Keep drawing")
        box.buttonClicked.connect(self._on_discard_answer)
        box.open()

    def _on_discard_answer(self, button: QAbstractButton) -> None:
        box = self.discard_box
        if box is not None and button is box.button(QMessageBox.StandardButton.Discard):
            self.keeper.forget()
            super().reject()
        else:
            self.canvas.setFocus()
