"""The upload check's walk of a JPEG: every kind a camera or Pillow writes passes, anything cut off does not."""

from __future__ import annotations

import io
import random

import pytest
from PIL import Image

from portal.errors import ApiError
from portal.services.imagecheck import inspect_image, jpeg_problem


def _jpeg(**options: object) -> bytes:
    rng = random.Random(5)
    image = Image.frombytes("RGB", (320, 240), rng.randbytes(320 * 240 * 3))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90, **options)
    return buffer.getvalue()


@pytest.mark.parametrize("options", [{}, {"progressive": True}, {"restart_marker_blocks": 4}, {"subsampling": 0},
                                     {"exif": Image.Exif().tobytes(), "icc_profile": b"\0" * 300}])
def test_whole_jpegs_pass(options: dict[str, object]) -> None:
    """Baseline, progressive (many scans), restart markers, 4:4:4, EXIF and ICC segments; bytes after the end too."""
    data = _jpeg(**options)
    assert jpeg_problem(data) is None
    assert jpeg_problem(data + b"\0trailing bytes a camera appended") is None
    assert inspect_image(io.BytesIO(data), 8192).width == 320


@pytest.mark.parametrize("cut", [1, 2, 100, 5000])
def test_cut_off_jpegs_fail(cut: int) -> None:
    """A file that stops anywhere before its end-of-image marker is refused, with a reason."""
    data = _jpeg(progressive=True)
    problem = jpeg_problem(data[:-cut])
    assert problem is not None and "cut off" in problem
    with pytest.raises(ApiError) as refused:
        inspect_image(io.BytesIO(data[:-cut]), 8192)
    assert refused.value.status == 415


def test_a_broken_segment_length_fails() -> None:
    """A segment whose length runs past the file, or no marker where one must be."""
    data = bytearray(_jpeg())
    assert jpeg_problem(bytes(data[:2] + b"\xff\xe0\xff\xff" + data[2:])) is not None
    assert jpeg_problem(b"\xff\xd8" + b"<html>" * 10) is not None
    assert jpeg_problem(b"GIF89a") is not None


def test_a_cut_off_jpeg_fails_though_a_header_segment_holds_an_end_marker() -> None:
    """The end-of-image marker must come after the scan has begun: one inside an APP segment (a thumbnail's end) does not count."""
    thumbnail = _jpeg()[:2000] + b"\xff\xd9"
    photo = _jpeg()
    data = photo[:2] + b"\xff\xef" + (len(thumbnail) + 2).to_bytes(2, "big") + thumbnail + photo[2:]
    assert jpeg_problem(data) is None
    assert "cut off" in (jpeg_problem(data[:-500]) or "")
