"""Decode a photo and scale it to the policy's long edge, turned upright: the CPU-heavy part of an import.

A 12-megapixel camera JPEG (4:2:0, as phones write) shrunk to 2560 px (0.64x) is decoded twice, never as full RGB:
its brightness (luma) at full size, which libjpeg decodes in under half the time of the
full RGB decode, and its colour at half size, which libjpeg's DCT scaling gives at
almost no cost. Only the luma is resampled at full size; colour is resampled at half
size because the stored JPEG keeps colour at half size (4:2:0) anyway. The two decodes run
on two cores, and the luma's resample is shared out in bands to whichever is free. Everything else (PNG, grey, CMYK, RGB-coded, 4:2:2 or 4:4:4 JPEGs, other scales) is
decoded whole and resampled in horizontal bands on several cores.

Decoding errors (truncated or corrupt data) are raised as `DecodeFailed`, so the caller
can tell the officer the file is damaged.
"""

from __future__ import annotations

import io
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from PIL import Image, JpegImagePlugin

from fieldapp.photo_encoding import rows_of
from fieldapp.photo_workers import workers

# HAMMING costs what BILINEAR costs (a 1-pixel kernel, widened when shrinking, so it
# antialiases) but is sharper; BICUBIC/LANCZOS would double the import time. BOX is a
# third cheaper but, at the usual 1.5625x shrink of a camera photo to 2560 px, aliases
# fine regular detail (brickwork, mesh, fabric) into moire: 1-pixel stripes shrunk from
# 625 to 400 px keep a grey standard deviation of 84 (HAMMING 47, BILINEAR 12, NEAREST
# 127) and a zone plate is 17 dB PSNR against LANCZOS (HAMMING 23 dB). Not for evidence.
RESAMPLE = Image.Resampling.HAMMING
#: Chroma subsampling of every stored JPEG: colour at half width and height (libjpeg's default, made explicit
#: because the luma/colour path builds its colour planes at exactly that size).
JPEG_SUBSAMPLING = "4:2:0"

_DECODE_ERRORS = (OSError, ValueError, SyntaxError, EOFError, MemoryError)
_RGB_COMPONENT_IDS = [ord("R"), ord("G"), ord("B")]
# Sampling factors (horizontal, vertical) of luma, Cb and Cr in a 4:2:0 JPEG, as phones write them. Only
# there does libjpeg's half-size decode give colour at its full stored detail: from 4:2:2 it loses half
# the colour's width (measured: up to 35 levels off at colour edges), and from 4:4:4 the whole decode is
# closer to the source (mean 0.7 against 1.3 levels).
_COLOUR_AT_HALF_SIZE = [(2, 2), (1, 1), (1, 1)]


class DecodeFailed(Exception):
    """The image data could not be decoded (truncated or corrupt); the cause is chained."""


@dataclass(frozen=True)
class Scaled:
    """The decoded photo at its stored size, upright, and a copy of it at least half that size for the thumbnail.

    ``rows(top, bottom)`` makes those rows of the picture as a picture of their own, on the
    thread that asks: the encoder's two threads each make their half at once, and the
    luma/colour path assembles its picture from its planes only then, never whole.
    The luma/colour path has the half-size copy anyway (the picture its colour came from),
    so the thumbnail needs no resampling of the full picture; elsewhere it is the picture.
    There the thumbnail's picture (``thumbnail``, when asked for) is made too, by the colour's
    thread before it helps with the luma: not beside the encoder's two threads on two cores.
    """

    size: tuple[int, int]
    mode: str
    rows: Callable[[int, int], Image.Image]
    preview: Image.Image
    thumbnail: Image.Image | None = None

    @classmethod
    def whole(cls, picture: Image.Image) -> Scaled:
        """A picture decoded whole: its own rows and preview."""
        return cls(picture.size, picture.mode, partial(rows_of, picture), picture)

    @property
    def picture(self) -> Image.Image:
        """All rows in one picture (on the luma/colour path, assembled anew each time)."""
        return self.rows(0, self.size[1])


def decode_scaled(image: Image.Image, data: bytes | None, long_edge: int,
                  upright: Image.Transpose | None = None, thumbnail_edge: int | None = None) -> Scaled:
    """Decode ``image`` (opened from ``data``), scale its long edge to at most ``long_edge``, turn it upright.

    ``data`` (the file's bytes) lets a YCbCr JPEG take the luma/colour path; without it
    the picture is decoded whole. ``thumbnail_edge`` asks that path for the thumbnail's
    picture too. Raises `DecodeFailed` for truncated or corrupt data.
    """
    width, height = image.size
    scale = min(1.0, long_edge / max(width, height))
    target = (max(1, round(width * scale)), max(1, round(height * scale)))
    if data is not None and 0.5 < scale < 1 and _switched_to_luma(image, target):
        return _scale_jpeg_planes(image, data, target, upright, thumbnail_edge)
    try:
        if isinstance(image, JpegImagePlugin.JpegImageFile) and scale <= 0.5:
            # libjpeg decodes straight to 1/2, 1/4 or 1/8 size: the smallest that is still >= target.
            image.draft(image.mode, target)
        image.load()  # full decode: raises on truncated or corrupt data
    except _DECODE_ERRORS as exc:
        raise DecodeFailed(str(exc)) from exc
    image = _normalise_mode(image)
    if image.size == target:
        picture = image.transpose(upright) if upright is not None else image
    else:
        picture = _resize_banded(image, target, upright)
    return Scaled.whole(picture)


def _switched_to_luma(image: Image.Image, target: tuple[int, int]) -> bool:
    """Set a YCbCr JPEG to decode its luma only, for the luma/colour path; False (image untouched) for any other.

    YCbCr is libjpeg's own rule: JFIF, else Adobe's transform, else the component ids. An
    even target keeps the colour planes on the stored JPEG's 2x2 grid in every orientation.
    Only 4:2:0 sources qualify (see `_COLOUR_AT_HALF_SIZE`).
    """
    if not isinstance(image, JpegImagePlugin.JpegImageFile) or image.mode != "RGB" or len(image.layer) != 3:
        return False
    if [layer[1:3] for layer in image.layer] != _COLOUR_AT_HALF_SIZE or target[0] % 2 or target[1] % 2:
        return False
    if "jfif" in image.info:
        ycbcr = True
    elif "adobe" in image.info:
        ycbcr = image.info.get("adobe_transform") == 1
    else:
        ycbcr = [layer[0] for layer in image.layer] != _RGB_COMPONENT_IDS
    # luma only: libjpeg then skips the colour's inverse DCT and conversion
    return ycbcr and image.draft("L", None) is not None


def _scale_jpeg_planes(image: Image.Image, data: bytes, target: tuple[int, int],
                       upright: Image.Transpose | None, thumbnail_edge: int | None) -> Scaled:
    """Scale a YCbCr JPEG (set to decode luma) from its full-size luma and half-size colour: YCbCr of ``target`` size.

    The colour is resampled to half the target size (see `_Planes`), without the full-size
    RGB decode and resample the stored file could not keep. The colour's thread (decode,
    resample, the thumbnail's shrink: 72 ms of processor, the luma's decode 37) then takes
    bands of the luma's resample too, so both cores stay busy whichever is done first.
    """
    luma = _Bands(target, upright)
    colour = workers().submit(_colour_then_help, data, image.size, target, upright, thumbnail_edge, luma)
    try:
        image.load()
    except _DECODE_ERRORS as exc:
        raise DecodeFailed(str(exc)) from exc
    luma.offer(image)
    luma_picture = luma.finish()
    colour_picture, thumbnail = colour.result()
    planes = _Planes(luma_picture, colour_picture)
    return Scaled(planes.size, "YCbCr", planes.rows, colour_picture, thumbnail)


def _colour_then_help(data: bytes, size: tuple[int, int], target: tuple[int, int], upright: Image.Transpose | None,
                      thumbnail_edge: int | None, luma: _Bands) -> tuple[Image.Image, Image.Image | None]:
    """`_colour_planes` and the thumbnail's picture from them, then the luma's bands still left (if it is decoded)."""
    planes = _colour_planes(data, size, target, upright)
    thumbnail = None
    if thumbnail_edge is not None and max(planes.size) >= thumbnail_edge:
        thumbnail = shrunk(planes, thumbnail_edge)
    luma.work()
    return planes, thumbnail


def _colour_planes(data: bytes, size: tuple[int, int], target: tuple[int, int],
                   upright: Image.Transpose | None) -> Image.Image:
    """The picture at half the target size, upright, resampled from a half-size decode: its Cb and Cr are the colour."""
    try:
        with Image.open(io.BytesIO(data)) as half:
            drafted = half.draft("YCbCr", (max(1, size[0] // 2), max(1, size[1] // 2)))
            half.load()
            box = drafted[1] if drafted else None  # the half-size picture's own edges, or all of a whole one
            picture = half if half.mode == "YCbCr" else half.convert("YCbCr")
            planes = picture.resize((target[0] // 2, target[1] // 2), RESAMPLE, box=box)
    except _DECODE_ERRORS as exc:
        raise DecodeFailed(str(exc)) from exc
    return planes.transpose(upright) if upright is not None else planes


class _Planes:
    """A YCbCr picture kept as its full-size luma and its colour at half size, assembled a band of rows at a time.

    Each colour value is doubled to a 2x2 block (NEAREST): the JPEG encoder averages each
    block back to exactly that value (4:2:0), so the stored colour is what was resampled.
    The doubling and the copy of the luma into the band cost a third of the merge and crop of
    a whole picture they replace, and run on the encoder's two threads at once.
    """

    def __init__(self, luma: Image.Image, colour: Image.Image) -> None:
        self.size = luma.size
        self._luma = luma
        self._colour = colour

    def rows(self, top: int, bottom: int) -> Image.Image:
        """Rows ``top`` to ``bottom`` as a YCbCr picture."""
        width = self.size[0]
        band = self._colour.resize((width, bottom - top), Image.Resampling.NEAREST,
                                   box=(0, top / 2, self._colour.width, bottom / 2))
        band.im.putband(rows_of(self._luma, top, bottom).im, 0)  # the full-size luma over the doubled half-size one
        return band


class _Bands:
    """One resample of a picture, turned upright, cut in horizontal bands that any thread may take; equal to one resize.

    Pillow's ``box`` argument names the source region but its filter still reads the
    neighbouring source rows, so the bands join without seams. Each band is turned upright
    by the thread that resampled it and pasted where the turned band belongs. Handing out
    small bands one by one keeps every core busy to the end, whenever each joins in.
    """

    def __init__(self, target: tuple[int, int], upright: Image.Transpose | None) -> None:
        self._target = target
        self._upright = upright
        self._lock = threading.Condition()
        self._left: list[int] = []   # bands nobody has taken, the last to be taken first
        self._busy = 0               # bands being resampled now
        self._error: BaseException | None = None
        self._source: Image.Image | None = None
        self._cuts: list[int] = []
        self._picture: Image.Image | None = None

    def offer(self, source: Image.Image) -> None:
        """Hand out the bands of ``source``'s resample (it must be decoded): from now on any thread may take them."""
        width, height = self._target
        count = max(1, min(_MAX_BANDS, height // _BAND_ROWS))
        picture = Image.new(source.mode, (height, width) if self._upright in _SWAPS_AXES else self._target, None)
        if "transparency" in source.info:
            # An RGB or grey PNG's transparent colour (it has no alpha band): the PNG encoder reads it from here.
            # Nothing else is carried over: EXIF, ICC profile and comment are the importer's to choose.
            picture.info["transparency"] = source.info["transparency"]
        with self._lock:
            self._source, self._picture = source, picture
            self._cuts = [round(height * i / count) for i in range(count + 1)]
            self._left = list(reversed(range(count)))

    def work(self) -> None:
        """Resample bands until none is left to take (at once when nothing was offered yet)."""
        while True:
            with self._lock:
                if not self._left:
                    return
                band = self._left.pop()
                self._busy += 1
            try:
                self._resample(band)
            except BaseException as exc:
                with self._lock:
                    self._error = self._error or exc
                    self._left.clear()
                raise
            finally:
                with self._lock:
                    self._busy -= 1
                    self._lock.notify_all()

    def finish(self) -> Image.Image:
        """Take bands until none is left, wait for those other threads took, and return the picture."""
        self.work()
        with self._lock:
            self._lock.wait_for(lambda: self._busy == 0)
            if self._error is not None:
                raise self._error
            assert self._picture is not None, "finish() before offer()"
            return self._picture

    def _resample(self, band: int) -> None:
        assert self._source is not None and self._picture is not None
        width, height = self._target
        top, bottom = self._cuts[band], self._cuts[band + 1]
        scale_y = self._source.height / height
        box = (0.0, top * scale_y, float(self._source.width), bottom * scale_y)
        part = self._source.resize((width, bottom - top), RESAMPLE, box=box)
        if self._upright is not None:
            part = part.transpose(self._upright)
        # Bands cover disjoint rectangles of the picture, so the threads may paste at once.
        self._picture.paste(part, _band_origin(self._upright, top, bottom, width, height))


# About 160 rows a band: a band's resample reads a few rows beyond its own (the filter's
# reach) and is pasted into the picture, 7% more work than one resize at this size
# (measured: 30 against 28 ms of processor for a 12-megapixel luma; 100-row bands cost
# 14%), and a thread left finishing the last band idles the other core for 2.5 ms at most.
_BAND_ROWS = 160
_MAX_BANDS = 32


def _resize_banded(image: Image.Image, target: tuple[int, int], upright: Image.Transpose | None) -> Image.Image:
    """Resample (and turn upright) on every core: the calling thread and the pool's take bands in turn."""
    bands = _Bands(target, upright)
    bands.offer(image)
    for _ in range(min(os.cpu_count() or 1, _MAX_BANDS) - 1):
        workers().submit(bands.work)
    return bands.finish()


_SWAPS_AXES = (Image.Transpose.ROTATE_90, Image.Transpose.ROTATE_270, Image.Transpose.TRANSPOSE,
               Image.Transpose.TRANSVERSE)


def _band_origin(upright: Image.Transpose | None, top: int, bottom: int, width: int, height: int) -> tuple[int, int]:
    """Top-left corner, in the upright picture, of the band holding rows ``top..bottom`` of the scaled one."""
    corners = [_turn_point(upright, x, y, width, height) for x in (0, width) for y in (top, bottom)]
    return min(x for x, _ in corners), min(y for _, y in corners)


def _turn_point(upright: Image.Transpose | None, x: int, y: int, width: int, height: int) -> tuple[int, int]:
    """Where the corner point (x, y) of a width x height picture lands after ``upright``."""
    T = Image.Transpose
    return {
        None: (x, y),
        T.FLIP_LEFT_RIGHT: (width - x, y),
        T.FLIP_TOP_BOTTOM: (x, height - y),
        T.ROTATE_180: (width - x, height - y),
        T.ROTATE_90: (y, width - x),          # counter-clockwise
        T.ROTATE_270: (height - y, x),        # clockwise
        T.TRANSPOSE: (y, x),
        T.TRANSVERSE: (height - y, width - x),
    }[upright]


def shrunk(image: Image.Image, edge: int) -> Image.Image:
    """``image`` with its long edge at most ``edge`` (BICUBIC, as thumbnails are made); itself when it is no larger."""
    # resize() returns a new picture, so unlike thumbnail() it needs no copy of the full one first.
    scale = min(1.0, edge / max(image.size))
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    return image.resize(size, Image.Resampling.BICUBIC, reducing_gap=2.0) if scale < 1 else image


def _normalise_mode(image: Image.Image) -> Image.Image:
    """Bring the pixels to a mode both JPEG (RGB, L) and PNG (also RGBA, LA) can store."""
    if image.mode in ("RGB", "L"):
        return image
    if image.mode in ("I", "I;16", "I;16B", "I;16L", "I;16N"):
        # 16-bit grey (scanners, some screenshots): a plain convert would clip everything above 255 to white.
        return image.convert("I").point(lambda value: value * (1 / 256)).convert("L")
    has_alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
    if image.format == "PNG" and has_alpha:
        return image.convert("RGBA")
    return image.convert("RGB")
