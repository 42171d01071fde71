"""Logging to a rotating file in the per-user log folder, so IT always has something to read."""

from __future__ import annotations

import io
import logging
import logging.handlers
import os
from pathlib import Path

from fieldapp.private import FILE_MODE, make_private_dir, secure_tree

LOG_FILE = "fieldapp.log"
MAX_BYTES = 2 * 1024 * 1024
BACKUPS = 5
_FORMAT = "%(asctime)s %(levelname)-7s %(name)s [%(threadName)s] %(message)s"


class _FieldappHandler(logging.handlers.RotatingFileHandler):
    """Marks the handler this module installed, so a second setup replaces rather than doubles it.

    Log files are created 0600 (they name cases and addresses), rotated ones too.
    """

    def _open(self) -> io.TextIOWrapper:
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_CREAT | os.O_APPEND, FILE_MODE)
        return open(fd, "a", encoding=self.encoding, errors=self.errors)  # os.fdopen is this very call


def setup_logging(log_dir: Path, level: str = "INFO") -> Path:
    """Send log records at ``level`` and above to ``log_dir/fieldapp.log`` (2 MB x 6 files); return its path."""
    log_dir = make_private_dir(Path(log_dir))
    secure_tree(log_dir)
    path = log_dir / LOG_FILE
    stop_logging()
    root = logging.getLogger()
    # delay=True: the file is opened at the first record, so a read-only start costs nothing
    handler = _FieldappHandler(path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8", delay=True)
    handler.setFormatter(logging.Formatter(_FORMAT))
    root.addHandler(handler)
    root.setLevel(getattr(logging, level.upper(), logging.INFO))
    # urllib3 logs every connection at DEBUG; keep it to warnings unless asked for DEBUG.
    logging.getLogger("urllib3").setLevel(logging.DEBUG if level.upper() == "DEBUG" else logging.WARNING)
    return path


def stop_logging() -> None:
    """Close and remove the file handler installed by `setup_logging` (at exit, and between tests)."""
    root = logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h, _FieldappHandler)]:
        root.removeHandler(handler)
        handler.close()
