"""Photo annotation in the app: drawn by mouse or keyboard alone, saved as a new photo, nothing lost on close."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from factory import import_one_photo, open_new_visit, screenshot, wait_idle, write_jpeg
from PIL import Image
from PySide6.QtCore import QPoint, QPointF, QRect, Qt
from PySide6.QtWidgets import QApplication, QInputDialog, QLineEdit, QWidget

from fieldapp.photos_marks import COLOURS_BY_NAME, MarkKind
from ui.annotate_canvas import Tool
from ui.annotate_dialog import AnnotateDialog
from ui.context import AppContext
from ui.look import apply_style

RED = COLOURS_BY_NAME["red"].rgb
#: Logical window sizes: 1366x768 at 150% scaling (911x512, less the taskbar), and 1280x720.
SIZES = {"1366x768@150": (911, 480), "1280x720": (1280, 690)}


@pytest.fixture
def visit_photo(store_factory: Any, tasks: Any, tmp_path: Path) -> tuple[AppContext, Any]:
    """A draft visit with one 1200x900 photo, and the context a dialog needs."""
    store = store_factory(cases=3)
    case = store.cases()[0]
    visit = store.start_visit(case.id, store.templates_for(case.id)[0].id)
    photo = store.add_photo(visit.id, write_jpeg(tmp_path / "wall.jpg"), caption="Bathroom wall")
    return AppContext(store=store, tasks=tasks), photo


def _open(qtbot: Any, ctx: AppContext, photo: Any, size: tuple[int, int] = (1280, 690)) -> AnnotateDialog:
    dialog = AnnotateDialog(ctx, photo, 1)
    qtbot.addWidget(dialog)
    dialog.resize(*size)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.canvas.ready, timeout=15000)
    QApplication.processEvents()
    return dialog


def _at(dialog: AnnotateDialog, x: float, y: float) -> QPoint:
    """Where the photo's pixel (x, y) is on the canvas's viewport."""
    return dialog.canvas.mapFromScene(QPointF(x, y))


def _drag(qtbot: Any, dialog: AnnotateDialog, points: list[tuple[float, float]]) -> None:
    viewport = dialog.canvas.viewport()
    qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, pos=_at(dialog, *points[0]))
    for point in points[1:]:
        qtbot.mouseMove(viewport, _at(dialog, *point))
    qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=_at(dialog, *points[-1]))


def _keys(qtbot: Any, widget: QWidget, *keys: Any) -> None:
    for key in keys:
        if isinstance(key, tuple):
            qtbot.keyClick(widget, key[0], key[1])
        else:
            qtbot.keyClick(widget, key)


def _type(qtbot: Any, box: QInputDialog, text: str) -> None:
    """Type into the text box, as the officer would, and press Enter."""
    edit = box.findChild(QLineEdit)
    qtbot.keyClicks(edit, text)
    qtbot.keyClick(edit, Qt.Key.Key_Return)


def _save(qtbot: Any, dialog: AnnotateDialog) -> Any:
    with qtbot.waitSignal(dialog.sig_saved, timeout=30000) as saved:
        qtbot.keyClick(dialog.canvas, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    return saved.args[0]


def _flat(points: tuple[tuple[float, float], ...]) -> list[float]:
    return [v for point in points for v in point]


def _near(pixel: tuple[int, ...], colour: tuple[int, int, int], tolerance: int = 45) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(pixel[:3], colour))


def test_mouse_draws_every_kind_and_save_adds_a_new_photo(qtbot: Any, visit_photo: Any, tasks: Any) -> None:
    """Arrow, circle, freehand and text drawn with the mouse land where drawn; Save adds one photo, original kept."""
    ctx, photo = visit_photo
    original = photo.path.read_bytes()
    dialog = _open(qtbot, ctx, photo)
    _drag(qtbot, dialog, [(100, 100), (300, 200), (600, 450)])                     # Arrow is the first tool
    qtbot.keyClick(dialog, Qt.Key.Key_C)
    _drag(qtbot, dialog, [(700, 100), (1000, 300)])
    qtbot.keyClick(dialog, Qt.Key.Key_F)
    _drag(qtbot, dialog, [(100, 700), (300, 750), (500, 700), (700, 780)])
    qtbot.keyClick(dialog, Qt.Key.Key_T)
    qtbot.mouseClick(dialog.canvas.viewport(), Qt.MouseButton.LeftButton, pos=_at(dialog, 800, 600))
    qtbot.waitUntil(lambda: dialog.text_dialog is not None and dialog.text_dialog.isVisible())
    _type(qtbot, dialog.text_dialog, "mould")

    marks = dialog.canvas.marks
    assert [m.kind for m in marks] == [MarkKind.ARROW, MarkKind.ELLIPSE, MarkKind.FREEHAND, MarkKind.TEXT]
    tolerance = max(photo.width / dialog.canvas.viewport().width(), 1) * 2   # a screen pixel or two, in photo pixels
    assert _flat(marks[0].points) == pytest.approx([100, 100, 600, 450], abs=tolerance)
    assert _flat(marks[1].points) == pytest.approx([700, 100, 1000, 300], abs=tolerance)
    assert len(marks[2].points) == 4 and marks[3].text == "mould"
    assert _flat(marks[3].points) == pytest.approx([800, 600], abs=tolerance)

    copy = _save(qtbot, dialog)
    assert not dialog.isVisible()
    photos = ctx.store.visit(photo.visit_id).photos
    assert [p.id for p in photos] == [photo.id, copy.id] and copy.source_photo_id == photo.id
    assert photo.path.read_bytes() == original
    with Image.open(copy.path) as stored:
        assert _near(stored.getpixel((350, 275)), RED)     # the middle of the arrow's shaft
        assert _near(stored.getpixel((850, 100)), RED)     # the top of the circle
    wait_idle(qtbot, tasks)


def test_keyboard_alone_draws_moves_undoes_deletes_and_saves(qtbot: Any, visit_photo: Any, tasks: Any) -> None:
    """With keys only: an arrow placed with the cross, chosen, nudged, undone, deleted, redrawn, and saved."""
    ctx, photo = visit_photo
    dialog = _open(qtbot, ctx, photo)
    canvas = dialog.canvas
    assert canvas.hasFocus() and canvas.cursor == (600, 450)
    step = round(max(photo.width, photo.height) * 0.01)      # 12 photo pixels a key press
    _keys(qtbot, canvas, Qt.Key.Key_Return, *[Qt.Key.Key_Right] * 10, (Qt.Key.Key_Down, Qt.KeyboardModifier.ShiftModifier),
          Qt.Key.Key_Return)
    assert [m.points for m in canvas.marks] == [((600, 450), (600 + 10 * step, 450 + 5 * step))]

    _keys(qtbot, dialog, Qt.Key.Key_2)                          # yellow, for the next mark
    assert canvas.marks[0].colour == "red" and canvas.colour == "yellow"
    _keys(qtbot, canvas, Qt.Key.Key_S, Qt.Key.Key_Escape, Qt.Key.Key_PageDown, Qt.Key.Key_3)
    assert canvas.selected == 0 and canvas.marks[0].colour == "blue"   # with Select, the chosen mark takes it
    _keys(qtbot, canvas, (Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier), Qt.Key.Key_Left, Qt.Key.Key_Left,
          Qt.Key.Key_Up)
    assert canvas.selected == 0 and canvas.marks[0].colour == "red"
    assert canvas.marks[0].points == ((600 - 2 * step, 450 - step), (600 + 8 * step, 450 + 4 * step))
    _keys(qtbot, canvas, (Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier))    # the three nudges are one step
    assert canvas.marks[0].points == ((600, 450), (600 + 10 * step, 450 + 5 * step))
    _keys(qtbot, canvas, Qt.Key.Key_Delete)
    assert canvas.marks == ()
    _keys(qtbot, canvas, (Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier))
    assert len(canvas.marks) == 1
    _keys(qtbot, canvas, (Qt.Key.Key_Y, Qt.KeyboardModifier.ControlModifier))
    assert canvas.marks == ()

    _keys(qtbot, canvas, Qt.Key.Key_C, Qt.Key.Key_Return, *[Qt.Key.Key_Left] * 8, *[Qt.Key.Key_Up] * 6, Qt.Key.Key_Return)
    assert canvas.marks[0].kind is MarkKind.ELLIPSE
    _keys(qtbot, canvas, Qt.Key.Key_F, Qt.Key.Key_Return, Qt.Key.Key_Down, Qt.Key.Key_Right, Qt.Key.Key_Down,
          Qt.Key.Key_Return)
    assert canvas.marks[1].kind is MarkKind.FREEHAND and len(canvas.marks[1].points) == 4
    _keys(qtbot, canvas, Qt.Key.Key_T, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: dialog.text_dialog is not None and dialog.text_dialog.isVisible())
    _type(qtbot, dialog.text_dialog, "crack 4 mm")
    assert canvas.marks[2].text == "crack 4 mm" and canvas.hasFocus()

    copy = _save(qtbot, dialog)
    assert len(ctx.store.visit(photo.visit_id).photos) == 2 and copy.caption == "Annotated copy of photo 1: Bathroom wall"
    wait_idle(qtbot, tasks)


def test_closing_with_marks_asks_and_keep_drawing_loses_nothing(qtbot: Any, visit_photo: Any, tasks: Any) -> None:
    """Esc with marks asks; Keep drawing keeps them; Discard closes without adding a photo."""
    ctx, photo = visit_photo
    dialog = _open(qtbot, ctx, photo)
    _drag(qtbot, dialog, [(100, 100), (500, 400)])
    _keys(qtbot, dialog.canvas, Qt.Key.Key_Escape)               # first Esc lets go of the chosen mark
    assert dialog.canvas.selected is None and dialog.discard_box is None
    _keys(qtbot, dialog.canvas, Qt.Key.Key_Escape)
    box = dialog.discard_box
    qtbot.waitUntil(lambda: box.isVisible())
    assert "1 mark" in box.text() and dialog.isVisible()
    qtbot.keyClick(box, Qt.Key.Key_Escape)                      # Keep drawing is the default and Esc
    qtbot.waitUntil(lambda: not box.isVisible())
    assert dialog.isVisible() and len(dialog.canvas.marks) == 1

    dialog.close()                                              # the window's close button asks too
    box = dialog.discard_box
    qtbot.waitUntil(lambda: box.isVisible())
    assert dialog.isVisible()
    qtbot.mouseClick(box.button(box.StandardButton.Discard), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dialog.isVisible())
    assert len(ctx.store.visit(photo.visit_id).photos) == 1
    wait_idle(qtbot, tasks)


def test_closing_with_nothing_drawn_does_not_ask(qtbot: Any, visit_photo: Any, tasks: Any) -> None:
    """Cancel before drawing closes at once, and Save is off until there is a mark."""
    ctx, photo = visit_photo
    dialog = _open(qtbot, ctx, photo)
    assert not dialog.save_button.isEnabled()
    qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)
    assert not dialog.isVisible() and dialog.discard_box is None
    wait_idle(qtbot, tasks)


def test_a_save_refused_keeps_the_marks_with_the_reason(qtbot: Any, visit_photo: Any, tasks: Any) -> None:
    """If the visit was submitted meanwhile, Save says why and the marks stay on screen."""
    ctx, photo = visit_photo
    dialog = _open(qtbot, ctx, photo)
    _drag(qtbot, dialog, [(100, 100), (500, 400)])
    ctx.store.update_visit(photo.visit_id, outcome="no_access", notes="Nobody home")
    ctx.store.submit_visit(photo.visit_id)
    qtbot.keyClick(dialog.canvas, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: "was not saved" in dialog.message.text(), timeout=30000)
    assert "waiting to sync" in dialog.message.text() and "marks are still here" in dialog.message.text()
    assert dialog.isVisible() and len(dialog.canvas.marks) == 1 and dialog.save_button.isEnabled()
    assert len(ctx.store.visit(photo.visit_id).photos) == 1
    wait_idle(qtbot, tasks)


def _inside(widget: QWidget, window: QWidget) -> bool:
    top_left = widget.mapTo(window, widget.rect().topLeft())
    return widget.isVisible() and QRect(0, 0, window.width(), window.height()).contains(QRect(top_left, widget.size()))


@pytest.mark.parametrize("size", list(SIZES))
def test_dialog_fits_small_screens(qtbot: Any, visit_photo: Any, tasks: Any, artifacts: Path, size: str) -> None:
    """At 1366x768@150% and 1280x720 every tool, colour, Undo, Save and Cancel is on screen; screenshot saved."""
    ctx, photo = visit_photo
    app = QApplication.instance()
    if not app.styleSheet():   # the app's own look: its padding is what makes a toolbar overflow
        apply_style(app)
    dialog = _open(qtbot, ctx, photo, SIZES[size])
    assert (dialog.width(), dialog.height()) == SIZES[size]
    _drag(qtbot, dialog, [(150, 150), (560, 420)])
    qtbot.keyClick(dialog, Qt.Key.Key_C)
    _drag(qtbot, dialog, [(600, 300), (900, 600)])
    qtbot.keyClick(dialog, Qt.Key.Key_2)
    qtbot.keyClick(dialog, Qt.Key.Key_F)
    _drag(qtbot, dialog, [(100, 800), (300, 760), (500, 820), (700, 780)])
    dialog.canvas.add_text((620, 640), "mould")
    for action in (*dialog.tool_actions.values(), *dialog.colour_actions.values()):
        assert _inside(dialog.toolbar.widgetForAction(action), dialog), action.text()
    for button in (*dialog.edit_buttons, dialog.save_button, dialog.cancel_button):
        assert _inside(button, dialog), button.text()
    assert dialog.canvas.height() >= 250   # room left to draw
    dialog.set_tool(Tool.SELECT)
    screenshot(dialog, artifacts / f"annotate_{size}.png")
    dialog.canvas.history.undo()   # nothing is saved: let the dialog close without asking
    dialog.canvas.history.undo()
    dialog.canvas.history.undo()
    dialog.canvas.history.undo()
    wait_idle(qtbot, tasks)


def test_the_editor_opens_annotation_only_while_the_visit_can_change(qtbot: Any, window: Any, tasks: Any,
                                                                     tmp_path: Path, artifacts: Path) -> None:
    """Annotate is on for a chosen photo of a draft (button and Ctrl+Shift+M), off once the visit is read-only."""
    window.resize(*SIZES["1366x768@150"])
    editor = open_new_visit(qtbot, window)
    panel = editor.photos
    import_one_photo(qtbot, panel, tmp_path)
    assert not panel.annotate_button.isEnabled()                # nothing chosen yet
    panel.view.setFocus()
    panel.view.setCurrentIndex(panel.model.index(0))
    assert panel.annotate_button.isEnabled()
    editor.scroll.ensureWidgetVisible(panel.annotate_button)
    button = panel.annotate_button
    assert button.width() >= button.sizeHint().width() and _inside(button, window)   # its whole label shows
    screenshot(window, artifacts / "annotate_editor_photos_1366x768@150.png")
    qtbot.keyClick(panel.view, Qt.Key.Key_M, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    dialog = panel.annotator
    assert dialog is not None and dialog.isVisible()
    qtbot.waitUntil(lambda: dialog.canvas.ready, timeout=15000)
    _drag(qtbot, dialog, [(100, 100), (500, 400)])
    # The editor's own keys (Esc: back to the cases) do not reach past the dialog: Esc asks about the marks.
    _keys(qtbot, dialog.canvas, Qt.Key.Key_Escape, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: dialog.discard_box is not None and dialog.discard_box.isVisible())
    assert window.pages.currentWidget() is editor
    qtbot.keyClick(dialog.discard_box, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not dialog.discard_box.isVisible())
    copy = _save(qtbot, dialog)
    qtbot.waitUntil(lambda: panel.model.rowCount() == 2, timeout=10000)
    assert panel.selected() is not None and panel.selected().id == copy.id   # the copy is chosen in the grid
    panel.set_read_only(True)
    assert not panel.annotate_button.isEnabled()
    panel.annotate()
    assert panel.annotator is dialog   # no new dialog on a read-only visit
    wait_idle(qtbot, tasks)


def test_the_text_box_takes_no_more_than_a_label(qtbot: Any, visit_photo: Any, tasks: Any) -> None:
    """The words of a text mark stop at the limit; an empty answer places nothing."""
    ctx, photo = visit_photo
    dialog = _open(qtbot, ctx, photo)
    dialog.set_tool(Tool.TEXT)
    _keys(qtbot, dialog.canvas, Qt.Key.Key_Return)
    box: QInputDialog = dialog.text_dialog
    qtbot.waitUntil(lambda: box.isVisible())
    edit = box.findChild(QLineEdit)
    qtbot.keyClicks(edit, "x" * 80)
    assert len(box.textValue()) == 60
    edit.clear()
    _type(qtbot, box, "   ")
    assert dialog.canvas.marks == ()
    wait_idle(qtbot, tasks)


def test_marks_come_back_after_a_crash_and_discard_forgets_them(qtbot: Any, visit_photo: Any, tasks: Any) -> None:
    """Marks are kept as drawn: a dialog lost without closing (a crash) gives them back; Discard clears them."""
    ctx, photo = visit_photo
    first = _open(qtbot, ctx, photo)
    _drag(qtbot, first, [(100, 100), (500, 400)])
    qtbot.keyClick(first, Qt.Key.Key_C)
    _drag(qtbot, first, [(600, 300), (900, 600)])
    drawn = first.canvas.marks
    qtbot.waitUntil(lambda: ctx.store.annotation_draft(photo.id) == drawn, timeout=10000)
    first.hide()   # gone without Cancel or Discard, as when the app or the laptop stops

    second = _open(qtbot, ctx, photo)
    qtbot.waitUntil(lambda: second.canvas.marks == drawn, timeout=10000)
    assert "2 marks you drew on this photo before are back" in second.message.text()
    qtbot.mouseClick(second.cancel_button, Qt.MouseButton.LeftButton)
    box = second.discard_box
    qtbot.waitUntil(lambda: box.isVisible())
    qtbot.mouseClick(box.button(box.StandardButton.Discard), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: ctx.store.annotation_draft(photo.id) == (), timeout=10000)
    wait_idle(qtbot, tasks)


def test_a_photo_shown_from_a_smaller_copy_is_marked_in_its_own_pixels(qtbot: Any, visit_photo: Any, tasks: Any,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """When the screen shows a half-size copy, a drag still records (and burns in) the photo's own pixels."""
    import fieldapp.photos_annotate as annotate

    monkeypatch.setattr(annotate, "SCREEN_EDGE", 600)
    ctx, photo = visit_photo
    dialog = _open(qtbot, ctx, photo)
    assert dialog.canvas.image_size == (1200, 900) and dialog.canvas.cursor == (600, 450)
    _drag(qtbot, dialog, [(100, 100), (600, 450)])
    tolerance = max(photo.width / dialog.canvas.viewport().width(), 1) * 2
    assert _flat(dialog.canvas.marks[0].points) == pytest.approx([100, 100, 600, 450], abs=tolerance)
    copy = _save(qtbot, dialog)
    with Image.open(copy.path) as stored:
        assert stored.size == (1200, 900) and _near(stored.getpixel((350, 275)), RED)
    wait_idle(qtbot, tasks)


def test_zooming_in_closes_on_the_cross_and_marks_keep_the_photo_pixels(qtbot: Any, visit_photo: Any,
                                                                        tasks: Any) -> None:
    """+ zooms around the cross (arrow steps get finer), a drag while zoomed records photo pixels, 0 shows it all."""
    ctx, photo = visit_photo
    dialog = _open(qtbot, ctx, photo)
    canvas = dialog.canvas
    whole = canvas.transform().m11()
    _keys(qtbot, canvas, Qt.Key.Key_Plus, Qt.Key.Key_Plus)
    assert canvas.zoom == pytest.approx(2.25) and canvas.transform().m11() == pytest.approx(whole * 2.25)
    assert dialog.zoom_out_action.isEnabled()
    _keys(qtbot, canvas, Qt.Key.Key_Right)
    assert canvas.cursor[0] == pytest.approx(600 + 12 / 2.25)
    _drag(qtbot, dialog, [(560, 430), (640, 480)])
    tolerance = max(photo.width / canvas.viewport().width(), 1) * 2 / 2.25
    assert _flat(canvas.marks[0].points) == pytest.approx([560, 430, 640, 480], abs=tolerance)
    _keys(qtbot, canvas, Qt.Key.Key_0)
    assert canvas.zoom == 1 and canvas.transform().m11() == pytest.approx(whole)
    assert not dialog.zoom_out_action.isEnabled()
    canvas.history.undo()
    wait_idle(qtbot, tasks)
