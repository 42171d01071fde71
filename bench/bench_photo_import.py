"""Benchmark: a save issued while 20 camera photos import completes in <= 100 ms.

Runs the app's real import path (`ui.photo_import.PhotoImportJob`: prepare on the
pool, attach on the database thread) through the real `ui.tasks.TaskManager`,
offscreen. While it imports twenty 12-megapixel camera JPEGs (bench/photo_samples.py),
a save of the visit's notes (`FieldStore.update_visit`, as the editor's autosave does)
is issued every 150 ms on the database thread; each save's time runs from the moment
it is queued to its result arriving back on the GUI thread. Prints the figures with
the machine and its load average. ``--compare`` also times one save queued behind the
old way (the whole import as one database-thread job).

Usage: python bench/bench_photo_import.py [--photos 20] [--compare]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "tests" / "ui"))  # the store filler shared with the UI tests

from PIL import ImageDraw  # noqa: E402

from photo_samples import camera_exif, make_photo  # noqa: E402

SAVE_EVERY_MS = 150
GOAL_MS = 100


def camera_photos(folder: Path, count: int) -> list[Path]:
    """``count`` different 4000x3000 camera JPEGs with EXIF (a few textures, each photo marked apart)."""
    bases = [make_photo((4000, 3000), seed=seed) for seed in range(min(count, 4))]
    paths = []
    for number in range(count):
        image = bases[number % len(bases)].copy()
        ImageDraw.Draw(image).rectangle((number * 150, 100, number * 150 + 120, 220), fill=(number * 12, 40, 200))
        path = folder / f"IMG_{number:04d}.jpg"
        image.save(path, "JPEG", quality=93, exif=camera_exif(6 if number % 3 == 0 else 1).tobytes())
        paths.append(path)
    return paths


def open_visit(folder: Path) -> tuple[Any, str]:
    """A signed-in store with a few cases and a draft visit on the first."""
    from factory import fill_store

    from fieldapp import FieldStore

    store = FieldStore.open(folder / "data")
    fill_store(store, 5)
    case = store.cases()[0]
    template = store.templates_for(case.id)[0]
    return store, store.start_visit(case.id, template.id).id


def run_import(app: Any, store: Any, visit_id: str, sources: list[Path]) -> tuple[list[float], float, int]:
    """Import through PhotoImportJob while saving every SAVE_EVERY_MS; save latencies (ms), import s, photos added."""
    from PySide6.QtCore import QEventLoop, QTimer

    from ui.photo_import import PhotoImportJob
    from ui.tasks import Op

    latencies: list[float] = []
    outstanding = [0]
    loop = QEventLoop()
    result: list[Any] = []
    job = PhotoImportJob(store, visit_id, sources)

    def save() -> None:
        issued = time.perf_counter()
        outstanding[0] += 1
        notes = f"Saved at {issued:.3f}"

        def saved(_visit: Any) -> None:
            latencies.append((time.perf_counter() - issued) * 1000)
            outstanding[0] -= 1
            if result and not outstanding[0]:
                loop.quit()

        Op(None, lambda: store.update_visit(visit_id, notes=notes)).success(saved).run()

    def finished(done: Any) -> None:
        result.append(done)
        saver.stop()
        if not outstanding[0]:
            loop.quit()

    saver = QTimer()
    saver.setInterval(SAVE_EVERY_MS)
    saver.timeout.connect(save)
    job.sig_finished.connect(finished)
    began = time.perf_counter()
    job.start()
    saver.start()
    QTimer.singleShot(600_000, loop.quit)
    loop.exec()
    took = time.perf_counter() - began
    added = len(result[0].added) if result else 0
    _ = app
    return latencies, took, added


def run_old_way(store: Any, visit_id: str, sources: list[Path]) -> float:
    """One save queued right behind the whole import run as one database-thread job (the old design); ms."""
    from PySide6.QtCore import QEventLoop

    from ui.tasks import Op

    loop = QEventLoop()
    waited: list[float] = []
    Op(None, lambda: [store.add_photo(visit_id, p) for p in sources]).run()
    issued = time.perf_counter()
    Op(None, lambda: store.update_visit(visit_id, notes="old way")).success(
        lambda _v: (waited.append((time.perf_counter() - issued) * 1000), loop.quit())).run()
    loop.exec()
    return waited[0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--photos", type=int, default=20)
    parser.add_argument("--compare", action="store_true", help="also time a save behind the old one-job import")
    args = parser.parse_args()

    from ui.app import ensure_app
    from ui.tasks import Op, TaskManager

    app = ensure_app()
    with tempfile.TemporaryDirectory(prefix="bench-photo-import-") as tmp:
        folder = Path(tmp)
        started = time.perf_counter()
        sources = camera_photos(folder, args.photos)
        size = sum(p.stat().st_size for p in sources) / len(sources) / 1e6
        print(f"made {len(sources)} camera photos (4000x3000, {size:.1f} MB average) in "
              f"{time.perf_counter() - started:.0f} s")
        store, visit_id = open_visit(folder)
        manager = TaskManager()
        Op.manager = manager
        load_before = os.getloadavg()[0]
        latencies, took, added = run_import(app, store, visit_id, sources)
        latencies.sort()
        worst = latencies[-1]
        print(f"machine: {os.cpu_count()} CPUs, load average {load_before:.1f} before, "
              f"{os.getloadavg()[0]:.1f} after")
        print(f"import of {added} photos through PhotoImportJob: {took:.1f} s ({took / max(added, 1) * 1000:.0f} ms a photo)")
        print(f"saves issued every {SAVE_EVERY_MS} ms during it: {len(latencies)}; queued to done on the GUI thread: "
              f"median {statistics.median(latencies):.1f} ms, p95 {latencies[int(len(latencies) * 0.95)]:.1f} ms, "
              f"max {worst:.1f} ms — goal <= {GOAL_MS} ms {'OK' if worst <= GOAL_MS else 'OVER'}")
        if args.compare:
            other = store.cases()[1]
            second = store.start_visit(other.id, store.templates_for(other.id)[0].id).id
            waited = run_old_way(store, second, sources)
            print(f"old way (whole import on the database thread): a save queued behind it waited {waited:.0f} ms")
        manager.shutdown()
        store.close()
    return 0 if worst <= GOAL_MS else 1


if __name__ == "__main__":
    raise SystemExit(main())
