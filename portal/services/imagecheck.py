"""The portal's check of an uploaded photo: parse its header with Pillow before it is complete.

Magic bytes alone let through HTML behind a JPEG prefix and a 20000x20000 bomb that
a visit declared 20x20. Here the header must parse as JPEG or PNG, its size must be
within what any photo policy stores (``fieldapp.limits.PHOTO_MAX_EDGE``), and the data
must be whole: a JPEG's segments are walked to its first scan, and an end-of-image
marker must follow it (``jpeg_problem``); a PNG has every chunk's checksum verified
without inflating pixels.

Why a JPEG is walked, not decoded: decoding even at 1/8 scale runs the entropy decoder
over every byte (8 ms for a 0.6 MB photo, four times the rest of an upload), yet
libjpeg decodes garbage inside the entropy-coded data without complaint; what a decode
caught that the walk does not miss is a cut-off file. Why the walk stops at the first
scan: searching the image data for the marker that ends it (about 0.3 ms a photo, a tenth
of the portal's CPU for an upload) caught beyond a cut-off file only a malformed table
between a progressive JPEG's scans, which a decoder takes as it takes corrupt image
data; an end-of-image marker after the scan has begun (0xFF 0xD9 never occurs inside
image data) tells a cut-off file in no time.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import BinaryIO

from PIL import Image, UnidentifiedImageError

from portal.errors import ApiError
from sync.protocol import ErrorCode

_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png"}


@dataclass(frozen=True)
class ImageFacts:
    """What the header says: the content type and the pixel size."""

    content_type: str
    width: int
    height: int


def _unsupported(reason: str) -> ApiError:
    return ApiError(415, ErrorCode.UNSUPPORTED_MEDIA, f"This upload is not a usable JPEG or PNG photo ({reason}); "
                    "import the photo again on the laptop and sync.")


def inspect_image(handle: BinaryIO, max_edge: int) -> ImageFacts:
    """The image's facts, or 415 unsupported_media / 422 image_too_large with a sentence saying why."""
    with warnings.catch_warnings():
        # Pillow warns (and past twice its limit raises) on huge images; our own limit is far lower.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(handle, formats=tuple(_TYPES))
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise _too_large("far too many pixels", max_edge) from None
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
            raise _unsupported(f"its header is not a JPEG or PNG header: {exc}") from None
        with image:
            width, height = image.size
            if width < 1 or height < 1:
                raise _unsupported("it has no pixels")
            if max(width, height) > max_edge:
                raise _too_large(f"{width}x{height} pixels", max_edge)
            facts = ImageFacts(_TYPES[str(image.format)], width, height)
            try:
                if image.format == "JPEG":
                    handle.seek(0)
                    problem = jpeg_problem(handle.read())
                    if problem:
                        raise ValueError(problem)
                else:
                    image.verify()
            except (OSError, SyntaxError, ValueError, Image.DecompressionBombWarning) as exc:
                raise _unsupported(f"its data does not decode: {exc}") from None
    return facts


_SOI, _EOI, _SOS = 0xD8, 0xD9, 0xDA
#: The end-of-image marker: in image data 0xFF is followed only by 0x00 (a stuffed byte) or a restart marker.
_END_OF_IMAGE = bytes((0xFF, _EOI))
_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})


def jpeg_problem(data: bytes) -> str | None:
    """Why ``data`` is not a whole JPEG stream (None when it is): every segment in bounds up to the first scan, an EOI after it.

    Walks the marker segments to the first start-of-scan; from there on an end-of-image
    marker must follow (the module's docstring says why the scans are not walked). Bytes
    after the end-of-image marker are allowed (as every decoder allows them).
    """
    if data[:2] != b"\xff\xd8":
        return "no start-of-image marker"
    pos, size = 2, len(data)
    while True:
        while pos < size and data[pos] == 0xFF and pos + 1 < size and data[pos + 1] == 0xFF:
            pos += 1  # fill bytes before a marker
        if pos + 2 > size:
            return "the file ends before its end-of-image marker (it is cut off)"
        if data[pos] != 0xFF:
            return f"no marker where one must be (byte {pos})"
        marker = data[pos + 1]
        if marker == _EOI:
            return None
        if marker == _SOI or marker in _STANDALONE:
            pos += 2
            continue
        if pos + 4 > size:
            return "the file ends inside a segment (it is cut off)"
        end = pos + 2 + int.from_bytes(data[pos + 2:pos + 4], "big")
        if end > size or end < pos + 4:
            return "a segment runs past the end of the file (it is cut off)"
        pos = end
        if marker == _SOS:
            # Searched from the end: an end marker in a header segment (an EXIF thumbnail's) lies before ``pos``.
            if data.rfind(_END_OF_IMAGE, pos) < 0:
                return "the file ends inside its image data (it is cut off)"
            return None


def _too_large(what: str, max_edge: int) -> ApiError:
    return ApiError(
        422, ErrorCode.IMAGE_TOO_LARGE,
        f"This photo has {what}; the portal accepts photos of at most {max_edge} pixels on the long edge. "
        "Import it again on the laptop (it scales photos down) and sync.",
        {"max_edge": max_edge},
    )
