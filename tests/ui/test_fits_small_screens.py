"""The main screens fit small laptop screens: their key buttons lie inside the visible window."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QRect
from PySide6.QtWidgets import QWidget

from factory import screenshot, wait_idle

#: Logical window sizes: 1366x768 at 150% scaling (a 911x512 logical screen, less the taskbar), and 1280x720.
SIZES = {"1366x768@150": (911, 480), "1280x720": (1280, 690)}


def _inside(button: QWidget, window: QWidget) -> bool:
    """Whether the button is shown wholly inside the window's visible area (no scrolling needed)."""
    top_left = button.mapTo(window, button.rect().topLeft())
    return button.isVisible() and QRect(0, 0, window.width(), window.height()).contains(
        QRect(top_left, button.size()))


@pytest.mark.parametrize("size", list(SIZES))
def test_case_detail_and_editor_buttons_fit(qtbot: Any, window: Any, tasks: Any, artifacts: Path, size: str) -> None:
    """At each small size the case's Start visit and the editor's Submit are on screen without scrolling."""
    window.resize(*SIZES[size])
    assert (window.width(), window.height()) == SIZES[size]   # no minimum size pushes it past the screen
    case_id = next(r.id for r in window.case_list.model.rows() if not r.has_warnings)
    window.case_list.select_case(case_id)
    qtbot.waitUntil(lambda: window.case_detail.case is not None and window.case_detail.case.id == case_id)
    qtbot.waitUntil(lambda: _inside(window.case_detail.start_button, window), timeout=5000)
    search = window.case_list.search
    assert search.width() >= search.fontMetrics().averageCharWidth() * 30   # room to read what is typed
    screenshot(window, artifacts / f"fit_case_detail_{size}.png")
    with qtbot.waitSignal(window.editor.sig_loaded, timeout=10000):
        window.case_detail.start_visit()
    qtbot.waitUntil(lambda: _inside(window.editor.submit_button, window), timeout=5000)
    screenshot(window, artifacts / f"fit_editor_{size}.png")
    wait_idle(qtbot, tasks)



def test_the_leads_photo_viewer_fits_its_screen_with_close_visible(qtbot: Any, artifacts: Path) -> None:
    """The photo viewer opens no larger than its screen, so its Close button is always on screen."""
    from fieldapp.types import Photo
    from ui.review.photo_dialog import PhotoDialog

    photo = Photo(id="p1", visit_id="v1", sha256="0" * 64, content_type="image/jpeg", bytes=1, width=4000,
                  height=3000, caption="Mould by the window", question_id=None, taken_at=None, path=None,
                  thumbnail_path=None, uploaded=True)
    dialog = PhotoDialog(photo)
    qtbot.addWidget(dialog)
    dialog.show()
    available = dialog.screen().availableGeometry()
    assert dialog.width() <= available.width() and dialog.height() <= available.height()
    qtbot.waitUntil(lambda: _inside(dialog.close_button, dialog), timeout=5000)
    screenshot(dialog, artifacts / "fit_photo_viewer.png")
