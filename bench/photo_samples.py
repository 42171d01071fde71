"""Realistic test photos made with Pillow only: noise, gradients and shapes, with camera EXIF.

Blank or flat images compress to almost nothing and decode unrealistically fast, so the
photos here mix sensor-like noise, smooth gradients and hard-edged shapes, and carry the
EXIF a phone writes (orientation, date taken, GPS, camera serial, owner name). Used by the
photo benchmark and the photo tests.
"""

from __future__ import annotations

import random
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter

ORIENTATION = 0x0112
MAKE = 0x010F
MODEL = 0x0110
EXIF_IFD = 0x8769
GPS_IFD = 0x8825
DATETIME_ORIGINAL = 0x9003
BODY_SERIAL = 0xA431
OWNER_NAME = 0xA430
MAKER_NOTE = 0x927C

GPS = {1: "N", 2: (51.0, 30.0, 26.46), 3: "W", 4: (0.0, 7.0, 39.93)}


def make_photo(size: tuple[int, int] = (4000, 3000), *, seed: int = 1) -> Image.Image:
    """An RGB picture with the texture of a real photo (grain, gradients, edges)."""
    rng = random.Random(seed)
    width, height = size
    channels = []
    for index in range(3):
        # Gradients at different angles per channel give smooth colour ramps, like sky and walls.
        ramp = Image.linear_gradient("L").rotate(rng.uniform(0, 360), resample=Image.Resampling.BILINEAR,
                                                 expand=False, fillcolor=128 + 40 * index)
        channels.append(ramp.resize(size, Image.Resampling.BILINEAR))
    image = Image.merge("RGB", channels)
    draw = ImageDraw.Draw(image)
    for _ in range(60):
        x, y = rng.randrange(width), rng.randrange(height)
        w, h = rng.randrange(40, width // 4), rng.randrange(40, height // 4)
        colour = tuple(rng.randrange(256) for _ in range(3))
        if rng.random() < 0.5:
            draw.rectangle((x, y, x + w, y + h), fill=colour, outline=(0, 0, 0), width=3)
        else:
            draw.ellipse((x, y, x + w, y + h), fill=colour)
    for _ in range(200):
        draw.line([(rng.randrange(width), rng.randrange(height)) for _ in range(2)],
                  fill=tuple(rng.randrange(256) for _ in range(3)), width=rng.randrange(1, 6))
    image = image.filter(ImageFilter.GaussianBlur(1.2))  # lens softness, so edges are not synthetic
    grain = Image.merge("RGB", [Image.effect_noise(size, 18) for _ in range(3)])
    return Image.blend(image, grain, 0.12)


def camera_exif(orientation: int = 1, *, gps: bool = True) -> Image.Exif:
    """EXIF as a phone writes it, including what must be stripped (serial, owner, maker note)."""
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    exif[MAKE] = "Fieldcam"
    exif[MODEL] = "FC-12"
    sub = exif.get_ifd(EXIF_IFD)
    sub[DATETIME_ORIGINAL] = "2026:03:14 10:15:00"
    sub[BODY_SERIAL] = "SN-0042-SECRET"
    sub[OWNER_NAME] = "Jane Officer"
    sub[MAKER_NOTE] = b"MAKERNOTE-PRIVATE"
    if gps:
        exif.get_ifd(GPS_IFD).update(GPS)
    return exif


def save_photo(path: Path, size: tuple[int, int] = (4000, 3000), *, orientation: int = 1, seed: int = 1,
               quality: int = 93) -> Path:
    """Write a camera-like JPEG (with EXIF) and return its path."""
    make_photo(size, seed=seed).save(path, "JPEG", quality=quality, exif=camera_exif(orientation).tobytes())
    return path
