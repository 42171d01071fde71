"""Photos scaled for print: a letter carries what a printer needs, not the camera's full size.

A photo prints 78 mm wide at most; 640 pixels there is about 210 dpi, sharp on paper, so
the long edge is capped at 640 px. A stored photo is 2560 px (about 1 MB): scaled, it is
about 50 KB, and six of them keep a letter small enough to email. JPEG ``draft()`` decodes
a 2560 px photo straight at 1/4 size (640 px), so no resampling is left to do: that is
what keeps six photos well inside the 500 ms budget (measured on a busy 2-core machine:
60 ms a photo decoded at 1/2 size and resampled, 15 ms decoded at 1/4).
"""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from fieldapp.letter.errors import LetterPhotoError
from fieldapp.letter.facts import LetterPhoto

PRINT_LONG_EDGE = 640
PRINT_QUALITY = 80


def print_jpeg(source: Path | bytes, photo: LetterPhoto) -> tuple[bytes, int, int]:
    """The photo as a print-sized JPEG, with its width and height in pixels."""
    try:
        with Image.open(io.BytesIO(source) if isinstance(source, bytes) else source) as opened:
            image: Image.Image = opened
            # draft() wants the target size itself: it shrinks only while both sides stay at least that big.
            scale = min(1.0, PRINT_LONG_EDGE / max(image.size))
            image.draft("RGB", (max(1, int(image.width * scale)), max(1, int(image.height * scale))))
            image = ImageOps.exif_transpose(image)
            if image.mode != "RGB":
                image = image.convert("RGB")
            image.thumbnail((PRINT_LONG_EDGE, PRINT_LONG_EDGE), Image.Resampling.BILINEAR, reducing_gap=2.0)
            out = io.BytesIO()
            image.save(out, "JPEG", quality=PRINT_QUALITY, optimize=False)
            return out.getvalue(), image.width, image.height
    except FileNotFoundError:
        raise missing_photo(photo) from None
    except (OSError, UnidentifiedImageError, Image.DecompressionBombError) as exc:
        raise LetterPhotoError(
            f"The photo {_name(photo)} cannot be read ({exc.__class__.__name__}). Remove it from the visit, "
            "or attach it again, then make the letter.", {"hashes": [photo.sha256], "photo_id": photo.id}) from None


def missing_photo(photo: LetterPhoto) -> LetterPhotoError:
    """The error for a photo whose file is not here."""
    return LetterPhotoError(
        f"The photo {_name(photo)} is not available here, so the letter cannot show it. Sync to fetch it "
        "(or upload it again), then make the letter.", {"hashes": [photo.sha256], "photo_id": photo.id})


def _name(photo: LetterPhoto) -> str:
    return f"{photo.caption!r}" if photo.caption else f"{photo.id}"
