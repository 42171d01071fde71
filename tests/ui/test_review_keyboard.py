"""A lead reviews thirty visits by key presses alone, over a real store (queue, photos, approvals)."""

from __future__ import annotations

import sys
import uuid
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from factory import screenshot

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fieldapp"))
import factories as f  # noqa: E402
from store_helpers import filled_store  # noqa: E402

from ui.review import ReviewWidget  # noqa: E402

VISITS = 30


def _photo(n: int) -> dict[str, Any]:
    return {"id": str(uuid.uuid4()), "sha256": f"{n:064x}", "content_type": "image/jpeg", "bytes": 1000,
            "width": 800, "height": 600, "caption": f"Photo {n}"}


def _seed(tmp_path: Path) -> Any:
    """A lead's real store holding thirty submitted visits of the team's officer (some with photos)."""
    filled = filled_store(tmp_path, lead=True, cases=3)
    world = filled.world
    changes = [f.visit(world.case_ids[n % 3], world.officer_id, world.template_id,
                       photos=[_photo(n * 10 + k) for k in range(3 if n == 0 else n % 2)],
                       hazards=[{"hazard": "Fire", "band": "B", "location": "", "notes": ""}] if n % 7 == 0 else [])
               for n in range(VISITS)]
    filled.store.apply_changes(changes, 200)
    return filled.store


def _press(qtbot: Any, key: Qt.Key, modifier: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier) -> None:
    """One key press where the keyboard focus is, as the lead presses it."""
    qtbot.keyClick(QApplication.focusWidget(), key, modifier)


def test_thirty_visits_are_reviewed_by_keyboard_alone(qtbot: Any, tasks: Any, tmp_path: Path, artifacts: Path) -> None:
    """Alt+Down/Up moves between visits, Alt+Right/Left between photos, Enter Enter approves and the next visit opens."""
    store = _seed(tmp_path)
    page = ReviewWidget(store)
    qtbot.addWidget(page)
    page.resize(1280, 720)
    with qtbot.waitSignal(page.sig_queue_loaded, timeout=10000):
        page.show()
        page.refresh()
    page.activateWindow()
    expected = [i.visit_id for i in store.review_queue()]   # the store's order: nearest unmet clock, Category 1, oldest
    assert len(expected) == VISITS and [i.visit_id for i in page.queue.visible_items()] == expected
    page.queue.table.setFocus()
    with qtbot.waitSignal(page.sig_visit_shown, timeout=10000) as shown:
        _press(qtbot, Qt.Key.Key_Down, Qt.KeyboardModifier.AltModifier)
    assert shown.args == [expected[0]]
    with qtbot.waitSignal(page.sig_visit_shown, timeout=10000) as shown:
        _press(qtbot, Qt.Key.Key_Down, Qt.KeyboardModifier.AltModifier)
    assert shown.args == [expected[1]]
    with qtbot.waitSignal(page.sig_visit_shown, timeout=10000) as shown:
        _press(qtbot, Qt.Key.Key_Up, Qt.KeyboardModifier.AltModifier)
    assert shown.args == [expected[0]]

    photos = [p.id for p in page.visit_view.data.visit.photos]
    assert len(photos) == 3
    _press(qtbot, Qt.Key.Key_Right, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(lambda: page.photo_dialog is not None and page.photo_dialog.isVisible())
    seen = [page.photo_dialog.photo.id]
    for key in (Qt.Key.Key_Right, Qt.Key.Key_Right, Qt.Key.Key_Left):
        dialog = page.photo_dialog
        dialog.activateWindow()   # offscreen has no window manager to activate a new window
        qtbot.waitUntil(lambda dialog=dialog: QApplication.activeWindow() is dialog)
        _press(qtbot, key)
        qtbot.waitUntil(lambda dialog=dialog: page.photo_dialog is not dialog and page.photo_dialog.isVisible())
        seen.append(page.photo_dialog.photo.id)
    assert seen == [photos[0], photos[1], photos[2], photos[1]]
    for width, height, name in ((1280, 720, "1280x720"), (911, 512, "1366x768_at_150")):  # 150 %: logical pixels
        page.resize(width, height)
        screenshot(page, artifacts / f"ui_review_keyboard_{name}.png")
    page.photo_dialog.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is page.photo_dialog)
    _press(qtbot, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not page.photo_dialog.isVisible())
    page.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is page)
    page.visit_view.approve_button.setFocus()   # focus returns to the page's default button, as after a dialog

    decided = []
    for number in range(VISITS):
        current = page.visit_view.data.visit.id
        assert current == expected[number]
        qtbot.waitUntil(lambda: QApplication.activeWindow() is page)
        assert QApplication.focusWidget() is page.visit_view.approve_button   # Approve is the default
        _press(qtbot, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: page.decide_dialog is not None and page.decide_dialog.isVisible())
        with qtbot.waitSignal(page.sig_decided, timeout=10000):
            qtbot.keyClick(page.decide_dialog.focusWidget(), Qt.Key.Key_Return)
        decided.append(current)
        page.activateWindow()   # offscreen gives no window manager to hand activation back after a dialog
        if number < VISITS - 1:
            qtbot.waitUntil(lambda current=current: page.visit_view.data.visit.id != current
                            and page.stack.currentWidget() is page.visit_view
                            and QApplication.focusWidget() is page.visit_view.approve_button, timeout=10000)
    qtbot.waitUntil(lambda: page.stack.currentWidget() is page.queue, timeout=10000)
    assert decided == expected
    assert store.review_queue() == [] and store.pending().reviews == VISITS
