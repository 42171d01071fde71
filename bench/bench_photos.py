"""Benchmark: importing a 12-megapixel JPEG against Pillow only decoding it (goal: ratio <= 2).

Prints the median of each and the ratio, in wall time and in processor time (all threads
of the process: what the import costs when the other core is busy, as on a loaded machine);
both are measured in the same run on the same files, once on the main thread and once on a
background thread, where the app prepares photos. Then it times single Pillow steps one
by one (one thread each), so the ratio can be read against what they cost: the import
decodes luma at full size and colour at half size on two cores, shares the luma's resample
out in bands, and encodes the two halves of the photo on two cores beside the thumbnail;
the old path decoded and resampled whole RGB.
"""

from __future__ import annotations

import io
import os
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

from fieldapp.photo_scaling import RESAMPLE  # noqa: E402
from fieldapp.photos import PhotoPolicy, prepare, write_prepared  # noqa: E402

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
            timed("luma resample", luma.resize, target, RESAMPLE)
            half = timed("half-size YCbCr decode", _decoded, source, "YCbCr", (rgb.width // 2, rgb.height // 2))
            timed("colour resample", half.resize, (target[0] // 2, target[1] // 2), RESAMPLE)
            timed("encode", rgb_scaled.save, io.BytesIO(), "JPEG", quality=policy.quality)
    return {stage: statistics.median(values) for stage, values in times.items()}


def _timed_imports(sources: list[Path], policy: PhotoPolicy, root: Path, on: Callable[[Callable[[], Any]], Any]) -> None:
    """Time decode and import of every source ROUNDS times, each step run through ``on``, and print the figures."""
    decode_times, import_times, decode_cpu, import_cpu, write_times = [], [], [], [], []
    for round_no in range(ROUNDS):
        for source in sources:
            start, cpu = time.perf_counter(), time.process_time()
            on(partial(_decode, source))
            decode_times.append(time.perf_counter() - start)
            decode_cpu.append(time.process_time() - cpu)
            start, cpu = time.perf_counter(), time.process_time()
            # a fresh folder each time, so every import really writes its files
            prepared = on(partial(prepare, source, policy))
            written = time.perf_counter()
            on(partial(write_prepared, prepared, root / f"photos{round_no}"))  # import_photo, timed in its two parts
            import_times.append(time.perf_counter() - start)
            write_times.append(time.perf_counter() - written)
            import_cpu.append(time.process_time() - cpu)
    decode, imported = statistics.median(decode_times), statistics.median(import_times)
    decode_p, imported_p = statistics.median(decode_cpu), statistics.median(import_cpu)
    print(f"  median Pillow full decode: {decode * 1000:.0f} ms ({decode_p * 1000:.0f} ms processor)")
    print(f"  median import_photo:       {imported * 1000:.0f} ms ({imported_p * 1000:.0f} ms processor, all threads; "
          f"of it writing the photo and thumbnail, fsynced: {statistics.median(write_times) * 1000:.0f} ms)")
    ratio = imported / decode
    print(f"  ratio: {ratio:.2f} (goal <= 2.0) {'OK' if ratio <= 2.0 else 'OVER'}; "
          f"processor time {imported_p / decode_p:.2f}; load average {os.getloadavg()[0]:.1f}")


def main() -> int:
    """Run the benchmark and print its figures."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        sources = [save_photo(root / f"src{i}.jpg", (4000, 3000), orientation=6 if i % 2 else 1, seed=i) for i in range(3)]
        policy = PhotoPolicy()
        size = sum(s.stat().st_size for s in sources) / len(sources) / 1e6
        print(f"12 MP JPEG source, {size:.1f} MB average, {ROUNDS * len(sources)} imports each way; "
              f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
        print("on the main thread:")
        _timed_imports(sources, policy, root / "main", lambda step: step())
        # The app prepares photos on a background thread (ui/tasks.py). There glibc hands a big
        # picture memory the thread's arena already holds; on the main thread it maps fresh pages
        # for each, and on this machine a 20 MB picture's 5,000 page faults cost 20 ms.
        print("on one background thread, as the app runs imports:")
        with ThreadPoolExecutor(max_workers=1) as background:
            _timed_imports(sources, policy, root / "background", lambda step: background.submit(step).result())
        stages = _stages(sources, policy)
        print("steps, processor time, one thread each: "
              + ", ".join(f"{stage} {seconds * 1000:.0f} ms" for stage, seconds in stages.items())
              + f"; load average {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
