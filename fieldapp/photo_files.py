"""Where the stored photos and their thumbnails live: content-addressed by SHA-256.

Apart from `fieldapp.photos` (which needs Pillow) so that a process that only reads or
sends photos — `fieldapp sync`, the outbox, the letter — never loads Pillow.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

from fieldapp.errors import PhotoError

JPEG = "image/jpeg"
PNG = "image/png"
SUFFIX = {JPEG: ".jpg", PNG: ".png"}
_SHA256 = re.compile(r"[0-9a-f]{2,64}")  # hex only: a hash can never carry "/" or ".." into a path
#: Parts of a photo being encoded live in this folder of the photo folder: never a two-digit shard, so
#: `stored_files` never lists them, and wiping the photo folder takes them too.
SCRATCH_FOLDER = "scratch"
#: Every scratch file's name ends so, never ``.jpg`` or ``.png``.
SCRATCH_SUFFIX = ".part"

log = logging.getLogger(__name__)


def photo_path(photos_dir: Path, sha256: str, content_type: str) -> Path:
    """Where the stored photo with this hash lives."""
    check_sha256(sha256)
    try:
        suffix = SUFFIX[content_type]
    except KeyError:
        raise PhotoError(f"Photos are stored as JPEG or PNG, not {content_type!r}.") from None
    return Path(photos_dir) / sha256[:2] / f"{sha256}{suffix}"


def thumbnail_path(photos_dir: Path, sha256: str) -> Path:
    """Where the thumbnail of the stored photo with this hash lives (always JPEG)."""
    check_sha256(sha256)
    return Path(photos_dir) / "thumbs" / sha256[:2] / f"{sha256}.jpg"


def stored_files(photos_dir: Path) -> Iterator[tuple[Path, str | None]]:
    """Every file in the photo folder (photos and thumbnails) with the hash it is named by (None: not a photo)."""
    for folder in (Path(photos_dir), Path(photos_dir) / "thumbs"):
        for shard in folder.glob("[0-9a-f][0-9a-f]"):
            for path in shard.iterdir():
                if path.is_file():
                    name = path.stem
                    yield path, name if _SHA256.fullmatch(name) and name.startswith(shard.name) else None


def scratch_dir(photos_dir: Path) -> Path:
    """Where a photo being encoded keeps its temporary parts: inside the data folder, not the system's temp folder."""
    return Path(photos_dir) / SCRATCH_FOLDER


def sweep_scratch(photos_dir: Path) -> int:
    """Delete what a crash or power cut mid-encode left in the scratch folder; how many files went.

    Safe while another process encodes: a scratch file is unlinked (Linux, macOS) or marked
    delete-on-close (Windows) while it is open, and its open handle keeps working.
    """
    try:
        leftovers = [path for path in scratch_dir(photos_dir).iterdir() if path.name.endswith(SCRATCH_SUFFIX)]
    except FileNotFoundError:
        return 0  # nothing was ever encoded here
    return remove_files(leftovers, "leftover part(s) of photos from an encode cut short")


def remove_files(paths: Iterable[Path], what: str) -> int:
    """Delete ``paths``, logging (not raising) any that cannot go, and how many went as ``what``; how many went."""
    removed = 0
    for path in paths:
        try:
            path.unlink(missing_ok=True)
            removed += 1
        except OSError as exc:
            log.warning("Could not remove %s: %s", path, exc)
    if removed:
        log.info("Removed %d %s", removed, what)
    return removed


def check_sha256(sha256: str) -> None:
    """Hashes come from the portal too: only lowercase hex digits may become a file name."""
    if not _SHA256.fullmatch(sha256):
        raise PhotoError(f"{sha256!r} is not a photo hash (hex digits); the data may be damaged, sync again.")
