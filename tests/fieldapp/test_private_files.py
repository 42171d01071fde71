"""The laptop's files are the officer's alone: 0600 files and 0700 folders, new and old installs alike."""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from fieldapp import FieldStore
from fieldapp.logs import setup_logging, stop_logging
from store_helpers import filled_store, make_jpeg

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX permissions (Windows uses the profile's ACLs)")


@pytest.fixture()
def open_umask() -> Iterator[None]:
    """Run with the permissive umask a desktop session often has."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def _modes(root: Path) -> dict[str, int]:
    return {str(p.relative_to(root)): stat.S_IMODE(p.lstat().st_mode) for p in [root, *root.rglob("*")]}


def test_a_new_store_and_its_photos_are_private(tmp_path: Path, open_umask: None) -> None:
    """Database, WAL, folders and imported photos are created 0600/0700 even under umask 022."""
    filled = filled_store(tmp_path / "data")
    try:
        visit = filled.draft()
        filled.store.add_photo(visit.id, make_jpeg(tmp_path / "p.jpg"))
        root = filled.store.data_dir
        modes = _modes(root)
    finally:
        filled.store.close()
    assert modes["."] == 0o700 and modes["photos"] == 0o700
    wrong = {name: oct(mode) for name, mode in modes.items()
             if mode != (0o700 if (root / name).is_dir() else 0o600)}
    assert wrong == {}
    assert any(name.endswith(".jpg") for name in modes)


def test_an_old_install_is_made_private_when_opened(tmp_path: Path, open_umask: None) -> None:
    """Files 0644 and folders 0755 left by an older version are fixed on open, backups and photos included."""
    filled = filled_store(tmp_path / "data")
    visit = filled.draft()
    filled.store.add_photo(visit.id, make_jpeg(tmp_path / "p.jpg"))
    root = filled.store.data_dir
    filled.store.close()
    (root / "fieldapp.db.bak-0001").write_bytes(b"old backup")
    (root / ".private").unlink()
    for path in [root, *root.rglob("*")]:
        os.chmod(path, 0o755 if path.is_dir() else 0o644)
    FieldStore.open(root).close()
    assert {name: oct(mode) for name, mode in _modes(root).items()
            if mode != (0o700 if (root / name).is_dir() else 0o600)} == {}


def test_log_files_are_private(tmp_path: Path, open_umask: None) -> None:
    """The log folder is 0700 and the log file 0600 from its first line."""
    path = setup_logging(tmp_path / "logs")
    try:
        logging.getLogger("fieldapp.test").warning("a line naming 12 Mill Lane")
    finally:
        stop_logging()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
