"""The annotated copy of a photo: the officer's marks burnt into a new photo; the original is never touched.

The marks are drawn with Pillow on a decoded copy of the stored photo, each over a
halo of the opposite lightness (`fieldapp.photos_marks.COLOURS`), at sizes that follow
the photo's size. The result is then imported like any photo file — the same
verification, policy (size, quality), EXIF rules and hashing (`fieldapp.photos.prepare_data`)
— so an annotated copy can never carry more metadata than the policy lets a photo keep.
Everything here is CPU work on bytes in memory, safe on a background thread.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from fieldapp.errors import PhotoError
from fieldapp.limits import CAPTION_MAX_CHARS
from fieldapp.photo_policy import PhotoPolicy
from fieldapp.photos import PreparedPhoto, prepare_data
from fieldapp.photos_marks import (
    COLOURS_BY_NAME,
    Mark,
    MarkKind,
    MarkStyle,
    Point,
    arrow_geometry,
    ellipse_box,
    validate_marks,
)
from fieldapp.resources import resource_path

#: The face of text marks: the bundled one the tenant's letter uses, so every name prints alike everywhere.
FONT_FILE = ("fonts", "DejaVuSans-Bold.ttf")
#: The intermediate JPEG is encoded this finely so that the import's own re-encode (at
#: the policy's quality) is the only visible loss; a PNG photo stays lossless throughout.
_INTERMEDIATE_QUALITY = 95


@lru_cache(maxsize=8)
def mark_font(size_px: int) -> ImageFont.FreeTypeFont:
    """The text marks' font at a pixel size (cached: loading a TrueType file takes milliseconds)."""
    return ImageFont.truetype(str(resource_path(*FONT_FILE)), size_px)


def annotated_caption(number: int, source_caption: str) -> str:
    """The caption of an annotated copy: which photo it marks up (what the lead sees), with that photo's caption."""
    caption = f"Annotated copy of photo {number}" + (f": {source_caption}" if source_caption else "")
    return caption if len(caption) <= CAPTION_MAX_CHARS else caption[:CAPTION_MAX_CHARS - 1] + "…"


def read_original(path: Path, sha256: str) -> bytes:
    """The stored photo's bytes, refused if they no longer hash to its name (a damaged file is never annotated)."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise PhotoError(f"The photo file {Path(path).name} cannot be read ({exc.strerror or exc}); "
                         "sync again to fetch it, then annotate it.", str(path)) from None
    if hashlib.sha256(data).hexdigest() != sha256:
        raise PhotoError(f"The photo file {Path(path).name} is damaged (it no longer matches its fingerprint), "
                         "so it cannot be annotated. Sync to fetch it again.", str(path))
    return data


#: The long edge of the copy shown to draw on: sharp on any laptop screen, and a photo
#: stored at the policy's largest edge (8192 px, 200 MB as a screen image) stays small.
SCREEN_EDGE = 3072


@dataclass(frozen=True)
class PhotoPixels:
    """A stored photo decoded to 8-bit RGB for the screen, rows top to bottom, and the photo's own size.

    Marks are placed in the photo's pixels; the screen copy may be smaller.
    """

    rgb: bytes = field(repr=False)
    width: int
    height: int
    photo_width: int
    photo_height: int


def decode_pixels(path: Path, sha256: str, max_edge: int | None = None) -> PhotoPixels:
    """Decode the stored photo for the screen with Pillow, off the GUI thread (transparent parts on white)."""
    max_edge = max_edge or SCREEN_EDGE
    image = _decoded(read_original(path, sha256))
    size = image.size
    if "A" in image.getbands():
        background = Image.new("RGB", image.size, "white")
        background.paste(image, mask=image.getchannel("A"))
        image = background
    image = image.convert("RGB")
    if max(size) > max_edge:
        image.thumbnail((max_edge, max_edge), Image.Resampling.BILINEAR)
    return PhotoPixels(image.tobytes(), image.width, image.height, *size)


def _decoded(data: bytes) -> Image.Image:
    """A stored photo decoded in full (it was verified at import; a failure here means the file was damaged since)."""
    try:
        image = Image.open(io.BytesIO(data))
        image.load()
    except (OSError, ValueError, SyntaxError) as exc:
        raise PhotoError(f"The photo cannot be opened ({exc}). Sync to fetch it again.") from None
    return image


def draw_marks(image: Image.Image, marks: Sequence[Mark]) -> Image.Image:
    """A copy of ``image`` with the marks drawn on it, in order (later marks on top)."""
    canvas = image.convert("RGBA" if "A" in image.getbands() else "RGB")
    draw = ImageDraw.Draw(canvas)
    style = MarkStyle.for_image(*canvas.size)
    for mark in marks:
        colour = COLOURS_BY_NAME[mark.colour]
        # The halo goes first and wider, so the colour sits inside a contrasting edge.
        _draw(draw, mark, style, colour.halo, style.halo)
        _draw(draw, mark, style, colour.rgb, 0.0)
    return canvas


def _draw(draw: ImageDraw.ImageDraw, mark: Mark, style: MarkStyle, fill: tuple[int, int, int], grow: float) -> None:
    """One pass of a mark: the halo pass grows every stroke by ``grow`` on each side."""
    width = round(style.stroke + 2 * grow)
    if mark.kind is MarkKind.TEXT:
        draw.text(mark.points[0], mark.text.strip(), font=mark_font(style.font_px), fill=fill, anchor="la",
                  stroke_width=round(grow), stroke_fill=fill)
    elif mark.kind is MarkKind.ELLIPSE:
        # Pillow draws an outline inside its box: grow the box by half the width to centre the stroke on the shape.
        left, top, right, bottom = ellipse_box(mark)
        half = width / 2
        draw.ellipse((left - half, top - half, right + half, bottom + half), outline=fill, width=width)
    elif mark.kind is MarkKind.ARROW:
        shaft_end, head = arrow_geometry(mark.points[0], mark.points[1], style)
        _polyline(draw, (mark.points[0], shaft_end), fill, width)
        draw.polygon(head, fill=fill)
        if grow:
            draw.line(head + head[:1], fill=fill, width=round(2 * grow), joint="curve")
    else:
        _polyline(draw, mark.points, fill, width)


def _polyline(draw: ImageDraw.ImageDraw, points: Sequence[Point], fill: tuple[int, int, int], width: int) -> None:
    """A thick line with rounded joints and ends (Pillow's own ends are square)."""
    draw.line(list(points), fill=fill, width=width, joint="curve")
    radius = width / 2
    for x, y in (points[0], points[-1]):
        draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=fill)


def annotated_copy(original: bytes, marks: Sequence[Mark], policy: PhotoPolicy, label: str,
                   scratch: Path | None = None) -> PreparedPhoto:
    """The annotated copy of a stored photo, prepared as an import (nothing on disk yet but ``scratch``'s temporary files).

    The original's EXIF goes along into the intermediate file so that the import keeps
    what the policy keeps (when it was taken; GPS if allowed) and drops the rest.
    """
    source = Path(label)
    image = _decoded(original)
    validate_marks(marks, image.width, image.height)
    drawn = draw_marks(image, marks)
    out = io.BytesIO()
    extra = {"icc_profile": image.info["icc_profile"]} if image.info.get("icc_profile") else {}
    if image.format == "PNG":
        drawn.save(out, "PNG", exif=image.getexif().tobytes(), compress_level=1, **extra)
    else:
        drawn.save(out, "JPEG", quality=_INTERMEDIATE_QUALITY, exif=image.getexif().tobytes(), **extra)
    return prepare_data(source, out.getvalue(), policy, scratch)
