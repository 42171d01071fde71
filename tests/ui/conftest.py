"""UI test setup: Qt offscreen (set before any Qt import), a task manager per test, real stores in tmp dirs."""

from __future__ import annotations

import os

os.environ["QT_QPA_PLATFORM"] = "offscreen"

from collections.abc import Iterator  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import pytest  # noqa: E402

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"


@pytest.fixture
def tasks(qapp: Any) -> Iterator[Any]:
    """The app's task manager (DB executor + network pool), shut down after the test."""
    from ui.tasks import Op, TaskManager

    manager = TaskManager()
    previous, Op.manager = Op.manager, manager
    yield manager
    manager.shutdown()
    Op.manager = previous


@pytest.fixture
def artifacts() -> Path:
    """Where screenshots go (not committed)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def store_factory(tmp_path: Path) -> Iterator[Any]:
    """Opens real FieldStores in tmp dirs and closes them after the test."""
    from fieldapp.store import FieldStore

    opened: list[Any] = []

    def open_store(name: str = "data", cases: int = 0, **kwargs: Any) -> Any:
        from factory import fill_store

        store = FieldStore.open(tmp_path / name)
        opened.append(store)
        if cases:
            fill_store(store, cases, **kwargs)
        return store

    yield open_store
    for store in opened:
        try:
            store.close()
        except Exception:  # already closed by the test
            pass


@pytest.fixture
def store(store_factory: Any) -> Any:
    """A real store holding 60 cases of the signed-in officer (every 7th home has warnings)."""
    return store_factory(cases=60)


@pytest.fixture
def window(qtbot: Any, store: Any, tasks: Any) -> Iterator[Any]:
    """The main window over a real store (not signed in to any portal), cases loaded."""
    from ui.app import create_main_window

    win = create_main_window(store, tasks=tasks)
    qtbot.addWidget(win)
    win.resize(1280, 800)
    win.show()
    qtbot.waitUntil(lambda: win.case_list.model.rowCount() > 0, timeout=15000)  # a loaded machine is slow
    yield win
    win.close()

