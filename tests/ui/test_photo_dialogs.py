"""The photo panel's dialogs driven as the officer does: caption, attach to a question, and Add photos' file dialog.

Each test clicks and types in the real dialog over a real store, then reads the store.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialogButtonBox,
    QFileDialog,
    QFileSystemModel,
    QInputDialog,
    QLineEdit,
    QWidget,
)

from factory import import_one_photo, open_new_visit, wait_idle, write_jpeg
from ui.photos import distinct_labels


@pytest.fixture
def panel(qtbot: Any, window: Any, tmp_path: Path) -> Any:
    """The photo panel of a new visit holding one imported photo, chosen in the grid."""
    editor = open_new_visit(qtbot, window)
    panel = editor.photos
    import_one_photo(qtbot, panel, tmp_path)
    panel.view.setCurrentIndex(panel.model.index(0))
    return panel


def _shown(qtbot: Any, parent: QWidget, kind: type[QWidget]) -> Any:
    """The dialog of this kind the panel has just opened."""
    qtbot.waitUntil(lambda: any(d.isVisible() for d in parent.findChildren(kind)), timeout=5000)
    return next(d for d in parent.findChildren(kind) if d.isVisible())


def _click(qtbot: Any, dialog: QWidget, button: QDialogButtonBox.StandardButton) -> None:
    box = dialog.findChild(QDialogButtonBox)
    qtbot.mouseClick(box.button(button), Qt.MouseButton.LeftButton)


def _stored_photo(window: Any, panel: Any) -> Any:
    (photo,) = window.ctx.store.visit(panel.visit_id).photos
    return photo


def test_caption_typed_and_ok_is_stored(qtbot: Any, window: Any, panel: Any) -> None:
    """Typing a caption in the Caption dialog and pressing OK stores it (trimmed) on the photo."""
    qtbot.mouseClick(panel.caption_button, Qt.MouseButton.LeftButton)
    dialog = _shown(qtbot, panel, QInputDialog)
    qtbot.keyClicks(dialog.findChild(QLineEdit), "Mould on north wall ")
    with qtbot.waitSignal(panel.sig_photos_changed, timeout=10000):
        _click(qtbot, dialog, QDialogButtonBox.StandardButton.Ok)
    assert _stored_photo(window, panel).caption == "Mould on north wall"
    assert panel.model.photos()[0].caption == "Mould on north wall"


def test_caption_cancel_leaves_the_stored_caption(qtbot: Any, window: Any, panel: Any) -> None:
    """Typing in the Caption dialog and pressing Cancel leaves the stored caption as it was."""
    window.ctx.store.update_photo(panel.selected().id, caption="Before")
    with qtbot.waitSignal(panel.sig_photos_changed, timeout=10000):
        panel.reload()
    panel.view.setCurrentIndex(panel.model.index(0))
    qtbot.mouseClick(panel.caption_button, Qt.MouseButton.LeftButton)
    dialog = _shown(qtbot, panel, QInputDialog)
    line = dialog.findChild(QLineEdit)
    assert line.text() == "Before"
    qtbot.keyClicks(line, " and after")
    _click(qtbot, dialog, QDialogButtonBox.StandardButton.Cancel)
    wait_idle(qtbot, window.ctx.tasks)
    assert not dialog.isVisible()
    assert _stored_photo(window, panel).caption == "Before"


def test_attach_to_the_question_chosen(qtbot: Any, window: Any, panel: Any) -> None:
    """Choosing a question in Attach to question and pressing OK attaches the photo to that question."""
    assert _stored_photo(window, panel).question_id is None
    qtbot.mouseClick(panel.attach_button, Qt.MouseButton.LeftButton)
    dialog = _shown(qtbot, panel, QInputDialog)
    combo = dialog.findChild(QComboBox)
    combo.setFocus()
    qtbot.keyClicks(combo, "Severity")   # a drop-down list jumps to what is typed
    assert combo.currentText() == "Severity"
    with qtbot.waitSignal(panel.sig_photos_changed, timeout=10000):
        _click(qtbot, dialog, QDialogButtonBox.StandardButton.Ok)
    assert _stored_photo(window, panel).question_id == "severity"


def test_attach_tells_questions_of_one_label_apart(qtbot: Any, window: Any, panel: Any) -> None:
    """Two questions labelled alike are two choices; the second one chosen gets the photo, not the first."""
    panel.set_photos(panel.visit_id, panel.model.photos(), {"mould_seen": "Notes", "cause": "Notes"})
    panel.view.setCurrentIndex(panel.model.index(0))
    qtbot.mouseClick(panel.attach_button, Qt.MouseButton.LeftButton)
    dialog = _shown(qtbot, panel, QInputDialog)
    combo = dialog.findChild(QComboBox)
    assert [combo.itemText(i) for i in range(combo.count())] == ["Notes", "Notes (2)"]
    combo.setFocus()
    qtbot.keyClick(combo, Qt.Key.Key_Down)
    assert combo.currentText() == "Notes (2)"
    with qtbot.waitSignal(panel.sig_photos_changed, timeout=10000):
        _click(qtbot, dialog, QDialogButtonBox.StandardButton.Ok)
    assert _stored_photo(window, panel).question_id == "cause"


def test_attach_cancelled_attaches_nothing(qtbot: Any, window: Any, panel: Any) -> None:
    """Choosing a question and pressing Cancel leaves the photo unattached."""
    qtbot.mouseClick(panel.attach_button, Qt.MouseButton.LeftButton)
    dialog = _shown(qtbot, panel, QInputDialog)
    combo = dialog.findChild(QComboBox)
    combo.setFocus()
    qtbot.keyClicks(combo, "Likely cause")
    assert combo.currentText() == "Likely cause"
    _click(qtbot, dialog, QDialogButtonBox.StandardButton.Cancel)
    wait_idle(qtbot, window.ctx.tasks)
    assert _stored_photo(window, panel).question_id is None


def _file_dialog(qtbot: Any, panel: Any) -> Any:
    """Add photos… clicked: Qt's own file dialog (offscreen has no native one)."""
    qtbot.mouseClick(panel.add_button, Qt.MouseButton.LeftButton)
    dialog = _shown(qtbot, panel, QFileDialog)
    assert dialog.fileMode() == QFileDialog.FileMode.ExistingFiles
    return dialog


def _name_files(qtbot: Any, dialog: Any, files: list[Path]) -> None:
    """In the files' folder, type their names into the dialog's File name box, quoted as Qt lists them."""
    folder, listing = files[0].parent, dialog.findChild(QFileSystemModel)
    # Set, not typed: the box completes and navigates a typed path as it goes, which this test is not about.
    # Typing waits for the folder's listing, which resets the box when it arrives.
    with qtbot.waitSignal(listing.directoryLoaded, timeout=5000, check_params_cb=lambda loaded: Path(loaded) == folder):
        dialog.setDirectory(str(folder))
    edit = dialog.findChild(QLineEdit, "fileNameEdit")
    qtbot.keyClicks(edit, " ".join(f'"{f.name}"' for f in files))
    qtbot.waitUntil(lambda: dialog.selectedFiles() == [str(f) for f in files], timeout=5000)


def test_add_photos_imports_the_files_chosen(qtbot: Any, window: Any, tmp_path: Path) -> None:
    """Two JPEGs named in Add photos' file dialog and Open pressed are imported into the visit."""
    editor = open_new_visit(qtbot, window)
    panel = editor.photos
    files = [write_jpeg(tmp_path / f"room{n}.jpg", hue=n * 60) for n in range(2)]
    dialog = _file_dialog(qtbot, panel)
    _name_files(qtbot, dialog, files)
    with qtbot.waitSignal(panel.sig_import_finished, timeout=20000) as finished:
        _click(qtbot, dialog, QDialogButtonBox.StandardButton.Open)
    assert len(finished.args[0].added) == 2
    assert len(window.ctx.store.visit(editor.visit.id).photos) == 2
    qtbot.waitUntil(lambda: panel.model.rowCount() == 2, timeout=10000)


def test_add_photos_cancelled_imports_nothing(qtbot: Any, window: Any, tmp_path: Path) -> None:
    """Files named in Add photos' file dialog and Cancel pressed: nothing is imported."""
    editor = open_new_visit(qtbot, window)
    panel = editor.photos
    chosen = write_jpeg(tmp_path / "room.jpg")
    dialog = _file_dialog(qtbot, panel)
    _name_files(qtbot, dialog, [chosen])
    _click(qtbot, dialog, QDialogButtonBox.StandardButton.Cancel)
    wait_idle(qtbot, window.ctx.tasks)
    assert not panel.running_imports
    assert window.ctx.store.visit(editor.visit.id).photos == ()


def test_questions_sharing_a_label_are_told_apart() -> None:
    """Two questions with one label are offered as two choices, so a photo attaches to the one chosen."""
    assert distinct_labels(["Notes", "Severity", "Notes"]) == ["Notes", "Severity", "Notes (2)"]
    assert distinct_labels(["Notes", "Notes", "Notes (2)"]) == ["Notes", "Notes (3)", "Notes (2)"]


def test_the_photo_stays_chosen_after_its_caption_so_it_can_be_attached_next(qtbot: Any, window: Any,
                                                                           panel: Any) -> None:
    """Caption, then Attach to question, on the same photo: the grid keeps it chosen, its buttons stay enabled."""
    chosen = panel.selected().id
    qtbot.mouseClick(panel.caption_button, Qt.MouseButton.LeftButton)
    dialog = _shown(qtbot, panel, QInputDialog)
    qtbot.keyClicks(dialog.findChild(QLineEdit), "Bathroom ceiling")
    with qtbot.waitSignal(panel.sig_photos_changed, timeout=10000):
        _click(qtbot, dialog, QDialogButtonBox.StandardButton.Ok)
    assert panel.selected() is not None and panel.selected().id == chosen
    assert panel.attach_button.isEnabled() and panel.caption_button.isEnabled()
