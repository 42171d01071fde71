"""Photo import: verification, rotation, scaling, metadata policy, hashing, atomic storage."""

from __future__ import annotations

import hashlib
import sys
import warnings
from pathlib import Path

import pytest
from PIL import Image, ImageFile, ImageStat

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
import photo_samples as samples  # noqa: E402

from fieldapp.errors import PhotoError  # noqa: E402
from fieldapp.photos import (  # noqa: E402
    JPEG,
    PNG,
    PhotoPolicy,
    import_photo,
    photo_path,
    store_photo_bytes,
    thumbnail_path,
)

SMALL = PhotoPolicy(long_edge=400, thumbnail_edge=64)


# Camera JPEG sizes that take each scaling path to SMALL's 400 px: 800x600 (exactly half) is decoded at
# half size by libjpeg; 625x469 (0.64, as 4000x3000 to 2560) decodes luma at full and colour at half size.
CAMERA_SIZES = {"draft-path": (800, 600), "luma-colour-path": (625, 469)}


@pytest.fixture(params=list(CAMERA_SIZES.values()), ids=list(CAMERA_SIZES))
def camera_jpeg(tmp_path: Path, request: pytest.FixtureRequest) -> Path:
    """A camera JPEG with orientation 1, GPS, serial, owner and maker note, shrunk to 400x300 by SMALL."""
    return samples.save_photo(tmp_path / "IMG_0001.jpg", request.param)


def all_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def assert_refused(source: Path, photos: Path, fragment: str, policy: PhotoPolicy = SMALL) -> PhotoError:
    """Import must raise PhotoError naming the file and leave no file at all behind."""
    with pytest.raises(PhotoError) as caught:
        import_photo(source, photos, policy)
    message = str(caught.value)
    assert source.name in message
    assert fragment.lower() in message.lower()
    assert caught.value.path == str(source)
    assert all_files(photos) == []
    return caught.value


def test_import_scales_hashes_and_stores_content_addressed(camera_jpeg: Path, tmp_path: Path) -> None:
    """A camera JPEG is scaled to the policy edge, stored at photos/ab/<sha>.jpg with a matching hash."""
    photos = tmp_path / "photos"
    result = import_photo(camera_jpeg, photos, SMALL)
    data = result.path.read_bytes()
    assert result.sha256 == hashlib.sha256(data).hexdigest()
    assert result.bytes == len(data)
    assert result.path == photo_path(photos, result.sha256, JPEG) == photos / result.sha256[:2] / f"{result.sha256}.jpg"
    assert result.content_type == JPEG
    assert (result.width, result.height) == (400, 300)
    with Image.open(result.path) as stored:
        assert stored.format == "JPEG" and stored.size == (400, 300)


def test_thumbnail_is_written_within_edge(camera_jpeg: Path, tmp_path: Path) -> None:
    """The thumbnail exists under photos/thumbs/ab/ and fits the policy's thumbnail edge."""
    result = import_photo(camera_jpeg, tmp_path / "photos", SMALL)
    assert result.thumbnail_path == thumbnail_path(tmp_path / "photos", result.sha256)
    with Image.open(result.thumbnail_path) as thumb:
        assert max(thumb.size) == 64 and thumb.format == "JPEG"


def test_small_photo_is_not_enlarged(tmp_path: Path) -> None:
    """A photo already under the long edge keeps its size."""
    source = samples.save_photo(tmp_path / "small.jpg", (300, 200))
    result = import_photo(source, tmp_path / "photos", SMALL)
    assert (result.width, result.height) == (300, 200)


def test_large_jpeg_uses_draft_and_reaches_exact_edge(tmp_path: Path) -> None:
    """A source more than twice the edge (draft decoding path) still ends exactly at the long edge."""
    source = samples.save_photo(tmp_path / "big.jpg", (2000, 1000))
    result = import_photo(source, tmp_path / "photos", SMALL)
    assert (result.width, result.height) == (400, 200)


def test_scaling_antialiases_fine_detail(tmp_path: Path) -> None:
    """Fine regular detail (1-pixel stripes) shrunk 1.5625x becomes near-even grey, not moire (fails for BOX or NEAREST)."""
    stripes = Image.new("RGB", (625, 469), "black")
    for x in range(0, 625, 2):
        stripes.paste((255, 255, 255), (x, 0, x + 1, 469))
    source = tmp_path / "mesh.png"
    stripes.save(source)  # PNG is stored losslessly, so the test sees the resampled pixels themselves
    result = import_photo(source, tmp_path / "photos", SMALL)
    with Image.open(result.path) as stored:
        grey = ImageStat.Stat(stored.convert("L"))
    assert stored.size == (400, 300)
    assert abs(grey.mean[0] - 127.5) < 5
    assert grey.stddev[0] < 60  # HAMMING 47, BILINEAR 12; BOX 84 and NEAREST 127 alias the stripes into bands


@pytest.mark.parametrize("orientation", range(1, 9))
@pytest.mark.parametrize("source_size", [*CAMERA_SIZES.values(), (469, 625)], ids=[*CAMERA_SIZES, "portrait"])
def test_exif_orientation_is_applied(tmp_path: Path, orientation: int, source_size: tuple[int, int]) -> None:
    """Rotated and mirrored camera photos are stored upright (sides swapped for 5 to 8) with orientation 1."""
    stored_size = (400, 300) if source_size[0] > source_size[1] else (300, 400)
    size = stored_size[::-1] if orientation >= 5 else stored_size
    base = Image.new("RGB", source_size, "white")
    base.paste((255, 0, 0), (0, 0, source_size[0] // 4, source_size[1] // 4))  # a red marker in the stored top-left
    source = tmp_path / f"o{orientation}.jpg"
    base.save(source, "JPEG", quality=95, exif=samples.camera_exif(orientation).tobytes())
    result = import_photo(source, tmp_path / "photos", SMALL)
    assert (result.width, result.height) == size
    with Image.open(result.path) as stored:
        assert stored.getexif().get(samples.ORIENTATION) == 1
        expected = Image.open(source)
        from PIL import ImageOps
        upright = ImageOps.exif_transpose(expected).resize(size)
        # the red marker is where Pillow's own exif_transpose puts it
        marker = [(x, y) for x, y in ((10, 10), (size[0] - 10, 10), (10, size[1] - 10), (size[0] - 10, size[1] - 10))
                  if upright.getpixel((x, y))[1] < 100]
        assert len(marker) == 1
        red = stored.convert("RGB").getpixel(marker[0])
        assert red[0] > 200 and red[1] < 80
    with Image.open(result.thumbnail_path) as thumb:  # the thumbnail is upright too (made from its own copy)
        assert max(thumb.size) == 64 and (thumb.width > thumb.height) == (size[0] > size[1])
        corner = tuple(round(v * thumb.width / size[0]) for v in marker[0])
        red = thumb.convert("RGB").getpixel((min(corner[0], thumb.width - 4), min(corner[1], thumb.height - 4)))
        assert red[0] > 200 and red[1] < 80


def test_gps_and_date_kept_serial_owner_makernote_dropped(camera_jpeg: Path, tmp_path: Path) -> None:
    """By default GPS and DateTimeOriginal survive; serial number, owner name and maker note do not."""
    result = import_photo(camera_jpeg, tmp_path / "photos", SMALL)
    with Image.open(result.path) as stored:
        exif = stored.getexif()
        gps = exif.get_ifd(samples.GPS_IFD)
        sub = exif.get_ifd(samples.EXIF_IFD)
    assert gps[1] == "N" and tuple(float(v) for v in gps[2]) == pytest.approx((51.0, 30.0, 26.46))
    assert sub[samples.DATETIME_ORIGINAL] == "2026:03:14 10:15:00"
    for tag in (samples.BODY_SERIAL, samples.OWNER_NAME, samples.MAKER_NOTE):
        assert tag not in sub
    raw = result.path.read_bytes()
    assert b"SN-0042-SECRET" not in raw and b"Jane Officer" not in raw and b"MAKERNOTE" not in raw
    assert result.taken_at is not None and (result.taken_at.year, result.taken_at.hour) == (2026, 10)
    assert result.taken_at.tzinfo is not None


# What a camera, phone app or editor may write outside EXIF: a JPEG comment (COM) and XMP (APP1).
_PRIVATE_NOTE = b"Owner Jane Officer, flat 3 keysafe 4471"
_XMP = (b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        b'<rdf:Description dc:creator="' + _PRIVATE_NOTE + b'"/></rdf:RDF></x:xmpmeta>')


def jpeg_segments(data: bytes) -> list[int]:
    """The markers of a JPEG's header segments, up to its scan."""
    markers, offset = [], 2
    while data[offset] == 0xFF and data[offset + 1] != 0xDA:
        markers.append(data[offset + 1])
        offset += 2 + int.from_bytes(data[offset + 2:offset + 4], "big")
    return markers


@pytest.mark.parametrize("subsampling", [2, 0], ids=["4:2:0", "4:4:4"])
@pytest.mark.parametrize("size", list(CAMERA_SIZES.values()), ids=list(CAMERA_SIZES))
def test_jpeg_comment_and_xmp_never_stored(tmp_path: Path, size: tuple[int, int], subsampling: int) -> None:
    """A comment or XMP packet in the source reaches neither the stored photo nor its thumbnail (only our EXIF does)."""
    source = tmp_path / "IMG_0002.jpg"
    samples.make_photo(size).save(source, "JPEG", quality=93, subsampling=subsampling, comment=_PRIVATE_NOTE, xmp=_XMP,
                                  exif=samples.camera_exif(1).tobytes())
    with Image.open(source) as opened:
        assert opened.info["comment"] == _PRIVATE_NOTE and "xmp" in opened.info  # what Pillow reads from the source
    result = import_photo(source, tmp_path / "photos", SMALL)
    for stored in (result.path.read_bytes(), result.thumbnail_path.read_bytes()):
        assert _PRIVATE_NOTE not in stored and b"xmpmeta" not in stored
        assert 0xFE not in jpeg_segments(stored)  # no COM segment, not even an empty one


def test_png_text_and_xmp_never_stored(tmp_path: Path) -> None:
    """A PNG's text chunks (author, description) and XMP are not stored with it."""
    from PIL import PngImagePlugin

    source = tmp_path / "screenshot.png"
    text = PngImagePlugin.PngInfo()
    text.add_text("Author", _PRIVATE_NOTE.decode())
    text.add_itxt("XML:com.adobe.xmp", _XMP.decode())
    Image.new("RGB", (500, 250), (10, 20, 30)).save(source, pnginfo=text)
    result = import_photo(source, tmp_path / "photos", SMALL)
    for stored in (result.path.read_bytes(), result.thumbnail_path.read_bytes()):
        assert _PRIVATE_NOTE not in stored and b"xmpmeta" not in stored


def test_gps_dropped_when_policy_says_so(camera_jpeg: Path, tmp_path: Path) -> None:
    """With keep_gps=False no GPS block is stored."""
    policy = PhotoPolicy(long_edge=400, thumbnail_edge=64, keep_gps=False)
    result = import_photo(camera_jpeg, tmp_path / "photos", policy)
    with Image.open(result.path) as stored:
        assert not stored.getexif().get_ifd(samples.GPS_IFD)


def test_same_photo_twice_is_the_same_file(camera_jpeg: Path, tmp_path: Path) -> None:
    """Importing one photo twice yields the same hash and path and no extra files."""
    photos = tmp_path / "photos"
    first = import_photo(camera_jpeg, photos, SMALL)
    files = all_files(photos)
    second = import_photo(camera_jpeg, photos, SMALL)
    assert second == first
    assert all_files(photos) == files and len(files) == 2


def test_png_screenshot_stays_png_with_alpha(tmp_path: Path) -> None:
    """A transparent PNG is stored as PNG (lossless), its thumbnail as JPEG."""
    source = tmp_path / "screenshot.png"
    Image.new("RGBA", (500, 250), (10, 20, 30, 128)).save(source)
    result = import_photo(source, tmp_path / "photos", SMALL)
    assert result.content_type == PNG and result.path.suffix == ".png"
    with Image.open(result.path) as stored:
        assert stored.format == "PNG" and stored.mode == "RGBA" and stored.size == (400, 200)
    assert result.thumbnail_path.exists()


def test_truncated_jpeg_refused(camera_jpeg: Path, tmp_path: Path) -> None:
    """A JPEG cut off part-way through is refused as incomplete, leaving nothing."""
    data = camera_jpeg.read_bytes()
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(data[: len(data) * 2 // 3])
    assert_refused(cut, tmp_path / "photos", "incomplete")


def test_truncated_jpeg_refused_even_if_pillow_was_told_to_accept(camera_jpeg: Path, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Someone else switching on LOAD_TRUNCATED_IMAGES does not let a cut-off photo in."""
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    data = camera_jpeg.read_bytes()
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(data[: len(data) // 2])
    assert_refused(cut, tmp_path / "photos", "incomplete")


def test_truncated_png_refused(tmp_path: Path) -> None:
    """A PNG cut off part-way through is refused too."""
    full = tmp_path / "full.png"
    samples.make_photo((300, 200)).save(full)
    cut = tmp_path / "cut.png"
    cut.write_bytes(full.read_bytes()[:-4000])
    assert_refused(cut, tmp_path / "photos", "damaged")


def test_zero_byte_file_refused(tmp_path: Path) -> None:
    """An empty file is refused with a message saying it is empty."""
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    assert_refused(empty, tmp_path / "photos", "empty")


def test_text_file_named_jpg_refused(tmp_path: Path) -> None:
    """A text file renamed to .jpg is refused as not a picture."""
    fake = tmp_path / "notes.jpg"
    fake.write_text("Visit notes: damp in the back bedroom.\n" * 50)
    assert_refused(fake, tmp_path / "photos", "not a picture")


def test_decompression_bomb_refused(tmp_path: Path) -> None:
    """A small file claiming more pixels than the policy allows is refused before decoding."""
    bomb = tmp_path / "bomb.png"
    Image.new("1", (12000, 12000)).save(bomb)  # 144 MP of one colour compresses to a few KB
    assert bomb.stat().st_size < 100_000
    assert_refused(bomb, tmp_path / "photos", "megapixels", PhotoPolicy(max_source_pixels=50_000_000))


def test_pillow_bomb_limit_is_a_refusal_not_a_warning(tmp_path: Path) -> None:
    """Past Pillow's own limit (warning or error) the import is refused, never just warned."""
    bomb = tmp_path / "bomb.png"
    Image.new("1", (10000, 10000)).save(bomb)
    generous = PhotoPolicy(max_source_pixels=10**12)
    old = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = 60_000_000  # 100 MP is between the warning and the error limit
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert_refused(bomb, tmp_path / "photos", "megapixels", generous)
    finally:
        Image.MAX_IMAGE_PIXELS = old


@pytest.mark.parametrize("fmt, name", [("GIF", "GIF"), ("BMP", "BMP"), ("TIFF", "TIFF"), ("WEBP", "WebP")])
def test_unsupported_formats_refused_by_name(tmp_path: Path, fmt: str, name: str) -> None:
    """GIF, BMP, TIFF and WebP are refused, naming the format and saying to use JPEG or PNG."""
    source = tmp_path / f"picture.{fmt.lower()}"
    Image.new("RGB", (50, 40), "blue").save(source, fmt)
    error = assert_refused(source, tmp_path / "photos", name)
    assert "JPEG or PNG" in str(error)


def test_heic_refused_by_name(tmp_path: Path) -> None:
    """An iPhone HEIC file is refused naming HEIC and how to get a JPEG instead."""
    heic = tmp_path / "IMG_0002.HEIC"
    heic.write_bytes(b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 500)
    error = assert_refused(heic, tmp_path / "photos", "HEIC")
    assert "Most Compatible" in str(error)


def test_missing_file_refused(tmp_path: Path) -> None:
    """A file that is gone (card removed) is refused with a clear message."""
    assert_refused(tmp_path / "gone.jpg", tmp_path / "photos", "no longer exists")


def test_unreadable_folder_refused(tmp_path: Path) -> None:
    """A folder passed as a photo is refused, not crashed on."""
    folder = tmp_path / "DCIM.jpg"
    folder.mkdir()
    assert_refused(folder, tmp_path / "photos", "cannot be read")


def test_file_too_large_refused(camera_jpeg: Path, tmp_path: Path) -> None:
    """A file over the policy's byte limit is refused before it is read."""
    assert_refused(camera_jpeg, tmp_path / "photos", "MB", PhotoPolicy(max_file_bytes=1000))


@pytest.mark.parametrize("failing", ["thumbnail", "photo"])
def test_failed_write_leaves_nothing(camera_jpeg: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                     failing: str) -> None:
    """If writing either file fails (disk full) while the other is written beside it, both and all temp files go."""
    import fieldapp.atomic as atomic_module

    real_replace = atomic_module.os.replace

    def failing_replace(src: str, dst: str) -> None:
        if ("thumbs" in str(dst)) == (failing == "thumbnail"):
            raise OSError(28, "No space left on device")
        real_replace(src, dst)

    monkeypatch.setattr(atomic_module.os, "replace", failing_replace)
    photos = tmp_path / "photos"
    with pytest.raises(PhotoError, match="No space left on device"):
        import_photo(camera_jpeg, photos, SMALL)
    assert all_files(photos) == []


def test_store_photo_bytes_verifies_hash_and_writes_thumbnail(camera_jpeg: Path, tmp_path: Path) -> None:
    """Downloaded bytes with the right hash are stored with a thumbnail; a wrong hash is refused, nothing written."""
    data = camera_jpeg.read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    photos = tmp_path / "photos"
    with pytest.raises(PhotoError, match="damaged"):
        store_photo_bytes(photos, "0" * 64, data)
    assert all_files(photos) == []
    path = store_photo_bytes(photos, sha, data, thumbnail_edge=64)
    assert path == photo_path(photos, sha, JPEG) and path.read_bytes() == data
    assert thumbnail_path(photos, sha).exists()


def test_store_photo_bytes_refuses_non_images(tmp_path: Path) -> None:
    """Bytes that are not JPEG or PNG are refused even when the hash matches."""
    data = b"<html>proxy login page</html>"
    with pytest.raises(PhotoError, match="neither JPEG nor PNG"):
        store_photo_bytes(tmp_path / "photos", hashlib.sha256(data).hexdigest(), data)
    assert all_files(tmp_path / "photos") == []


@pytest.mark.parametrize("mode, extra, stored_mode", [
    ("P", {"transparency": 0}, "RGBA"), ("LA", {}, "RGBA"), ("1", {}, "RGB"), ("L", {}, "L"), ("I;16", {}, "L"),
])
def test_png_modes_are_stored_in_a_portable_mode(tmp_path: Path, mode: str, extra: dict, stored_mode: str) -> None:
    """Palette, grey+alpha, 1-bit and 16-bit PNGs are stored as PNGs every viewer reads."""
    source = tmp_path / f"in-{mode.replace(';', '')}.png"
    Image.new(mode, (500, 250), 1 if mode == "1" else 0).save(source, **extra)
    result = import_photo(source, tmp_path / "photos", SMALL)
    with Image.open(result.path) as stored:
        assert stored.mode == stored_mode and stored.size == (400, 200)


@pytest.mark.parametrize("mode, key", [("RGB", (0, 0, 0)), ("L", 0)])
def test_png_transparent_colour_survives_scaling(tmp_path: Path, mode: str, key: tuple[int, int, int] | int) -> None:
    """An RGB or grey PNG's transparent colour (tRNS, no alpha band) is still marked once the picture is scaled."""
    source = tmp_path / f"key-{mode}.png"
    Image.new(mode, (500, 250), key).save(source, transparency=key)
    result = import_photo(source, tmp_path / "photos", SMALL)
    with Image.open(result.path) as stored:
        assert stored.size == (400, 200) and stored.info.get("transparency") == key


def test_16_bit_grey_keeps_its_tones(tmp_path: Path) -> None:
    """A mid-grey 16-bit PNG stays mid-grey (not clipped to white)."""
    source = tmp_path / "scan.png"
    Image.new("I;16", (300, 200), 32768).save(source)
    result = import_photo(source, tmp_path / "photos", SMALL)
    with Image.open(result.path) as stored:
        assert stored.getpixel((10, 10)) == 128


@pytest.mark.parametrize("size", CAMERA_SIZES.values(), ids=CAMERA_SIZES)
def test_jpeg_with_multi_picture_extension_is_imported(tmp_path: Path, size: tuple[int, int]) -> None:
    """A camera JPEG carrying a second picture (MPF: a preview or depth map; Pillow calls it MPO) stores the photo itself."""
    source = tmp_path / "DSCF0001.JPG"
    photo = Image.new("RGB", size, (220, 20, 20))
    photo.save(source, "MPO", save_all=True, append_images=[Image.new("RGB", (160, 120), (20, 20, 220))],
               exif=samples.camera_exif(6).tobytes())
    assert Image.open(source).format == "MPO"
    result = import_photo(source, tmp_path / "photos", SMALL)
    assert (result.content_type, result.width, result.height) == (JPEG, 300, 400)
    with Image.open(result.path) as stored:
        assert stored.format == "JPEG" and stored.getexif().get(samples.ORIENTATION) == 1
        red, green, blue = stored.convert("RGB").getpixel((150, 200))  # type: ignore[misc]
    assert red > 200 and green < 60 and blue < 60
    assert b"SN-0042-SECRET" not in result.path.read_bytes()


def test_cmyk_jpeg_is_stored_as_rgb(tmp_path: Path) -> None:
    """A CMYK JPEG (from print workflows) is stored as an RGB JPEG."""
    source = tmp_path / "cmyk.jpg"
    Image.new("CMYK", (500, 250), (0, 255, 255, 0)).save(source)
    result = import_photo(source, tmp_path / "photos", SMALL)
    with Image.open(result.path) as stored:
        assert stored.mode == "RGB"
        red, green, blue = stored.getpixel((10, 10))
        assert red > 200 and green < 80 and blue < 80


@pytest.mark.parametrize("bad", ["../../etc/passwd", "ab/../../x", "AB" * 32, "a", ""])
def test_paths_only_from_real_hashes(tmp_path: Path, bad: str) -> None:
    """A hash that is not lowercase hex (e.g. from a damaged or hostile portal) never becomes a path."""
    with pytest.raises(PhotoError, match="not a photo hash"):
        photo_path(tmp_path, bad, JPEG)
    with pytest.raises(PhotoError, match="not a photo hash"):
        thumbnail_path(tmp_path, bad)
