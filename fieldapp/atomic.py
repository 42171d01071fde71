"""Atomic file writes: a temporary file in the same folder, fsync, rename, folder fsync.

A crash or power cut at any moment leaves either the old file or the new one, never half
of one; the temporary file is removed whenever the write fails.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_atomic(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` atomically and durably, creating its folder if needed."""
    make_dirs(path.parent)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def make_dirs(folder: Path) -> None:
    """Create ``folder`` and its missing parents, each 0700: what is written here is the officer's alone.

    (``Path.mkdir(parents=True)`` would give the parents the default mode.)
    """
    missing: list[Path] = []
    while not folder.exists():
        missing.append(folder)
        folder = folder.parent
    for each in reversed(missing):
        each.mkdir(mode=0o700, exist_ok=True)


def fsync_dir(directory: Path) -> None:
    """Make a rename durable; Windows cannot open folders, and NTFS journals renames anyway."""
    if os.name == "nt":
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
