"""Icons and the stylesheet, found through `fieldapp.resources.resource_path` (works frozen)."""

from __future__ import annotations

import functools
import logging
from pathlib import Path

from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from fieldapp.resources import resource_path

log = logging.getLogger(__name__)

#: The stylesheet's problem red (``QLabel#problem``), for rich text: QSS cannot reach a span inside a label.
PROBLEM_RED = "#b3261e"


def resource_file(relative: str) -> Path:
    """The path of a bundled resource such as ``icons/sync.svg`` or ``style.qss``."""
    return Path(resource_path(relative))


@functools.cache
def icon(name: str) -> QIcon:
    """An icon from ``resources/icons/<name>.svg`` (an empty icon if missing, never a crash)."""
    path = resource_file(f"icons/{name}.svg")
    if not path.exists():
        log.warning("Icon %s is missing at %s", name, path)
        return QIcon()
    return QIcon(str(path))


def apply_style(app: QApplication) -> None:
    """Apply the calm stylesheet; a missing file leaves Qt's own look rather than failing."""
    path = resource_file("style.qss")
    try:
        app.setStyleSheet(path.read_text(encoding="utf-8"))
    except OSError:
        log.warning("Stylesheet missing at %s", path)
