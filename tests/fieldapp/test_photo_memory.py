"""A camera photo's import reuses the memory of the pictures the one before it freed, instead of fresh pages."""

from __future__ import annotations

import sys
from pathlib import Path

from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
import photo_samples as samples  # noqa: E402

from fieldapp.photos import prepare  # noqa: E402


def test_the_next_import_reuses_the_memory_of_the_last(tmp_path: Path) -> None:
    """Pillow keeps freed blocks for the photo code: a second 12-megapixel import allocates almost none of its own.

    Under Pillow's defaults each import allocated some 40 blocks afresh (and the system zeroed their pages).
    """
    core = Image.core  # type: ignore[attr-defined]
    source = samples.save_photo(tmp_path / "camera.jpg", (4000, 3000))
    prepare(source, scratch=tmp_path / "scratch")
    before = core.get_stats()
    prepare(source, scratch=tmp_path / "scratch")
    after = core.get_stats()
    assert after["reused_blocks"] - before["reused_blocks"] >= 40
    assert after["allocated_blocks"] - before["allocated_blocks"] <= 8
