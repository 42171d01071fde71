"""Decoding and scaling photos: the luma/colour path for camera JPEGs and the banded path agree with one plain resize."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageStat

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
import photo_samples as samples  # noqa: E402

from fieldapp.photo_scaling import RESAMPLE, _resize_banded, decode_scaled, shrunk  # noqa: E402
from fieldapp.photos import PhotoPolicy, import_photo  # noqa: E402

ORIENTATIONS = [None, *Image.Transpose]
EDGE = 400


def jpeg_bytes(size: tuple[int, int], **save: object) -> bytes:
    """A camera-like JPEG of ``size`` in memory."""
    out = io.BytesIO()
    samples.make_photo(size, seed=5).save(out, "JPEG", quality=93, **save)
    return out.getvalue()


def scaled(data: bytes, upright: Image.Transpose | None, *, planes: bool = True) -> Image.Image:
    """decode_scaled to EDGE; ``planes=False`` withholds the bytes, which forces the whole-RGB path."""
    return decode_scaled(Image.open(io.BytesIO(data)), data if planes else None, EDGE, upright).picture


def differences(first: Image.Image, second: Image.Image) -> tuple[float, int]:
    """Mean and largest absolute difference of two single-band pictures."""
    diff = ImageChops.difference(first, second)
    return ImageStat.Stat(diff).mean[0], int(diff.getextrema()[1])  # type: ignore[arg-type, index]


def as_blocks(plane: Image.Image) -> Image.Image:
    """The plane as a 4:2:0 encoder stores it: each aligned 2x2 block replaced by its mean."""
    return plane.reduce(2).resize(plane.size, Image.Resampling.NEAREST)


@pytest.mark.parametrize("size", [(625, 469), (469, 625)], ids=["landscape", "portrait"])
def test_camera_jpeg_at_0_64_takes_the_luma_colour_path(size: tuple[int, int]) -> None:
    """A YCbCr JPEG shrunk by 0.64 (4000x3000 to 2560) comes back as YCbCr planes; a half-size shrink does not."""
    assert scaled(jpeg_bytes(size), None).mode == "YCbCr"
    assert scaled(jpeg_bytes((800, 600)), None).mode == "RGB"


@pytest.mark.parametrize("upright", ORIENTATIONS, ids=lambda t: "none" if t is None else t.name)
@pytest.mark.parametrize("size", [(625, 469), (469, 625)], ids=["landscape", "portrait"])
def test_luma_colour_path_matches_the_whole_rgb_path(size: tuple[int, int], upright: Image.Transpose | None) -> None:
    """In every orientation the picture equals the full RGB decode and resize: luma within 2 levels, colour as stored."""
    data = jpeg_bytes(size)
    planes = scaled(data, upright)
    whole = scaled(data, upright, planes=False).convert("YCbCr")
    assert planes.size == whole.size
    luma_mean, luma_max = differences(planes.getchannel(0), whole.getchannel(0))
    assert luma_mean < 0.75 and luma_max <= 2
    for band in (1, 2):  # colour is compared as the 4:2:0 file keeps it (a 2-pixel shift gives a mean of 10)
        colour_mean, _ = differences(planes.getchannel(band), as_blocks(whole.getchannel(band)))
        assert colour_mean < 2


@pytest.mark.parametrize("upright", ORIENTATIONS, ids=lambda t: "none" if t is None else t.name)
def test_colour_planes_sit_on_the_stored_jpegs_2x2_grid(upright: Image.Transpose | None) -> None:
    """Each colour value fills one aligned 2x2 block, so the 4:2:0 encoder stores exactly what was resampled."""
    planes = scaled(jpeg_bytes((625, 469)), upright)
    for band in (1, 2):
        plane = planes.getchannel(band)
        assert plane.tobytes() == as_blocks(plane).tobytes()


@pytest.mark.parametrize("upright", ORIENTATIONS, ids=lambda t: "none" if t is None else t.name)
def test_preview_is_the_upright_picture_at_half_size(upright: Image.Transpose | None) -> None:
    """The thumbnail's copy on the luma/colour path is the same picture, upright, at half size."""
    data = jpeg_bytes((625, 469))
    result = decode_scaled(Image.open(io.BytesIO(data)), data, EDGE, upright)
    assert result.preview.size == (result.picture.width // 2, result.picture.height // 2)
    luma_mean, _ = differences(result.preview.getchannel(0), result.picture.getchannel(0).reduce(2))
    assert luma_mean < 3  # a turned or mirrored copy is off by tens of levels


def test_rgb_coded_jpeg_takes_the_whole_path(tmp_path: Path) -> None:
    """A JPEG libjpeg does not read as YCbCr (coded as RGB: Adobe marker with transform 0) keeps its colours."""
    red = Image.new("RGB", (625, 469), (220, 20, 20))
    rgb_coded = io.BytesIO()
    red.save(rgb_coded, "JPEG", quality=95, keep_rgb=True)
    assert scaled(rgb_coded.getvalue(), None).mode == "RGB"
    source = tmp_path / "rgb.jpg"
    source.write_bytes(rgb_coded.getvalue())
    result = import_photo(source, tmp_path / "photos", PhotoPolicy(long_edge=EDGE, thumbnail_edge=64))
    with Image.open(result.path) as stored:
        r, g, b = stored.convert("RGB").getpixel((200, 150))  # type: ignore[misc]
    assert r > 200 and g < 50 and b < 50


@pytest.mark.parametrize("subsampling", ["4:2:2", "4:4:4"])
def test_jpegs_with_more_colour_detail_take_the_whole_path(subsampling: str) -> None:
    """4:2:2 and 4:4:4 JPEGs (some cameras) are decoded whole: a half-size decode would lose colour detail."""
    result = scaled(jpeg_bytes((625, 469), subsampling=subsampling), Image.Transpose.ROTATE_270)
    assert result.mode == "RGB" and result.size == (300, 400)


@pytest.mark.parametrize("subsampling", ["4:2:0", "4:2:2", "4:4:4"])
def test_stored_colour_is_as_close_to_the_scene_as_the_whole_decode(subsampling: str) -> None:
    """Against the original scene shrunk with LANCZOS, the chosen path's colour is no further off than whole RGB's."""
    scene = samples.make_photo((625, 469), seed=5)
    truth = scene.resize((EDGE, 300), Image.Resampling.LANCZOS).convert("YCbCr")
    out = io.BytesIO()
    scene.save(out, "JPEG", quality=93, subsampling=subsampling)
    chosen = scaled(out.getvalue(), None).convert("YCbCr")
    whole = scaled(out.getvalue(), None, planes=False).convert("YCbCr")
    for band in (1, 2):
        expected = as_blocks(truth.getchannel(band))
        chosen_off, _ = differences(as_blocks(chosen.getchannel(band)), expected)
        whole_off, _ = differences(as_blocks(whole.getchannel(band)), expected)
        assert chosen_off <= whole_off + 0.05  # 4:2:0: 1.75 against 2.34 levels


def test_odd_target_takes_the_whole_path() -> None:
    """A target with an odd side (625x467 to 400x299) cannot hold 2x2 colour blocks: decoded whole, right size."""
    result = scaled(jpeg_bytes((625, 467)), Image.Transpose.ROTATE_270)
    assert result.mode == "RGB" and result.size == (299, 400)


def test_fine_detail_in_a_camera_jpeg_is_antialiased(tmp_path: Path) -> None:
    """1-pixel stripes in a camera JPEG shrunk by 0.64 become even grey on the luma/colour path (BOX would alias)."""
    stripes = Image.new("RGB", (625, 469), "black")
    for x in range(0, 625, 2):
        stripes.paste((255, 255, 255), (x, 0, x + 1, 469))
    source = tmp_path / "mesh.jpg"
    stripes.save(source, "JPEG", quality=95)
    result = import_photo(source, tmp_path / "photos", PhotoPolicy(long_edge=EDGE, thumbnail_edge=64, quality=95))
    with Image.open(result.path) as stored:
        grey = ImageStat.Stat(stored.convert("L"))
    assert abs(grey.mean[0] - 127.5) < 5
    assert grey.stddev[0] < 60  # HAMMING 47-50; BOX 84 and NEAREST 127


@pytest.mark.parametrize("upright", ORIENTATIONS, ids=lambda t: "none" if t is None else t.name)
@pytest.mark.parametrize("size, target", [((625, 469), (400, 300)), ((469, 625), (300, 400)),
                                          ((1001, 777), (641, 497))], ids=["landscape", "portrait", "odd"])
def test_banded_resize_equals_one_resize(size: tuple[int, int], target: tuple[int, int],
                                         upright: Image.Transpose | None) -> None:
    """Resampling in bands on several threads, each turned upright, differs from one resize by at most 1 level."""
    picture = samples.make_photo(size, seed=2)
    whole = picture.resize(target, RESAMPLE)
    if upright is not None:
        whole = whole.transpose(upright)
    banded = _resize_banded(picture, target, upright)
    assert banded.size == whole.size
    assert max(high for _, high in ImageChops.difference(banded, whole).getextrema()) <= 1  # type: ignore[misc, union-attr]


@pytest.mark.parametrize("upright", [None, Image.Transpose.ROTATE_270], ids=["none", "ROTATE_270"])
def test_rows_of_the_luma_colour_picture_are_those_rows_of_the_whole(upright: Image.Transpose | None) -> None:
    """The encoder's threads each assemble their own rows: the same pixels as the whole picture's, at any cut."""
    data = jpeg_bytes((625, 469))
    result = decode_scaled(Image.open(io.BytesIO(data)), data, EDGE, upright)
    whole = result.picture
    for top, bottom in ((0, 128), (128, whole.height), (37, 101)):
        assert result.rows(top, bottom).tobytes() == whole.crop((0, top, whole.width, bottom)).tobytes()


def test_luma_colour_path_makes_the_thumbnails_picture_from_the_preview() -> None:
    """Asked for, the thumbnail's picture comes with the result: the preview shrunk, as the import would shrink it."""
    data = jpeg_bytes((625, 469))
    result = decode_scaled(Image.open(io.BytesIO(data)), data, EDGE, Image.Transpose.ROTATE_90, thumbnail_edge=64)
    assert result.thumbnail is not None and result.thumbnail.size == (48, 64)
    assert result.thumbnail.tobytes() == shrunk(result.preview, 64).tobytes()
    assert decode_scaled(Image.open(io.BytesIO(data)), data, EDGE).thumbnail is None
