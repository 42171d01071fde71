"""Benchmark: the tenant's letter with 6 photos, rendered on the laptop side (goal: <= 500 ms).

The photos are stored-size JPEGs (2560 x 1920) read from files, as on the laptop. Prints
the first render (fonts registered, cold caches), then the median and worst of the rest,
the letter's size, and the machine's load average so the figures can be read in context.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from letter_samples import sample_visit  # noqa: E402

from fieldapp.letter import letter_facts, load_template, render_letter  # noqa: E402

ROUNDS = 15
GOAL_MS = 500.0


def main() -> int:
    """Render the letter ROUNDS times and print the figures; exit 1 when the median misses the goal."""
    sample = sample_visit(photos=6, photo_size=(2560, 1920))
    with tempfile.TemporaryDirectory() as folder:
        paths = sample.write_photos(Path(folder))
        times: list[float] = []
        size = 0
        for _ in range(ROUNDS):
            start = time.perf_counter()
            # The whole laptop-side path: facts, template file, photos from disk, PDF.
            facts = letter_facts(sample.visit_id, sample.visit, sample.case, sample.property, sample.residents,
                                 sample.officer_name)
            pdf = render_letter(facts, load_template(), lambda p: paths[p.sha256], date(2026, 12, 2))
            times.append((time.perf_counter() - start) * 1000)
            size = len(pdf)
    first, rest = times[0], times[1:]
    median = statistics.median(rest)
    print(f"letter with 6 photos (2560x1920 JPEG files): first {first:.0f} ms, median {median:.0f} ms, "
          f"worst {max(rest):.0f} ms over {len(rest)} runs; {size / 1024:.0f} KiB; goal <= {GOAL_MS:.0f} ms")
    print(f"cores {os.cpu_count()}, load average {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    return 0 if median <= GOAL_MS else 1


if __name__ == "__main__":
    sys.exit(main())
