"""Encode a stored photo as one baseline JPEG on two cores: two halves joined at a restart marker.

Pillow holds the GIL for the whole of an encode into memory (``BytesIO``), but not for an
encode into a real file, so each half is encoded into a temporary file in the store's
scratch folder (`fieldapp.photo_files.scratch_dir`): part of a resident's photo never
lands in the system's temp folder, where a crash or power cut would leave it outside the
data folder. On Linux the file is never named (``O_TMPFILE``); elsewhere it is named
``*.part`` and deleted on close, and what a power cut leaves is swept when the store opens. Both
halves are written with a restart marker after every row of MCUs (libjpeg's
``restart_in_rows``): a restart resets the decoder's DC predictions, so the bottom half's
entropy-coded data may follow the top half's after one more marker. The cut lies on a
multiple of 8 MCU rows, so the markers' numbers (RST0 to RST7, cycling) run on unchanged,
and the joined file is byte for byte what one encode with the same restart markers writes
(the pixels are those of an encode without markers: a restart only re-codes DC values).
The markers cost about 2.5 bytes per MCU row (300 bytes in a 0.7 MB photo).
"""

from __future__ import annotations

import io
import tempfile
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from PIL import Image

from fieldapp.atomic import make_dirs
from fieldapp.photo_files import SCRATCH_SUFFIX
from fieldapp.photo_workers import workers

# Height in pixels of one row of MCUs (minimum coded units) for each chroma subsampling;
# a single-component (grey) JPEG has 8x8 MCUs whatever the subsampling says.
_MCU_HEIGHT = {"4:2:0": 16, "4:2:2": 8, "4:4:4": 8}
_MARKER_CYCLE = 8  # RST0..RST7
_RST0 = 0xD0
_SOF0 = 0xC0  # baseline frame header: holds the picture's height
_SOS = 0xDA   # start of scan: the entropy-coded data follows its header
_EOI = b"\xff\xd9"
# Below this many rows the second thread's hand-over costs about what it saves.
_MIN_SPLIT_ROWS = 512


def encode_jpeg(image: Image.Image, *, quality: int, subsampling: str, scratch: Path | None = None,
                **extra: Any) -> bytes:
    """``image`` (L, RGB or YCbCr) as a baseline JPEG; ``extra`` (exif, icc_profile) goes in its header.

    ``scratch`` is the folder for the halves' temporary files; without one (or when it cannot
    be written) they are encoded in memory, holding the GIL, so on one core: the bytes are the same.
    """
    return encode_jpeg_rows(image.height, image.mode, partial(rows_of, image), quality=quality, subsampling=subsampling,
                            scratch=scratch, **extra)


def encode_jpeg_rows(height: int, mode: str, rows: Callable[[int, int], Image.Image], *, quality: int,
                     subsampling: str, scratch: Path | None = None, **extra: Any) -> bytes:
    """`encode_jpeg` of a picture ``height`` rows high, in ``mode``, that ``rows(top, bottom)`` hands out a band at a time.

    Each half is made by the thread that encodes it, so the two are made at once (a crop of
    a whole picture, or the luma/colour path's assembly of its planes).
    """
    mcu = 8 if mode == "L" else _MCU_HEIGHT[subsampling]
    step = mcu * _MARKER_CYCLE
    cut = round(height / 2 / step) * step
    if height < _MIN_SPLIT_ROWS or not 0 < cut < height:
        return _encoded(rows(0, height), scratch, quality=quality, subsampling=subsampling, **extra)
    options: dict[str, Any] = {"quality": quality, "subsampling": subsampling, "restart_marker_rows": 1}
    bottom = workers().submit(_encoded_rows, rows, cut, height, scratch, options)
    top = _encoded_rows(rows, 0, cut, scratch, {**options, **extra})
    return join_halves(top, bottom.result(), height, cut // mcu)


def rows_of(image: Image.Image, top: int, bottom: int) -> Image.Image:
    """Rows ``top`` to ``bottom`` of ``image``: the picture itself when that is all of it, else a copy."""
    return image if (top, bottom) == (0, image.height) else image.crop((0, top, image.width, bottom))


def join_halves(top: bytes, bottom: bytes, height: int, top_mcu_rows: int) -> bytes:
    """One JPEG of ``height`` rows: ``top``'s header and data, a restart marker, then ``bottom``'s data.

    Both must be baseline JPEGs of the same width, tables and restart interval (one MCU row),
    ``top`` holding ``top_mcu_rows`` rows of MCUs, a multiple of 8.
    """
    if top_mcu_rows % _MARKER_CYCLE or not top.endswith(_EOI):
        raise ValueError("the top half must end with EOI after a multiple of 8 MCU rows")
    sof = _segment(top, _SOF0)
    joint = bytes((0xFF, _RST0 + (top_mcu_rows - 1) % _MARKER_CYCLE))
    height_at = sof + 5  # after the marker (2 bytes), its length (2) and the sample precision (1)
    return b"".join((top[:height_at], height.to_bytes(2, "big"), top[height_at + 2:-len(_EOI)], joint,
                     bottom[_scan_data(bottom):]))


def _encoded_rows(rows: Callable[[int, int], Image.Image], top: int, bottom: int, scratch: Path | None,
                  options: dict[str, Any]) -> bytes:
    """Rows ``top`` to ``bottom`` of the picture as JPEG bytes."""
    return _encoded(rows(top, bottom), scratch, **options)


def _encoded(image: Image.Image, scratch: Path | None, **options: Any) -> bytes:
    """``image`` as JPEG bytes, encoded into a temporary file in ``scratch`` so that other threads keep running meanwhile."""
    if scratch is not None:
        try:
            make_dirs(scratch)
            with tempfile.TemporaryFile(dir=scratch, prefix="encoding-", suffix=SCRATCH_SUFFIX) as file:
                image.save(file, "JPEG", **options)
                file.seek(0)
                return file.read()
        except OSError:
            pass  # no room, or the folder cannot be written: encode in memory instead
    out = io.BytesIO()  # holding the GIL, so on one core
    image.save(out, "JPEG", **options)
    return out.getvalue()


def _segment(data: bytes, marker: int) -> int:
    """Offset of the header segment with ``marker`` (before the scan) in a JPEG libjpeg wrote."""
    offset = 2  # after SOI
    while offset + 4 <= len(data) and data[offset] == 0xFF:
        if data[offset + 1] == marker:
            return offset
        if data[offset + 1] == _SOS:
            break
        offset += 2 + int.from_bytes(data[offset + 2:offset + 4], "big")
    raise ValueError(f"no segment 0xFF{marker:02X} in the JPEG header")


def _scan_data(data: bytes) -> int:
    """Offset of the entropy-coded data: just after the start-of-scan header."""
    sos = _segment(data, _SOS)
    return sos + 2 + int.from_bytes(data[sos + 2:sos + 4], "big")
