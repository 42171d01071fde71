"""Photo import: verify, rotate, scale, strip metadata, hash, thumbnail and store atomically.

A photo is decoded completely in memory before anything touches the disk, so a file
that cannot be imported (truncated, empty, not an image, a decompression bomb, an
unsupported format, too large) leaves nothing behind. Stored files are content
addressed (``photos/ab/<sha256>.jpg``, thumbnails under ``photos/thumbs/ab/``), written
through a temporary file in the same folder, fsynced and renamed into place, so the
same photo imported twice is the same file and a power cut never leaves half a photo.
"""

from __future__ import annotations

import hashlib
import io
import logging
import warnings
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from PIL import Image, ImageFile, UnidentifiedImageError

from fieldapp.atomic import write_atomic
from fieldapp.photo_files import JPEG, PNG, SUFFIX, photo_path, scratch_dir, thumbnail_path
from fieldapp.photo_policy import PhotoPolicy
from fieldapp.errors import PhotoError
from fieldapp.photo_encoding import encode_jpeg_rows
from fieldapp.photo_scaling import JPEG_SUBSAMPLING, DecodeFailed, Scaled, decode_scaled, shrunk
from fieldapp.photo_workers import workers

log = logging.getLogger(__name__)

_MB = 1024 * 1024

# EXIF tags (numbers from the EXIF 2.32 specification).
_ORIENTATION = 0x0112
_EXIF_IFD = 0x8769
_GPS_IFD = 0x8825
_DATETIME_ORIGINAL = 0x9003
_OFFSET_TIME_ORIGINAL = 0x9011

# How Pillow must turn the stored pixels upright for each EXIF orientation
# (the same table as ImageOps.exif_transpose, applied after scaling because it is cheaper).
_UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}

# Formats people commonly try; named so the message can say what the file is.
_FORMAT_NAMES = {"GIF": "GIF", "BMP": "BMP", "TIFF": "TIFF", "WEBP": "WebP", "ICO": "icon", "PSD": "Photoshop"}
_HEIC_BRANDS = (b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1", b"avif")
_WHAT_TO_DO = "Export or save it as JPEG or PNG (on an iPhone: Settings > Camera > Formats > Most Compatible) and import that file."


@dataclass(frozen=True)
class ImportedPhoto:
    """A photo stored in the content-addressed folder, as the core records it."""

    sha256: str
    path: Path
    thumbnail_path: Path
    content_type: str
    bytes: int
    width: int
    height: int
    taken_at: datetime | None


@dataclass(frozen=True)
class PreparedPhoto:
    """A photo verified, turned upright, scaled, stripped, encoded and hashed in memory; nothing on disk yet.

    Making one is the slow part of an import (hundreds of milliseconds of CPU); it needs
    no database and writes no file, so it can run beside saves and be dropped at any
    moment (a cancelled import) without leaving anything behind.
    """

    source: Path
    sha256: str
    content_type: str
    data: bytes = field(repr=False)
    thumbnail: bytes = field(repr=False)
    width: int
    height: int
    taken_at: datetime | None

    @property
    def size(self) -> int:
        """Bytes of the stored photo."""
        return len(self.data)


def prepare(source: Path, policy: PhotoPolicy | None = None, scratch: Path | None = None) -> PreparedPhoto:
    """Verify, rotate, scale, strip, encode and hash one photo file; raise PhotoError naming the file.

    ``scratch`` (the store's `scratch_dir`) holds the encode's temporary files; without it the
    photo is encoded in memory, on one core.
    """
    policy = policy or PhotoPolicy()
    source = Path(source)
    return prepare_data(source, _read_source(source, policy), policy, scratch)


def prepare_data(source: Path, data: bytes, policy: PhotoPolicy, scratch: Path | None = None) -> PreparedPhoto:
    """`prepare` for a photo already in memory (an annotated copy); ``source`` names it in messages."""
    image, fmt = _open_verified(source, data, policy)
    exif = _exif(source, image)
    icc = image.info.get("icc_profile")
    orientation = exif.get(_ORIENTATION, 1)
    taken_at = _taken_at(exif)
    upright = _UPRIGHT.get(orientation) if isinstance(orientation, int) else None
    scaled = _decode_scaled(source, image, policy.long_edge, upright, data, policy.thumbnail_edge)
    content_type = PNG if fmt == "PNG" else JPEG
    # The thumbnail is made on another core while the photo is encoded (unless decoding made its picture already),
    # from the smaller copy when it is big enough.
    if scaled.thumbnail is not None:
        thumb_source = scaled.thumbnail
    else:
        thumb_source = scaled.preview if max(scaled.preview.size) >= policy.thumbnail_edge else scaled.picture
    thumb_job = workers().submit(_thumbnail_bytes, thumb_source, policy.thumbnail_edge)
    stored = _encode(scaled, content_type, _kept_exif(exif, policy), icc, policy.quality, scratch)
    thumb = thumb_job.result()
    sha256 = hashlib.sha256(stored).hexdigest()
    return PreparedPhoto(source, sha256, content_type, stored, thumb, *scaled.size, taken_at)


def write_prepared(prepared: PreparedPhoto, photos_dir: Path) -> ImportedPhoto:
    """Store a prepared photo and its thumbnail atomically in the content-addressed folder."""
    path = photo_path(photos_dir, prepared.sha256, prepared.content_type)
    thumb_path = thumbnail_path(photos_dir, prepared.sha256)
    # The thumbnail is written on another thread meanwhile: the two files' disk flushes overlap.
    thumb_job = workers().submit(_write_once, thumb_path, prepared.thumbnail, None)
    created = thumb_created = False
    try:
        try:
            created = _write_once(path, prepared.data, prepared.sha256)
        finally:
            thumb_created = thumb_job.result()  # waited for even when the photo failed, so it can be removed
    except BaseException as exc:
        # never leave half an import: a photo without its thumbnail, or a thumbnail without its photo
        for made, written in ((created, path), (thumb_created, thumb_path)):
            if made:
                written.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise PhotoError(f"{prepared.source.name} could not be saved in {photos_dir} ({exc.strerror or exc}). "
                             "Free some disk space (or ask IT to check the folder's permissions) and import it again.",
                             str(prepared.source)) from exc
        raise
    log.info("Imported photo %s as %s (%dx%d, %d bytes)", prepared.source.name, prepared.sha256, prepared.width,
             prepared.height, prepared.size)
    return ImportedPhoto(prepared.sha256, path, thumb_path, prepared.content_type, prepared.size, prepared.width,
                         prepared.height, prepared.taken_at)


def import_photo(source: Path, photos_dir: Path, policy: PhotoPolicy | None = None) -> ImportedPhoto:
    """Import one photo file; raise PhotoError naming the file when it cannot be imported."""
    return write_prepared(prepare(source, policy, scratch_dir(photos_dir)), photos_dir)


def store_photo_bytes(photos_dir: Path, sha256: str, data: bytes, thumbnail_edge: int = 320) -> Path:
    """Keep a downloaded photo after checking its hash and that it decodes; also write its thumbnail."""
    actual = hashlib.sha256(data).hexdigest()
    if actual != sha256:
        raise PhotoError(f"The downloaded photo {sha256} is damaged (its contents hash to {actual}); sync again to fetch it.")
    content_type = JPEG if data[:3] == b"\xff\xd8\xff" else PNG if data[:8] == b"\x89PNG\r\n\x1a\n" else None
    if content_type is None:
        raise PhotoError(f"The downloaded photo {sha256} is neither JPEG nor PNG; ask the portal administrator to check it.")
    label = Path(f"{sha256}{SUFFIX[content_type]}")
    image, _ = _open_verified(label, data, PhotoPolicy())
    thumb = _thumbnail_bytes(_decode_scaled(label, image, thumbnail_edge * 2).picture, thumbnail_edge)
    path = photo_path(photos_dir, actual, content_type)
    _write_once(path, data, actual)
    _write_once(thumbnail_path(photos_dir, actual), thumb, None)
    return path


def _read_source(source: Path, policy: PhotoPolicy) -> bytes:
    """Read the whole file, refusing missing, empty and oversized files with a clear message."""
    try:
        size = source.stat().st_size
        if size > policy.max_file_bytes:
            raise PhotoError(
                f"{source.name} is {size / _MB:.0f} MB, more than the {policy.max_file_bytes / _MB:.0f} MB a photo may be. "
                "Export a smaller copy (most cameras and phones can) and import that.", str(source))
        with source.open("rb") as handle:
            data = handle.read(policy.max_file_bytes + 1)
    except PhotoError:
        raise
    except FileNotFoundError:
        raise PhotoError(f"{source} no longer exists. Check the file is still there (and the card or phone still connected).",
                         str(source)) from None
    except OSError as exc:
        raise PhotoError(f"{source} cannot be read ({exc.strerror or exc}). Copy it to this computer and import the copy.",
                         str(source)) from None
    if not data:
        raise PhotoError(f"{source.name} is empty (0 bytes); the copy from the camera or phone probably failed. Copy it again.",
                         str(source))
    return data


def _open_verified(source: Path, data: bytes, policy: PhotoPolicy) -> tuple[Image.Image, str]:
    """Identify the image, allowing only JPEG and PNG within the pixel limit (nothing decoded yet)."""
    if data[4:8] == b"ftyp" and data[8:12] in _HEIC_BRANDS:
        raise PhotoError(f"{source.name} is a HEIC/HEIF photo, which Fieldapp cannot read. {_WHAT_TO_DO}", str(source))
    try:
        with warnings.catch_warnings():
            # Pillow warns (rather than fails) between its limit and twice it: treat both as a bomb.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _bomb(source, None, policy) from None
    except UnidentifiedImageError:
        raise PhotoError(f"{source.name} is not a picture Fieldapp can read (it may be a document or a damaged file renamed "
                         f"to look like a photo). {_WHAT_TO_DO}", str(source)) from None
    except (OSError, ValueError, SyntaxError) as exc:
        raise _damaged(source, exc) from None
    fmt = image.format or ""
    if fmt == "MPO":
        # A JPEG carrying the multi-picture extension (many cameras and phones add a preview or a depth
        # map): Pillow names it MPO, and reads its first picture, the photo itself, as a JPEG.
        fmt = "JPEG"
    if fmt not in ("JPEG", "PNG"):
        name = _FORMAT_NAMES.get(fmt, fmt or "unknown")
        raise PhotoError(f"{source.name} is a {name} image; Fieldapp only accepts JPEG and PNG photos. {_WHAT_TO_DO}", str(source))
    width, height = image.size
    if width <= 0 or height <= 0 or width * height > policy.max_source_pixels:
        raise _bomb(source, image.size, policy)
    return image, fmt


def _exif(source: Path, image: Image.Image) -> Image.Exif:
    """The photo's EXIF; reading it may decode a PNG whose EXIF follows the pixels."""
    try:
        return image.getexif()
    except (OSError, ValueError, SyntaxError, EOFError) as exc:
        raise _damaged(source, exc) from None


def _decode_scaled(source: Path, image: Image.Image, long_edge: int, upright: Image.Transpose | None = None,
                   data: bytes | None = None, thumbnail_edge: int | None = None) -> Scaled:
    """Decode the whole file, scale it so its long edge is at most ``long_edge`` and turn it upright."""
    if ImageFile.LOAD_TRUNCATED_IMAGES:
        # Something in the process switched on Pillow's "accept truncated files": a cut-off
        # photo would then be stored with a grey band, so switch it back off.
        log.warning("Pillow's LOAD_TRUNCATED_IMAGES was on; switching it off so damaged photos are refused")
        ImageFile.LOAD_TRUNCATED_IMAGES = False
    try:
        return decode_scaled(image, data, long_edge, upright, thumbnail_edge)
    except DecodeFailed as exc:
        raise _damaged(source, exc.__cause__ or exc) from None


# Pillow writes the source's JPEG comment (COM) into every JPEG saved from its pixels unless
# told otherwise; a comment is free text ("Owner Jane Officer, flat 3 keysafe 4471"), outside
# the EXIF rules of `_kept_exif`. Given empty, none is written.
_NO_COMMENT = {"comment": b""}


def _encode(scaled: Scaled, content_type: str, exif: Image.Exif, icc: bytes | None, quality: int,
            scratch: Path | None) -> bytes:
    """Encode the stored photo: JPEG for camera photos, PNG kept lossless (screenshots, documents)."""
    extra = {"icc_profile": icc} if icc else {}
    if content_type == JPEG:
        extra.update(_NO_COMMENT)
        # on two cores, while the thumbnail is made (or only encoded) on a third thread
        return encode_jpeg_rows(scaled.size[1], scaled.mode, scaled.rows, quality=quality, subsampling=JPEG_SUBSAMPLING,
                                scratch=scratch, exif=exif.tobytes(), **extra)
    out = io.BytesIO()
    scaled.picture.save(out, "PNG", exif=exif.tobytes(), compress_level=6, **extra)
    return out.getvalue()


def _thumbnail_bytes(image: Image.Image, edge: int) -> bytes:
    """A small JPEG for lists and galleries (transparent PNGs are shown on white)."""
    thumb = shrunk(image, edge)
    if thumb.mode not in ("RGB", "L", "YCbCr"):  # YCbCr: a scaled camera photo, stored as JPEG as it is
        background = Image.new("RGB", thumb.size, "white")
        background.paste(thumb, mask=thumb.getchannel("A") if "A" in thumb.getbands() else None)
        thumb = background
    out = io.BytesIO()
    thumb.save(out, "JPEG", quality=80, **_NO_COMMENT)
    return out.getvalue()


def _kept_exif(source: Image.Exif, policy: PhotoPolicy) -> Image.Exif:
    """Build fresh EXIF holding only what policy keeps: when it was taken, and GPS if allowed.

    Starting from an empty block (rather than deleting tags) means serial numbers, maker
    notes, owner names and thumbnails of the original never survive, whatever the camera wrote.
    """
    kept = Image.Exif()
    kept[_ORIENTATION] = 1  # the pixels are now upright
    source_exif_ifd = source.get_ifd(_EXIF_IFD)
    taken = {tag: source_exif_ifd[tag] for tag in (_DATETIME_ORIGINAL, _OFFSET_TIME_ORIGINAL) if tag in source_exif_ifd}
    if taken:
        kept.get_ifd(_EXIF_IFD).update(taken)
    if policy.keep_gps:
        gps = source.get_ifd(_GPS_IFD)
        if gps:
            kept.get_ifd(_GPS_IFD).update(gps)
    return kept


def _taken_at(exif: Image.Exif) -> datetime | None:
    """When the photo was taken, from EXIF DateTimeOriginal; camera clocks are local time."""
    ifd = exif.get_ifd(_EXIF_IFD)
    raw = ifd.get(_DATETIME_ORIGINAL)
    if not isinstance(raw, str):
        return None
    try:
        moment = datetime.strptime(raw.strip("\x00 ")[:19], "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None  # cameras with an unset clock write "0000:00:00 00:00:00"
    offset = ifd.get(_OFFSET_TIME_ORIGINAL)
    if isinstance(offset, str) and len(offset) >= 6 and offset[0] in "+-":
        try:
            delta = timedelta(hours=int(offset[1:3]), minutes=int(offset[4:6]))
            return moment.replace(tzinfo=timezone(delta if offset[0] == "+" else -delta))
        except ValueError:
            pass
    return moment.astimezone()  # no offset recorded: the laptop's time zone is the best guess


def _write_once(path: Path, data: bytes, sha256: str | None) -> bool:
    """Write ``data`` atomically unless an identical file is there; True when a file was created."""
    if path.exists():
        existing = path.read_bytes()
        if existing == data or (sha256 is not None and hashlib.sha256(existing).hexdigest() == sha256):
            return False  # the same photo imported again: content addressing makes it the same file
    write_atomic(path, data)
    return True


def _damaged(source: Path, exc: BaseException) -> PhotoError:
    log.info("Refused damaged photo %s: %s", source, exc)
    return PhotoError(f"{source.name} is damaged or incomplete ({exc}); the copy from the camera or phone probably "
                      "did not finish. Copy the photo again and import the new copy.", str(source))


def _bomb(source: Path, size: tuple[int, int] | None, policy: PhotoPolicy) -> PhotoError:
    what = f"{size[0]}x{size[1]} pixels" if size else "far too many pixels"
    return PhotoError(f"{source.name} claims {what}, more than the {policy.max_source_pixels / 1e6:.0f} megapixels "
                      "a photo may have; it may be a damaged or malicious file. Import the original photo instead.",
                      str(source))
