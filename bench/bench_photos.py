"""Benchmark: importing a 12-megapixel JPEG against Pillow only decoding it (goal: ratio <= 2).

Prints the median of each and the ratio, in wall time and in processor time (all threads
of the process: what the import costs when the other core is busy, as on a loaded machine),
with the page faults each took; both are measured in the same run on the same files,
interleaved one by one, on the main thread, on one background thread at background
priority (where the app prepares photos), then on the main thread again (so an order
effect would show). Then it times single Pillow steps one by one (one thread each), so
the ratio can be read against what they cost: the import decodes luma at full size and
colour at half size on two cores (the colour's thread also shrinks the thumbnail's
picture), shares the luma's resample out in bands, and encodes the two halves of the photo
on two cores, each thread assembling its half from the luma and the doubled colour; the
old path decoded and resampled whole RGB.

On two cores the import's wall time cannot be below half its processor time, so with
other programs running (load average above 1) the wall figures mostly measure them:
compare processor times then, and old against new back to back.

Like with like: a decode's time depends on whether its 46 MB land on memory the process
already holds. Under Pillow's defaults that was an accident of malloc's history (fresh,
zeroed pages: 12,000 page faults, 20 ms on this VM), which made "decode alone" 56 ms on
the main thread and 35 ms on a background thread, or the reverse with the order
swapped. The photo code now has Pillow reuse freed pictures' memory
(`fieldapp.photo_workers`), so both figures are fault-free and the faults are printed.
"""

from __future__ import annotations

import io
import os
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any

from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from photo_samples import save_photo  # noqa: E402

from fieldapp.photo_files import scratch_dir  # noqa: E402
from fieldapp.photo_scaling import RESAMPLE, shrunk  # noqa: E402
from fieldapp.photos import PhotoPolicy, prepare, write_prepared  # noqa: E402
from fieldapp.priority import lower_this_thread  # noqa: E402

ROUNDS = 7


def _decode(path: Path) -> None:
    with Image.open(path) as image:
        image.load()


def _decoded(source: Path, mode: str | None = None, size: tuple[int, int] | None = None) -> Image.Image:
    with Image.open(source) as image:
        if mode:
            image.draft(mode, size)
        image.load()
        return image


def _stages(sources: list[Path], policy: PhotoPolicy) -> dict[str, float]:
    """Median single-thread processor time of each Pillow step, in seconds."""
    times: dict[str, list[float]] = {}

    def timed(stage: str, step: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        start = time.thread_time()
        result = step(*args, **kwargs)
        times.setdefault(stage, []).append(time.thread_time() - start)
        return result

    for _ in range(3):
        for source in sources:
            rgb = timed("RGB decode", _decoded, source)
            scale = policy.long_edge / max(rgb.size)
            target = (round(rgb.width * scale), round(rgb.height * scale))
            rgb_scaled = timed(f"RGB resample ({RESAMPLE.name})", rgb.resize, target, RESAMPLE)
            luma = timed("luma decode", _decoded, source, "L")
            luma_scaled = timed("luma resample", luma.resize, target, RESAMPLE)
            timed("luma turn (portrait)", luma_scaled.transpose, Image.Transpose.ROTATE_270)
            half = timed("half-size YCbCr decode", _decoded, source, "YCbCr", (rgb.width // 2, rgb.height // 2))
            planes = timed("colour resample", half.resize, (target[0] // 2, target[1] // 2), RESAMPLE)
            timed("thumbnail", shrunk, planes, policy.thumbnail_edge)
            timed("encode", rgb_scaled.save, io.BytesIO(), "JPEG", quality=policy.quality)
            timed("encode YCbCr", rgb_scaled.convert("YCbCr").save, io.BytesIO(), "JPEG", quality=policy.quality)
    return {stage: statistics.median(values) for stage, values in times.items()}


class Run:
    """Wall time, processor time (all threads) and minor page faults (the whole process) of each timed step."""

    def __init__(self) -> None:
        self.wall: list[float] = []
        self.cpu: list[float] = []
        self.faults: list[int] = []

    def time(self, step: Callable[[], Any]) -> Any:
        faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        start, cpu = time.perf_counter(), time.process_time()
        result = step()
        self.wall.append(time.perf_counter() - start)
        self.cpu.append(time.process_time() - cpu)
        self.faults.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults)
        return result

    def medians(self) -> tuple[float, float, float]:
        return statistics.median(self.wall), statistics.median(self.cpu), statistics.median(self.faults)


def _timed_imports(sources: list[Path], policy: PhotoPolicy, root: Path, on: Callable[[Callable[[], Any]], Any]) -> None:
    """Time decode and import of every source ROUNDS times, interleaved, each step run through ``on``; print the figures."""
    decodes, imports, writes = Run(), Run(), Run()
    on(partial(_decode, sources[0]))  # untimed first run: the thread's first picture
    for round_no in range(ROUNDS):
        for source in sources:
            on(partial(decodes.time, partial(_decode, source)))
            # a fresh folder each time, so every import really writes its files
            photos = root / f"photos{round_no}"

            def imported(source: Path = source, photos: Path = photos) -> None:  # import_photo, timed in its two parts
                prepared = prepare(source, policy, scratch_dir(photos))  # as the store prepares it
                writes.time(partial(write_prepared, prepared, photos))

            on(partial(imports.time, imported))
    (decode, decode_p, decode_f), (imported, imported_p, imported_f) = decodes.medians(), imports.medians()
    print(f"  median Pillow full decode: {decode * 1000:.0f} ms ({decode_p * 1000:.0f} ms processor, "
          f"{decode_f:.0f} page faults)")
    print(f"  median import_photo:       {imported * 1000:.0f} ms ({imported_p * 1000:.0f} ms processor, all threads, "
          f"{imported_f:.0f} page faults; of it writing the photo and thumbnail, fsynced: "
          f"{statistics.median(writes.wall) * 1000:.0f} ms)")
    ratio = imported / decode
    print(f"  ratio: {ratio:.2f} (goal <= 2.0) {'OK' if ratio <= 2.0 else 'OVER'}; "
          f"processor time {imported_p / decode_p:.2f}; load average {_load()}")


def _load() -> str:
    return " ".join(f"{figure:.1f}" for figure in os.getloadavg())


def main() -> int:
    """Run the benchmark and print its figures."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        sources = [save_photo(root / f"src{i}.jpg", (4000, 3000), orientation=6 if i % 2 else 1, seed=i) for i in range(3)]
        policy = PhotoPolicy()
        size = sum(s.stat().st_size for s in sources) / len(sources) / 1e6
        print(f"12 MP JPEG source, {size:.1f} MB average, {ROUNDS * len(sources)} imports each way; "
              f"{os.cpu_count()} cores, load average {_load()}")
        print(f"on the main thread (load average {_load()}):")
        _timed_imports(sources, policy, root / "main", lambda step: step())
        # The app prepares photos on one background thread at background priority (ui/tasks.py).
        print(f"on one background thread, as the app runs imports (load average {_load()}):")
        with ThreadPoolExecutor(max_workers=1, initializer=lower_this_thread) as background:
            _timed_imports(sources, policy, root / "background", lambda step: background.submit(step).result())
        print(f"on the main thread again, after the background thread (load average {_load()}):")
        _timed_imports(sources, policy, root / "main-again", lambda step: step())
        stages = _stages(sources, policy)
        print("steps, processor time, one thread each: "
              + ", ".join(f"{stage} {seconds * 1000:.0f} ms" for stage, seconds in stages.items())
              + f"; load average {_load()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
