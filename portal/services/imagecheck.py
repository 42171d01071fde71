"""The portal's check of an uploaded photo: decode its header with Pillow before it is complete.

Magic bytes alone let through HTML behind a JPEG prefix and a 20000x20000 bomb that
a visit declared 20x20. Here the header must parse as JPEG or PNG, its size must be
within what any photo policy stores (``fieldapp.limits.PHOTO_MAX_EDGE``), and the data
must decode: a JPEG is decoded at 1/8 scale (``draft``, a few milliseconds for a
2560 px photo), a PNG has every chunk's checksum verified without inflating pixels.
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
                    image.draft(image.mode, (max(1, width // 8), max(1, height // 8)))
                    image.load()
                else:
                    image.verify()
            except (OSError, SyntaxError, ValueError, Image.DecompressionBombWarning) as exc:
                raise _unsupported(f"its data does not decode: {exc}") from None
    return facts


def _too_large(what: str, max_edge: int) -> ApiError:
    return ApiError(
        422, ErrorCode.IMAGE_TOO_LARGE,
        f"This photo has {what}; the portal accepts photos of at most {max_edge} pixels on the long edge. "
        "Import it again on the laptop (it scales photos down) and sync.",
        {"max_edge": max_edge},
    )
