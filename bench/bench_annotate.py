"""Benchmark: making the annotated copy of a stored 2560 px photo (draw the marks, then import it).

This is the wait between Save and the new photo in the grid, all of it on the background
thread (the window stays live). Prints the median of the whole step and of its parts:
drawing a typical set of marks (an arrow, a circle, a freehand line, a text) with Pillow,
and the import path the copy goes through (decode, EXIF policy, encode, hash, thumbnail).
"""

from __future__ import annotations

import io
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from photo_samples import save_photo  # noqa: E402

from fieldapp.photos import PhotoPolicy, prepare  # noqa: E402
from fieldapp.photos_annotate import annotated_copy, draw_marks  # noqa: E402
from fieldapp.photos_marks import Mark, MarkKind  # noqa: E402

ROUNDS = 7
MARKS = (
    Mark(MarkKind.ARROW, ((300, 300), (1200, 900))),
    Mark(MarkKind.ELLIPSE, ((1250, 700), (1800, 1200)), "yellow"),
    Mark(MarkKind.FREEHAND, tuple((200 + i * 10, 1500 + (i % 20) * 8) for i in range(200)), "blue"),
    Mark(MarkKind.TEXT, ((1300, 1300),), "white", "black mould behind the wardrobe"),
)


def _median_ms(fn: object) -> float:
    times = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main() -> int:
    policy = PhotoPolicy()
    with tempfile.TemporaryDirectory() as folder:
        stored = prepare(save_photo(Path(folder) / "camera.jpg", (4000, 3000)), policy).data  # as the store holds it
    image = Image.open(io.BytesIO(stored))
    image.load()
    with tempfile.TemporaryDirectory() as scratch:  # the store's scratch folder: the halves encode on two cores
        whole = _median_ms(lambda: annotated_copy(stored, MARKS, policy, "bench", Path(scratch)))
    drawing = _median_ms(lambda: draw_marks(image, MARKS))
    print(f"annotated copy of a {image.width}x{image.height} photo with {len(MARKS)} marks: median {whole:.0f} ms "
          f"(drawing the marks {drawing:.0f} ms; the rest is the import path); "
          f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
