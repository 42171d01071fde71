"""Photos in the visit editor: drag and drop, a bad file named, thumbnails, caption, enlarge, remove."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication

from factory import import_one_photo, open_new_visit, screenshot, wait_idle, write_jpeg
from ui.photos import PhotoViewerDialog


def _open_editor(qtbot: Any, window: Any) -> Any:
    return open_new_visit(qtbot, window)


def _drop(widget: Any, paths: list[Path]) -> QDropEvent:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    with warnings.catch_warnings():
        # Qt marks the QPoint constructor deprecated but offers no QPointF one for drag-enter events.
        warnings.simplefilter("ignore", DeprecationWarning)
        enter = QDragEnterEvent(QPoint(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                                Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, enter)
    assert enter.isAccepted()
    drop = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                      Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, drop)
    return drop


def test_drop_imports_good_photos_and_names_the_bad_one(qtbot: Any, window: Any, tmp_path: Path,
                                                        artifacts: Path) -> None:
    """Dropping three files imports the two photos off the GUI thread and refuses the fake one by name."""
    editor = _open_editor(qtbot, window)
    good = [write_jpeg(tmp_path / f"kitchen{n}.jpg", hue=n * 40) for n in range(2)]
    bad = tmp_path / "notes.jpg"
    bad.write_text("this is not a photo")
    panel = editor.photos
    with qtbot.waitSignal(panel.sig_import_finished, timeout=20000) as blocker:
        drop = _drop(editor, [*good, bad])
        assert drop.isAccepted()
    result = blocker.args[0]
    assert len(result.added) == 2
    assert [r.name for r in result.refused] == ["notes.jpg"]
    assert panel.message.isVisible() and "notes.jpg" in panel.message.text()
    qtbot.waitUntil(lambda: panel.model.rowCount() == 2, timeout=10000)
    qtbot.waitUntil(lambda: not panel.model.missing_thumbnails(), timeout=10000)
    editor.scroll.ensureWidgetVisible(panel)
    screenshot(editor, artifacts / "ui_photos.png")
    stored = window.ctx.store.visit(editor.visit.id)
    assert len(stored.photos) == 2


def test_photo_caption_enlarge_and_remove(qtbot: Any, window: Any, tmp_path: Path) -> None:
    """A photo gets a caption, opens full size, attaches to the photo question, and can be removed."""
    editor = _open_editor(qtbot, window)
    panel = editor.photos
    import_one_photo(qtbot, panel, tmp_path)
    panel.view.setCurrentIndex(panel.model.index(0))
    store, visit_id = window.ctx.store, editor.visit.id

    photo_id = panel.selected().id
    with qtbot.waitSignal(panel.sig_photos_changed, timeout=10000):
        panel._run_then_reload(lambda: store.update_photo(photo_id, caption="Mould on north wall"))
    assert panel.model.photos()[0].caption == "Mould on north wall"

    evidence = editor.rows["evidence"].editor
    qtbot.waitUntil(lambda: evidence.list.count() == 1 and bool(evidence.list.item(0).data(Qt.ItemDataRole.UserRole)))
    with qtbot.waitSignal(editor.sig_saved, timeout=10000):
        evidence.list.item(0).setCheckState(Qt.CheckState.Checked)
    assert store.visit(visit_id).answers["evidence"] == [photo_id]

    panel.view.setCurrentIndex(panel.model.index(0))
    panel.enlarge()
    viewer = panel.viewer
    assert isinstance(viewer, PhotoViewerDialog)
    qtbot.waitUntil(lambda: viewer.image_label.pixmap() is not None and not viewer.image_label.pixmap().isNull())
    viewer.close()

    with qtbot.waitSignal(panel.sig_photos_changed, timeout=10000):
        panel.remove_selected()
    assert panel.model.rowCount() == 0
    wait_idle(qtbot, window.ctx.tasks)


def test_each_photo_of_the_grid_shows_whole_with_its_caption(qtbot: Any, window: Any, tmp_path: Path) -> None:
    """A portrait photo beside landscape ones, and a caption of two lines: each cell holds its picture and text.

    The grid once gave every cell the first photo's size, so a portrait photo lost its caption under
    its picture, and a longer caption was cut to "Mould on …".
    """
    from PySide6.QtWidgets import QStyleOptionViewItem

    editor = _open_editor(qtbot, window)
    panel = editor.photos
    files = [write_jpeg(tmp_path / "wide.jpg", 1200, 900, hue=1), write_jpeg(tmp_path / "tall.jpg", 900, 1200, hue=2)]
    with qtbot.waitSignal(panel.sig_import_finished, timeout=20000):
        panel.import_files(files)
    qtbot.waitUntil(lambda: panel.model.rowCount() == 2, timeout=10000)
    store = window.ctx.store
    first = panel.model.photos()[0].id
    with qtbot.waitSignal(panel.sig_photos_changed, timeout=10000):
        panel._run_then_reload(lambda: store.update_photo(first, caption="Mould on bedroom ceiling"))
    qtbot.waitUntil(lambda: not panel.model.missing_thumbnails(), timeout=10000)
    wait_idle(qtbot, window.ctx.tasks)
    QApplication.processEvents()
    view = panel.view
    for row in range(panel.model.rowCount()):
        index = panel.model.index(row)
        option = QStyleOptionViewItem()
        view.initViewItemOption(option)
        option.rect = view.visualRect(index)
        view.itemDelegate().initStyleOption(option, index)
        needed = view.itemDelegate().sizeHint(option, index)
        shown = view.visualRect(index)
        assert shown.height() >= needed.height() and shown.width() >= needed.width(), (
            f"photo {row + 1} ({option.text!r}) is shown {shown.width()}x{shown.height()}, "
            f"needs {needed.width()}x{needed.height()}")
