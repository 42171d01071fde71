"""``fieldapp --smoke-test``: prove an installation works end to end, without a display or a portal.

Opens a store in a temporary folder (which runs the bundled Alembic migrations), opens
the main window offscreen and saves a screenshot of it, then imports a generated photo
(Pillow's JPEG codecs, EXIF rotation, hashing). Prints one line per step with its time
and ``SMOKE TEST PASSED``; exit status 0, or 1 with the reason. CI runs it against the
PyInstaller bundle, so it checks what IT will install, not the development checkout.
"""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fieldapp.store import FieldStore

_T0 = time.perf_counter()


def run_smoke_test(screenshot: Path | None = None) -> int:
    """Run every step; returns 0 when all passed."""
    # Before Qt is imported: no display is needed (CI, a remote session, a locked screen).
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    screenshot = screenshot or Path(tempfile.gettempdir()) / "fieldapp-smoke-test.png"
    try:
        with tempfile.TemporaryDirectory(prefix="fieldapp-smoke-") as tmp:
            _steps(Path(tmp), screenshot)
    except Exception:
        print("SMOKE TEST FAILED", flush=True)
        traceback.print_exc()
        return 1
    print("SMOKE TEST PASSED", flush=True)
    return 0


def _say(text: str) -> None:
    print(f"[{time.perf_counter() - _T0:6.2f}s] {text}", flush=True)


def _steps(folder: Path, screenshot: Path) -> None:
    from fieldapp import FieldStore, __version__
    from fieldapp.resources import package_path, resource_path

    frozen = getattr(sys, "frozen", False)
    _say(f"fieldapp {__version__} ({'bundle' if frozen else 'source'}), resources at {resource_path()}")
    if frozen:
        import importlib.util

        leaked = [name for name in ("portal", "fastapi", "uvicorn", "psycopg", "pytest") if importlib.util.find_spec(name)]
        if leaked:
            raise RuntimeError(f"server or test libraries are inside the bundle: {', '.join(leaked)}")
    migrations = package_path("fieldapp", "migrations")
    if not (migrations / "env.py").is_file():
        raise RuntimeError(f"the Alembic migrations are missing from {migrations}")
    data_dir = folder / "data"
    store = FieldStore.open(data_dir)
    try:
        store.cases()  # the migrated schema answers a real query
        _say(f"store opened and migrated in {data_dir}")
        _window(store, screenshot)
        _photo(folder, data_dir / "photos")
    finally:
        store.close()


def _window(store: FieldStore, screenshot: Path) -> None:
    from ui.app import create_main_window, ensure_app, shutdown_window

    app = ensure_app([sys.argv[0]])
    window = create_main_window(store)
    window.resize(1280, 800)
    window.show()
    app.processEvents()
    # For measuring start-up from outside: the wall-clock moment the window was shown.
    _say(f"main window shown (window_shown_epoch={time.time():.3f})")
    try:
        if not window.isVisible():
            raise RuntimeError("the main window did not become visible")
        # Let queued loads (the case list from the database thread) arrive before the picture.
        # Paced rather than a busy loop: the event loop runs ~50 times, not millions.
        until = time.monotonic() + 0.5
        while time.monotonic() < until:
            app.processEvents()
            time.sleep(0.01)
        screenshot.parent.mkdir(parents=True, exist_ok=True)
        if not window.grab().save(str(screenshot)):
            raise RuntimeError(f"could not save the screenshot to {screenshot}")
        _say(f"screenshot saved to {screenshot}")
    finally:
        shutdown_window(window)


def _photo(folder: Path, photos_dir: Path) -> None:
    from PIL import Image, ImageDraw

    from fieldapp.photo_policy import PhotoPolicy
    from fieldapp.photos import import_photo

    source = folder / "smoke.jpg"
    image = Image.linear_gradient("L").resize((1600, 1200)).convert("RGB")
    ImageDraw.Draw(image).rectangle((100, 100, 700, 500), fill=(200, 30, 30))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotated 90 degrees, as phones often write
    image.save(source, "JPEG", quality=90, exif=exif.tobytes())
    imported = import_photo(source, photos_dir, PhotoPolicy(long_edge=1024))
    if (imported.width, imported.height) != (768, 1024):
        raise RuntimeError(f"the photo was not rotated and scaled as expected: {imported.width}x{imported.height}")
    if hashlib.sha256(imported.path.read_bytes()).hexdigest() != imported.sha256 or not imported.thumbnail_path.exists():
        raise RuntimeError("the stored photo does not match its hash or has no thumbnail")
    _say(f"photo imported ({imported.width}x{imported.height}, {imported.bytes} bytes)")
