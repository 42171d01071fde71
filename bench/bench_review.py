"""Benchmark: the lead's review queue with 20,000 waiting visits (offscreen).

Prints the median time to load the rows, to apply a one-keystroke text filter, to
toggle "Category 1 only" and to sort by a column — each should feel instant (well
under 100 ms) — and the time to decode one 12-megapixel photo into a thumbnail.
"""

from __future__ import annotations

import io
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PIL import Image  # noqa: E402
from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from fieldapp.domain import HHSRS_HAZARDS  # noqa: E402
from fieldapp.types import Hazard, ReviewItem  # noqa: E402
from ui.images import load_image  # noqa: E402
from ui.review.photo_loader import THUMBNAIL_EDGE  # noqa: E402
from ui.review.queue_model import COL_AGE  # noqa: E402
from ui.review.queue_widget import ReviewQueueWidget  # noqa: E402

ROWS = 20_000
ROUNDS = 7


def items(count: int) -> list[ReviewItem]:
    """Queue rows with a realistic mix of officers, outcomes and hazards."""
    now = datetime.now(timezone.utc)
    outcomes = ("completed", "no_access", "refused", "rescheduled")
    rows = []
    for n in range(count):
        band = "ABCDEFGHIJ"[n % 10]
        hazards = (Hazard(HHSRS_HAZARDS[n % len(HHSRS_HAZARDS)], band),) if n % 3 else ()
        rows.append(ReviewItem(
            visit_id=f"v{n}", case_id=f"c{n}", case_reference=f"HBC-DM-{n:06d}", address=f"{n} Long Street, Town",
            officer_id=f"o{n % 40}", officer_name=f"Officer {n % 40}", started_at=now - timedelta(hours=n % 500),
            received_at=now - timedelta(minutes=n % 9000), outcome=outcomes[n % 4], hazards=hazards,
            photo_count=n % 12, category_1=bool(hazards) and band in "ABC", resubmitted=n % 17 == 0))
    return rows


def median_ms(action: Callable[[], object], rounds: int = ROUNDS) -> float:
    """Median wall time of ``action`` in milliseconds."""
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        action()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> int:
    app = QApplication.instance() or QApplication([])
    widget = ReviewQueueWidget()
    widget.resize(1200, 800)
    widget.show()
    rows = items(ROWS)
    print(f"review queue, {ROWS} rows (median of {ROUNDS}):")
    print(f"  load rows            {median_ms(lambda: (widget.set_items(rows), app.processEvents())):8.1f} ms")
    toggle = iter(range(10_000))
    print(f"  type one character   {median_ms(lambda: (widget.search_edit.setText('DM-00' + str(next(toggle) % 10)), app.processEvents())):8.1f} ms")
    widget.search_edit.clear()
    print(f"  Category 1 toggle    {median_ms(lambda: (widget.cat1_check.toggle(), app.processEvents())):8.1f} ms")
    order = iter(range(10_000))
    print(f"  sort by waiting time {median_ms(lambda: (widget.table.sortByColumn(COL_AGE, Qt.SortOrder(next(order) % 2)), app.processEvents())):8.1f} ms")

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "big.jpg"
        out = io.BytesIO()
        Image.effect_noise((4000, 3000), 60).convert("RGB").save(out, "JPEG", quality=85)
        path.write_bytes(out.getvalue())
        print(f"  12 MP photo → thumbnail decode {median_ms(lambda: load_image(path, THUMBNAIL_EDGE), 5):8.1f} ms"
              f"   (full decode {median_ms(lambda: load_image(path), 3):.1f} ms)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
