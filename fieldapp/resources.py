"""Finding bundled files the same way in a checkout, an installed package and a PyInstaller bundle.

Never relative to the working directory: the app is started from a shortcut, a terminal
or a scheduled task, and each has a different one.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path


def package_path(package: str, *parts: str) -> Path:
    """A file or folder inside an importable package, e.g. ``package_path("fieldapp", "migrations")``.

    Frozen (PyInstaller), data files are unpacked under ``sys._MEIPASS`` at the package's
    dotted path; otherwise the package's own folder is used.
    """
    bundle = getattr(sys, "_MEIPASS", None)
    if getattr(sys, "frozen", False) and bundle:
        return Path(bundle, *package.split("."), *parts)
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise LookupError(f"{package} is not an installed package; reinstall Fieldapp.")
    return Path(next(iter(spec.submodule_search_locations)), *parts)


def resource_path(*parts: str) -> Path:
    """A file in the top-level ``resources`` package (icons, style sheets, templates...)."""
    return package_path("resources", *parts)
