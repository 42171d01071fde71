"""Can Qt open a window on this Linux desktop? Checked before Qt tries, so the answer is ours, not Qt's abort.

Qt's xcb plugin needs system libraries (libxcb-cursor0 and friends) that a plain desktop may not
have; without them Qt aborts with "Reinstalling the application may fix this problem", which is
wrong (installing the libraries fixes it). `desktop_problem` asks ``ldd`` which libraries the plugin
cannot find and names the Debian/Ubuntu packages that hold them. ``python -m ui.qt_platform``
(the Makefile's ``run`` target) prints the same and exits 1 when something is missing.

Nothing here imports Qt: the plugin is found from the PySide6 package's folder.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

from fieldapp.errors import FieldappError

#: The libraries Qt's xcb plugin loads from the system, by file name, and the apt package of each.
PACKAGES = {
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-render.so.0": "libxcb-render0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-util.so.1": "libxcb-util1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-xinerama.so.0": "libxcb-xinerama0",
    "libxcb-xinput.so.0": "libxcb-xinput0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxcb.so.1": "libxcb1",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libX11.so.6": "libx11-6",
    "libSM.so.6": "libsm6",
    "libICE.so.6": "libice6",
    "libEGL.so.1": "libegl1",
    "libGL.so.1": "libgl1",
    "libOpenGL.so.0": "libopengl0",
    "libfontconfig.so.1": "libfontconfig1",
    "libfreetype.so.6": "libfreetype6",
    "libdbus-1.so.3": "libdbus-1-3",
    "libglib-2.0.so.0": "libglib2.0-0",
}
#: Every package above: what the README tells a desktop to install once.
ALL_PACKAGES = tuple(dict.fromkeys(PACKAGES.values()))
_NOT_FOUND = re.compile(r"^\s*(\S+)\s+=>\s+not found\s*$", re.MULTILINE)


class DesktopLibrariesMissing(FieldappError):
    """Qt cannot open a window here; the message names what to install or set."""


def apt_command(packages: list[str] | tuple[str, ...]) -> str:
    """The command that installs ``packages`` on Debian or Ubuntu."""
    return "sudo apt-get install " + " ".join(packages)


def missing_libraries(ldd_output: str) -> list[str]:
    """The library file names ``ldd`` reported as "not found", each once, in its order."""
    return list(dict.fromkeys(_NOT_FOUND.findall(ldd_output)))


def packages_for(libraries: list[str]) -> list[str]:
    """The apt packages holding ``libraries``; a library we do not know is named as itself."""
    return list(dict.fromkeys(PACKAGES.get(name, name) for name in libraries))


def xcb_plugin() -> Path | None:
    """PySide6's xcb platform plugin, or None when PySide6 or the plugin is not there."""
    spec = importlib.util.find_spec("PySide6")
    if spec is None or spec.origin is None:
        return None
    plugin = Path(spec.origin).parent / "Qt" / "plugins" / "platforms" / "libqxcb.so"
    return plugin if plugin.is_file() else None


def uses_xcb(environ: dict[str, str] | os._Environ[str]) -> bool:
    """Whether Qt will pick the xcb plugin: on Linux, unless another platform is asked for or Wayland is up."""
    if not sys.platform.startswith("linux"):
        return False
    platform = environ.get("QT_QPA_PLATFORM", "")
    if platform:
        return platform.split(";")[0].split(":")[0] == "xcb"
    return not environ.get("WAYLAND_DISPLAY")


def desktop_problem(environ: dict[str, str] | os._Environ[str] | None = None) -> str | None:
    """What stops Qt opening a window here, as a sentence with the fix; None when nothing does (or not xcb)."""
    environ = os.environ if environ is None else environ
    if not uses_xcb(environ):
        return None
    plugin = xcb_plugin()
    if plugin is None:
        return None  # a bundle or an unusual install: leave it to Qt
    try:
        result = subprocess.run(["ldd", str(plugin)], capture_output=True, text=True, timeout=20, check=False)
    except (OSError, subprocess.SubprocessError):
        return None  # no ldd: we cannot tell, Qt will say
    missing = missing_libraries(result.stdout)
    if missing:
        packages = packages_for(missing)
        return (f"Fieldapp cannot open its window: this computer lacks the libraries Qt needs to draw on the "
                f"desktop ({', '.join(missing)}). Install them, then start Fieldapp again:\n\n"
                f"    {apt_command(packages)}\n\n(On other Linux distributions install the packages that provide "
                "those files.)")
    if not environ.get("DISPLAY"):
        return ("Fieldapp cannot open its window: there is no desktop display (DISPLAY is not set). Start it from "
                "a desktop session; for a headless check use QT_QPA_PLATFORM=offscreen.")
    return None


def check_desktop() -> None:
    """Raise `DesktopLibrariesMissing` with the fix when Qt could not open a window here."""
    problem = desktop_problem()
    if problem:
        raise DesktopLibrariesMissing(problem)


def main() -> int:
    """``python -m ui.qt_platform``: print what is missing and exit 1, or exit 0 silently."""
    problem = desktop_problem()
    if problem:
        print(problem, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
