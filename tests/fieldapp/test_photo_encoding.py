"""Encoding a stored photo on two cores: the two halves join into the JPEG one encode writes."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
import photo_samples as samples  # noqa: E402

from fieldapp.photo_encoding import encode_jpeg, join_halves  # noqa: E402


def one_encode(image: Image.Image, **options: object) -> bytes:
    """``image`` encoded by Pillow in one go."""
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85, subsampling="4:2:0", **options)
    return out.getvalue()


def pixels(data: bytes) -> bytes:
    """The decoded samples as stored (no colour conversion)."""
    with Image.open(io.BytesIO(data)) as image:
        image.draft(image.mode if image.mode == "L" else "YCbCr", None)
        return image.tobytes()


@pytest.mark.parametrize("mode, size", [("YCbCr", (640, 1000)), ("RGB", (1000, 640)), ("L", (320, 900)),
                                        ("YCbCr", (636, 999))], ids=["ycbcr", "rgb", "grey", "odd"])
def test_joined_halves_are_one_encode_with_restart_markers(mode: str, size: tuple[int, int]) -> None:
    """The joined file is byte for byte one encode with a restart marker each MCU row; its pixels equal a plain encode's."""
    picture = samples.make_photo(size, seed=4).convert(mode)
    exif = samples.camera_exif(1).tobytes()
    joined = encode_jpeg(picture, quality=85, subsampling="4:2:0", exif=exif)
    assert joined == one_encode(picture, exif=exif, restart_marker_rows=1)
    assert pixels(joined) == pixels(one_encode(picture))
    with Image.open(io.BytesIO(joined)) as stored:
        assert stored.size == size and stored.getexif()[samples.MAKE] == "Fieldcam"


def test_small_pictures_are_encoded_in_one_go() -> None:
    """Below a few hundred rows a second thread saves nothing: one plain encode, without restart markers."""
    picture = samples.make_photo((400, 300), seed=4)
    assert encode_jpeg(picture, quality=85, subsampling="4:2:0") == one_encode(picture)


def test_halves_must_join_on_a_marker_boundary() -> None:
    """A top half whose rows of MCUs are not a multiple of 8 would break the markers' numbering: refused."""
    top = one_encode(Image.new("RGB", (64, 48), "grey"), restart_marker_rows=1)
    with pytest.raises(ValueError):
        join_halves(top, top, 96, 3)
