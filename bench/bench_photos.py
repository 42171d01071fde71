"""Benchmark: importing a 12-megapixel JPEG against Pillow only decoding it (goal: ratio <= 2).

Prints the median of each and the ratio; both are measured in the same run on the same
files, so the ratio holds on any machine. Then it times the import's stages one by one
(one thread each), so the ratio can be read against what they cost: the resampling runs
in bands on all cores, the thumbnail beside the encode, the rest in sequence.
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

from fieldapp.photos import RESAMPLE, PhotoPolicy, import_photo  # noqa: E402

ROUNDS = 7


def _decode(path: Path) -> None:
    with Image.open(path) as image:
        image.load()


def _stages(sources: list[Path], policy: PhotoPolicy) -> dict[str, float]:
    """Median single-thread cost of decoding, resampling and encoding, in seconds."""
    times: dict[str, list[float]] = {"decode": [], "resample": [], "encode": []}
    for _ in range(3):
        for source in sources:
            start = time.perf_counter()
            with Image.open(source) as image:
                image.load()
                decoded = time.perf_counter()
                scale = policy.long_edge / max(image.size)
                scaled = image.resize((round(image.width * scale), round(image.height * scale)), RESAMPLE)
            resampled = time.perf_counter()
            scaled.save(io.BytesIO(), "JPEG", quality=policy.quality)
            times["decode"].append(decoded - start)
            times["resample"].append(resampled - decoded)
            times["encode"].append(time.perf_counter() - resampled)
    return {stage: statistics.median(values) for stage, values in times.items()}


def main() -> int:
    """Run the benchmark and print its figures."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        sources = [save_photo(root / f"src{i}.jpg", (4000, 3000), orientation=6 if i % 2 else 1, seed=i) for i in range(3)]
        policy = PhotoPolicy()
        decode_times, import_times = [], []
        for round_no in range(ROUNDS):
            for source in sources:
                start = time.perf_counter()
                _decode(source)
                decode_times.append(time.perf_counter() - start)
                start = time.perf_counter()
                # a fresh folder each time, so every import really writes its files
                import_photo(source, root / f"photos{round_no}", policy)
                import_times.append(time.perf_counter() - start)
        decode = statistics.median(decode_times)
        imported = statistics.median(import_times)
        size = sum(s.stat().st_size for s in sources) / len(sources) / 1e6
        print(f"12 MP JPEG source, {size:.1f} MB average, {len(import_times)} imports")
        print(f"median Pillow full decode: {decode * 1000:.0f} ms")
        print(f"median import_photo:       {imported * 1000:.0f} ms")
        ratio = imported / decode
        print(f"ratio: {ratio:.2f} (goal <= 2.0) {'OK' if ratio <= 2.0 else 'OVER'}")
        stages = _stages(sources, policy)
        print(f"stages, one thread each: decode {stages['decode'] * 1000:.0f} ms, "
              f"resample ({RESAMPLE.name}) {stages['resample'] * 1000:.0f} ms, encode {stages['encode'] * 1000:.0f} ms; "
              f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
