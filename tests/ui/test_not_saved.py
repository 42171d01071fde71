"""A save that fails in the editor: "Not saved yet" while the edit waits, gone once it is saved, the text in the store."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import Qt

from factory import open_new_visit, wait_idle


@pytest.fixture
def failing_once(monkeypatch: pytest.MonkeyPatch, window: Any) -> list[str]:
    """The real store, whose next `update_visit` fails as a full disk would; the ids of the visits it refused."""
    store = window.ctx.store
    real, refused = store.update_visit, []

    def update_visit(visit_id: str, **changes: Any) -> Any:
        if not refused:
            refused.append(visit_id)
            raise OSError(28, "No space left on device")
        return real(visit_id, **changes)

    monkeypatch.setattr(store, "update_visit", update_visit)
    return refused


def test_not_saved_yet_until_the_typing_is_saved(qtbot: Any, window: Any, failing_once: list[str]) -> None:
    """A refused save shows "Not saved yet" and keeps the edit pending; the next save stores it and the words go."""
    editor = open_new_visit(qtbot, window)
    store, visit_id = window.ctx.store, editor.visit.id
    cause = editor.rows["cause"].editor.edit
    qtbot.mouseClick(cause.viewport(), Qt.MouseButton.LeftButton)
    qtbot.keyClicks(cause, "Leak under the sink")
    qtbot.waitUntil(lambda: editor.message.isVisible(), timeout=10000)

    assert failing_once == [visit_id]
    assert editor.message.text().startswith("Not saved yet: ")
    assert editor.save_label.text() == "Not saved"
    assert editor.dirty   # the edit waits for the next save
    assert "cause" not in store.visit(visit_id).answers

    with qtbot.waitSignal(editor.sig_saved, timeout=10000):
        qtbot.keyClicks(cause, " in the kitchen")
    wait_idle(qtbot, window.ctx.tasks)
    assert store.visit(visit_id).answers["cause"] == "Leak under the sink in the kitchen"
    assert not editor.dirty
    assert editor.save_label.text() == "All changes saved"
    assert not editor.message.isVisible()
    assert "Not saved" not in editor.message.text()
