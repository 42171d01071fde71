"""Before Qt opens a window on Linux, Fieldapp names what is missing and how to install it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from ui.qt_platform import ALL_PACKAGES, apt_command, desktop_problem, missing_libraries, packages_for

LDD_OUTPUT = """\
\tlinux-vdso.so.1 (0x00007ffd)
\tlibQt6XcbQpa.so.6 => /venv/PySide6/Qt/lib/libQt6XcbQpa.so.6 (0x00007f)
\tlibxcb-cursor.so.0 => not found
\tlibxkbcommon-x11.so.0 => not found
\tlibxcb-cursor.so.0 => not found
\tlibweird.so.9 => not found
\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f)
"""


def test_ldd_not_found_lines_become_the_apt_packages() -> None:
    """Each library ldd cannot find is listed once and mapped to its apt package (an unknown one by its name)."""
    missing = missing_libraries(LDD_OUTPUT)
    assert missing == ["libxcb-cursor.so.0", "libxkbcommon-x11.so.0", "libweird.so.9"]
    assert packages_for(missing) == ["libxcb-cursor0", "libxkbcommon-x11-0", "libweird.so.9"]
    assert apt_command(["libxcb-cursor0"]) == "sudo apt-get install libxcb-cursor0"


def test_the_readme_names_every_package() -> None:
    """The README's install line holds every package the check knows, so one command does it all."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    assert apt_command(ALL_PACKAGES) in readme


def test_no_check_when_qt_draws_offscreen() -> None:
    """Offscreen (tests, CI, smoke test) and non-xcb platforms are never checked nor refused."""
    assert desktop_problem({"QT_QPA_PLATFORM": "offscreen"}) is None
    assert desktop_problem({"QT_QPA_PLATFORM": "wayland", "DISPLAY": ""}) is None


def test_the_app_says_what_is_missing_instead_of_qts_abort(tmp_path: Path) -> None:
    """`fieldapp` with no usable display exits with our sentence (what to install or set), not Qt's abort."""
    env = {**os.environ, "QT_QPA_PLATFORM": "xcb", "FIELDAPP_DATA_DIR": str(tmp_path / "data"),
           "FIELDAPP_CONFIG_DIR": str(tmp_path / "config"), "FIELDAPP_SITE_CONFIG": str(tmp_path / "site")}
    env.pop("DISPLAY", None)
    env.pop("WAYLAND_DISPLAY", None)
    result = subprocess.run([sys.executable, "-c", "from app.cli import main; raise SystemExit(main([]))"],
                            env=env, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 2, result.stderr
    assert "Fieldapp cannot open its window" in result.stderr and "Reinstalling" not in result.stderr
    assert "sudo apt-get install" in result.stderr or "DISPLAY is not set" in result.stderr
