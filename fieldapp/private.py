"""The laptop's files are readable by the officer alone: 0600 files, 0700 folders (Linux and macOS).

The database, photos, logs, caches and backups hold residents' personal data; a
colleague with another account on the same laptop must not read them. New files are
private from their creation (the process runs under umask 077, and the places that
create files pass 0600 themselves); folders and files of an install made before this
are fixed when the store opens. Windows keeps per-user profile folders private by
their ACLs already, so nothing is changed there.
"""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from fieldapp.errors import StoreError

log = logging.getLogger(__name__)

PRIVATE_UMASK = 0o077
FILE_MODE = 0o600
DIR_MODE = 0o700
#: Left in the data folder once its whole tree was made private, so later opens check only its top.
_MARKER = ".private"
POSIX = os.name == "posix"


def use_private_umask() -> None:
    """Make every file this process creates private from then on (called once at start-up)."""
    if POSIX:
        os.umask(PRIVATE_UMASK)


@contextmanager
def private_umask() -> Iterator[None]:
    """Create files as private for the duration, whatever the process's umask (SQLite creates the database)."""
    if not POSIX:
        yield
        return
    previous = os.umask(PRIVATE_UMASK)
    try:
        yield
    finally:
        os.umask(previous)


def make_private_dir(path: Path) -> Path:
    """Create ``path`` (and parents) and make the folder itself 0700."""
    path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    _fix(path, DIR_MODE)
    return path


def prepare_data_folder(folder: Path) -> None:
    """Create the data folder and its photos folder, private to this user; StoreError saying what to check."""
    try:
        make_private_dir(folder)
        make_private_dir(folder / "photos")
        secure_tree(folder)
    except OSError as exc:
        raise StoreError(f"Cannot use the data folder {folder}: {exc.strerror}. "
                         "Check it exists and you may write to it.") from exc


def _fix(path: Path, mode: int) -> bool:
    """Set ``mode`` on ``path`` when it differs (never following a link); True when it was changed."""
    try:
        current = path.lstat()
    except FileNotFoundError:
        return False
    if stat.S_ISLNK(current.st_mode) or stat.S_IMODE(current.st_mode) == mode:
        return False
    os.chmod(path, mode)
    return True


def secure_tree(root: Path) -> int:
    """Make ``root`` and everything under it private; how many entries were changed.

    The whole tree is walked once (an install from before this rule); afterwards only
    the folder's own entries are checked, since everything newer was created private.
    """
    if not POSIX or not root.is_dir():
        return 0
    changed = int(_fix(root, DIR_MODE))
    if (root / _MARKER).exists():
        for entry in root.iterdir():
            changed += _fix(entry, DIR_MODE if entry.is_dir() and not entry.is_symlink() else FILE_MODE)
        return changed
    for folder, dirs, files in os.walk(root):
        base = Path(folder)
        for name in dirs:
            changed += _fix(base / name, DIR_MODE)
        for name in files:
            changed += _fix(base / name, FILE_MODE)
    fd = os.open(root / _MARKER, os.O_WRONLY | os.O_CREAT, FILE_MODE)
    os.close(fd)
    if changed:
        log.info("Made %d files and folders under %s readable by this user only", changed, root)
    return changed
