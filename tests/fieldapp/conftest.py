"""Fixtures of the laptop-core tests: a signed-in officer's store with a small world."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from store_helpers import Filled, filled_store


@pytest.fixture()
def filled(tmp_path: Path) -> Iterator[Filled]:
    """A signed-in officer's store with three cases, in ``tmp_path / "data"`` (a test's own files go beside it)."""
    filled = filled_store(tmp_path / "data")
    yield filled
    filled.store.close()
