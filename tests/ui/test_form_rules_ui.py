"""show_if questions and repeat (room by room) sections in the visit editor, over a real store."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QComboBox, QInputDialog, QMessageBox

from factory import import_one_photo, screenshot, wait_idle

TEMPLATE_ID = "7d1c1f0e-0000-4000-8000-0000000000d2"
TEMPLATE = {
    "name": "Damp survey room by room", "version": 1, "case_types": ["damp_mould", "repair", "void"],
    "sections": [
        {"id": "home", "title": "The home", "questions": [
            {"id": "mould", "label": "Is mould visible?", "kind": "yes_no", "required": True},
            {"id": "where", "label": "Where is the mould?", "kind": "text", "required": True,
             "show_if": {"question_id": "mould", "equals": True}},
            {"id": "causes", "label": "Causes", "kind": "multi_choice", "options": ["Leak", "Condensation"]},
            {"id": "leak_fixed", "label": "Leak fixed?", "kind": "yes_no",
             "show_if": {"question_id": "causes", "equals": "Leak"}},
        ]},
        {"id": "rooms", "title": "Readings room by room", "repeat": True, "questions": [
            {"id": "room", "label": "Room", "kind": "choice", "options": ["Kitchen", "Bathroom", "Bedroom"],
             "required": True},
            {"id": "rh", "label": "Relative humidity (%)", "kind": "number", "min": 0, "max": 100},
            {"id": "fan", "label": "Extractor fan working?", "kind": "yes_no",
             "show_if": {"question_id": "room", "equals": "Bathroom"}},
        ]},
    ],
}


def _open(qtbot: Any, window: Any, template: dict[str, Any] = TEMPLATE, template_id: str = TEMPLATE_ID) -> Any:
    """A new visit of a damp case on ``template`` (pulled into the store first), open in the editor."""
    store = window.ctx.store
    store.apply_changes([{"entity": "template", "id": template_id, "version": 1, "seq": 800_000,
                          "deleted": False, "data": template}], store.sync_state().cursor)
    case_id = next(r.id for r in window.case_list.model.rows() if not r.has_warnings and r.case_type == "damp_mould")
    visit = store.start_visit(case_id, template_id)
    with qtbot.waitSignal(window.editor.sig_loaded, timeout=10000):
        window.open_visit(visit.id)
    return window.editor


def test_show_if_hides_without_losing_what_was_typed(qtbot: Any, window: Any) -> None:
    """'Where' shows only while mould is yes; answering no hides it, keeps the text in the draft, and yes brings it back."""
    editor = _open(qtbot, window)
    where, leak = editor.rows["where"], editor.rows["leak_fixed"]
    assert not where.isVisible() and not leak.isVisible()
    editor.rows["mould"].editor.group.buttons()[0].click()           # yes
    assert where.isVisible()
    where.editor.edit.setPlainText("Behind the wardrobe")
    where.editor.edit.setFocus()
    editor.rows["mould"].editor.group.buttons()[1].click()           # no: hidden, not cleared
    assert not where.isVisible()
    editor.flush()
    wait_idle(qtbot, window.ctx.tasks)
    assert window.ctx.store.visit(editor.visit.id).answers["where"] == "Behind the wardrobe"
    editor.rows["mould"].editor.group.buttons()[0].click()
    assert where.isVisible() and where.editor.edit.toPlainText() == "Behind the wardrobe"
    editor.rows["causes"].editor.boxes[0].setChecked(True)           # multi_choice contains "Leak"
    assert leak.isVisible()


def test_repeat_sections_add_and_remove_rooms_with_a_confirmation(qtbot: Any, window: Any, artifacts: Path) -> None:
    """Rooms are added, answered as lists, shown per room (fan only for the bathroom), and removed only on Yes."""
    editor = _open(qtbot, window)
    rooms = editor.repeats["rooms"]
    assert rooms.repetitions == [] and rooms.empty.isVisible()
    rooms.add_button.click()
    rooms.add_button.click()
    first, second = rooms.repetitions
    first.rows["room"].editor.combo.setCurrentIndex(2)                # Bathroom
    second.rows["room"].editor.combo.setCurrentIndex(1)               # Kitchen
    second.rows["rh"].editor.edit.setText("71")
    second.rows["rh"].editor.edit.editingFinished.emit()
    assert first.rows["fan"].isVisible() and not second.rows["fan"].isVisible()
    assert [r.title.text() for r in rooms.repetitions] == ["Repetition 1 · Bathroom", "Repetition 2 · Kitchen"]
    editor.flush()
    wait_idle(qtbot, window.ctx.tasks)
    stored = window.ctx.store.visit(editor.visit.id).answers
    assert stored["room"] == ["Bathroom", "Kitchen"] and stored["rh"] == [None, 71]
    screenshot(editor, artifacts / "ui_editor_repeat_rooms.png")

    first.remove_button.click()
    assert rooms.confirm_box.windowTitle() == "Remove repetition 1 (Bathroom)?"
    rooms.confirm_box.button(QMessageBox.StandardButton.Cancel).click()
    assert len(rooms.repetitions) == 2
    first.remove_button.click()
    rooms.confirm_box.button(QMessageBox.StandardButton.Yes).click()
    assert [r.number for r in rooms.repetitions] == [1] and rooms.repetitions[0] is second
    assert second.title.text() == "Repetition 1 · Kitchen"                # renumbered, still named by its room
    editor.flush()
    wait_idle(qtbot, window.ctx.tasks)
    stored = window.ctx.store.visit(editor.visit.id).answers
    assert stored["room"] == ["Kitchen"] and stored["rh"] == [71]

    editor.open_visit(editor.visit.id)                                # reopened: the room is still there
    qtbot.waitUntil(lambda: len(editor.repeats["rooms"].repetitions) == 1, timeout=10000)
    assert editor.repeats["rooms"].repetitions[0].rows["rh"].editor.value() == 71



def _attach_choices(qtbot: Any, panel: Any) -> list[str]:
    """The questions the Attach to question dialog offers for the chosen photo (then cancelled)."""
    panel.attach_to_question()
    qtbot.waitUntil(lambda: any(d.isVisible() for d in panel.findChildren(QInputDialog)), timeout=5000)
    dialog = next(d for d in panel.findChildren(QInputDialog) if d.isVisible())
    combo = dialog.findChild(QComboBox)
    choices = [combo.itemText(i) for i in range(combo.count())]
    dialog.reject()
    return choices


def test_attach_to_question_offers_only_the_questions_shown(qtbot: Any, window: Any, tmp_path: Path) -> None:
    """A photo is attached only to a question on screen: 'Where' joins the choices once mould is yes, rooms once added."""
    editor = _open(qtbot, window)
    import_one_photo(qtbot, editor.photos, tmp_path)
    editor.photos.view.setCurrentIndex(editor.photos.model.index(0))
    assert _attach_choices(qtbot, editor.photos) == ["Is mould visible?", "Causes"]
    editor.rows["mould"].editor.group.buttons()[0].click()           # yes: 'Where' is shown
    editor.repeats["rooms"].add_button.click()                       # a room: its room and humidity, not the fan
    assert _attach_choices(qtbot, editor.photos) == [
        "Is mould visible?", "Where is the mould?", "Causes", "Room", "Relative humidity (%)"]
    editor.repeats["rooms"].repetitions[0].rows["room"].editor.combo.setCurrentIndex(2)   # Bathroom: the fan too
    assert "Extractor fan working?" in _attach_choices(qtbot, editor.photos)


def test_attach_to_question_lists_the_questions_in_the_forms_order(qtbot: Any, window: Any, tmp_path: Path) -> None:
    """A repeat section before a plain one: its questions are offered where the form has them, not after all the rest."""
    rooms_first = {**TEMPLATE, "name": "Rooms first", "sections": [TEMPLATE["sections"][1], TEMPLATE["sections"][0]]}
    editor = _open(qtbot, window, rooms_first, "7d1c1f0e-0000-4000-8000-0000000000d3")
    import_one_photo(qtbot, editor.photos, tmp_path)
    editor.photos.view.setCurrentIndex(editor.photos.model.index(0))
    editor.repeats["rooms"].add_button.click()
    assert _attach_choices(qtbot, editor.photos) == ["Room", "Relative humidity (%)", "Is mould visible?", "Causes"]


def test_going_to_a_repeated_question_finds_the_repetition_that_lacks_it(qtbot: Any, window: Any) -> None:
    """Three rooms, the second without its room: going to "Room" puts the cursor on that one, in view on a small screen."""
    from fit import SIZES, in_view

    window.resize(*SIZES["1366x768@150"])
    editor = _open(qtbot, window)
    rooms = editor.repeats["rooms"]
    for _ in range(3):
        rooms.add_button.click()
    for repetition in (rooms.repetitions[0], rooms.repetitions[2]):
        repetition.rows["room"].editor.combo.setCurrentIndex(1)
    editor.notes.setFocus()
    editor.scroll.verticalScrollBar().setValue(0)
    editor.jump_to("room")
    combo = rooms.repetitions[1].rows["room"].editor.focus_widget()
    qtbot.waitUntil(combo.hasFocus, timeout=5000)
    assert in_view(combo, window)


def test_add_another_shows_the_field_it_puts_the_cursor_in(qtbot: Any, window: Any, artifacts: Path) -> None:
    """On a small screen each new room scrolls into view, whole, with its first field, where the cursor now is."""
    from fit import SIZES, in_view

    window.resize(*SIZES["1366x768@150"])
    editor = _open(qtbot, window)
    rooms = editor.repeats["rooms"]
    for number in range(3):
        # Scrolled as far as shows the button, at the foot of the view: the new room opens below it.
        button = rooms.add_button
        foot = button.mapTo(editor.scroll.widget(), QPoint(0, button.height())).y()
        editor.scroll.verticalScrollBar().setValue(foot - editor.scroll.viewport().height())
        assert in_view(button, window)
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
        field = rooms.repetitions[number].rows["room"].editor.focus_widget()
        qtbot.waitUntil(field.hasFocus, timeout=5000)
        assert in_view(field, window), f"room {number + 1}'s first field is out of sight"
        # Shown as a jump shows a box (the editor's _bring_into_view): from its title, whole where it fits.
        assert in_view(rooms.repetitions[number], window), f"room {number + 1} is not in view whole"
    screenshot(window, artifacts / "ui_editor_room_added_1366x768_at_150.png")


HOUSEHOLD_ID = "7d1c1f0e-0000-4000-8000-0000000000d4"
HOUSEHOLD = {
    "name": "Tenancy audit, household", "version": 1, "case_types": ["damp_mould", "repair", "void"],
    "sections": [
        {"id": "household", "title": "Household members", "repeat": True, "questions": [
            {"id": "member_name", "label": "Full name", "kind": "text", "required": True},
            {"id": "member_notes", "label": "Anything to note about them", "kind": "text"},
        ]},
    ],
}


def test_a_household_members_full_name_is_one_line(qtbot: Any, window: Any, artifacts: Path) -> None:
    """The text naming a repetition ("Full name") is a one-line field, saved as typed; a later text keeps its box."""
    from fit import SIZES
    from PySide6.QtWidgets import QLineEdit

    window.resize(*SIZES["1366x768@150"])
    editor = _open(qtbot, window, HOUSEHOLD, HOUSEHOLD_ID)
    members = editor.repeats["household"]
    members.add_button.click()
    member = members.repetitions[0]
    name, notes = member.rows["member_name"].editor, member.rows["member_notes"].editor
    assert isinstance(name.focus_widget(), QLineEdit)
    assert name.height() <= QLineEdit().sizeHint().height() + 2, f"Full name is {name.height()} px high"
    assert notes.height() > 2 * notes.fontMetrics().lineSpacing()     # a paragraph still has its box
    qtbot.keyClicks(name.focus_widget(), "Grace O'Neill-Featherstonehaugh")
    assert member.title.text() == "Repetition 1 · Grace O'Neill-Featherstonehaugh"
    editor.flush()
    wait_idle(qtbot, window.ctx.tasks)
    assert window.ctx.store.visit(editor.visit.id).answers["member_name"] == ["Grace O'Neill-Featherstonehaugh"]
    screenshot(window, artifacts / "ui_editor_household_member_1366x768_at_150.png")


def test_a_name_stored_over_several_lines_keeps_them(qtbot: Any, window: Any) -> None:
    """A name typed over two lines before (a paragraph box) is shown in one again: a one-line field would flatten it."""
    store = window.ctx.store
    editor = _open(qtbot, window, HOUSEHOLD, HOUSEHOLD_ID)
    visit_id = editor.visit.id
    store.update_visit(visit_id, answers={"member_name": ["Amira\nKhan"], "member_notes": [None]})
    with qtbot.waitSignal(editor.sig_loaded, timeout=10000):
        editor.open_visit(visit_id)
    name = editor.repeats["household"].repetitions[0].rows["member_name"].editor
    assert name.value() == "Amira\nKhan"
