"""Benchmark: the local store with a council's worth of cases (20,000).

Builds 20,000 cases with their properties and residents through `apply_changes`
(pages of 1,000, as a first sync would), then prints:
- the median and p95 of `FieldStore.cases(CaseFilter(search))` for realistic searches
  (goal: median <= 20 ms), and of the unfiltered first screen;
- the median time to open the store (goal: <= 300 ms).

The apply rate of the first and the last tenth of the pages is printed too: a first
sync must not slow down as the store fills (issue 17). ``--apply-only`` stops after the
build; ``--profile`` prints where the build's time went (cProfile).
"""

from __future__ import annotations

import cProfile
import os
import pstats
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "fieldapp"))
import factories as f  # noqa: E402

from fieldapp import FieldStore  # noqa: E402
from fieldapp.types import UserInfo  # noqa: E402
from fieldapp.search import CaseFilter

CASES = 20_000
PAGE = 1_000
ROUNDS = 30
OPENS = 9

FIRST = ["Amira", "Oliver", "Ngozi", "Tomasz", "Priya", "Sean", "Fatima", "George", "Chloe", "Mohammed",
         "Zoë", "Daniel", "Aisha", "Liam", "Grace", "Kwame", "Ewa", "Harry", "Mei", "Ruth"]
# Common surnames, plus made-up ones so that, as in a real council, no surname is on
# more than a few per cent of cases.
COMMON = ["Haskins", "Okafor", "Nowak", "Patel", "Murphy", "Khan", "Smith", "Jones", "Brennan-O'Neil", "Williams",
          "Taylor", "Ahmed", "Evans", "Wright", "Mensah", "Kowalski", "Chen", "Green", "Hughes", "Ali"]
_SYLLABLES = ["ash", "bel", "cor", "dun", "el", "far", "gar", "hol", "ing", "kent", "lo", "mor", "nor", "pen",
              "rad", "sel", "tor", "wen", "by", "ton", "well", "ford", "ley", "ham"]
LAST = COMMON + sorted({(a + b + c).title() for a in _SYLLABLES[:12] for b in _SYLLABLES[12:18]
                        for c in _SYLLABLES[18:]})
STREETS = ["Long Lane", "Mill Road", "Church Street", "Station Road", "Victoria Park", "Albion Terrace",
           "Queens Walk", "Harrow Court", "Elm Grove", "Canal Side", "Bridge Street", "Chapel Row"]
TOWNS = [("London", "SE1"), ("London", "SE16"), ("Leeds", "LS6"), ("Leeds", "LS11"), ("Bristol", "BS5"),
         ("Manchester", "M14")]
TYPES = ["damp_mould", "repair", "tenancy_audit", "void", "asb", "estate"]


def build_pages(rng: random.Random, team_id: str, officer_id: str) -> list[list[dict[str, Any]]]:
    """The pulled pages of a first sync: property, residents and case for each of CASES cases."""
    changes: list[dict[str, Any]] = []
    for n in range(CASES):
        town, district = rng.choice(TOWNS)
        postcode = f"{district} {rng.randint(1, 9)}{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}"
        prop = f.property_(postcode, lines=(f"Flat {rng.randint(1, 40)}", f"{rng.randint(1, 300)} {rng.choice(STREETS)}"),
                           town=town, uprn=str(100000000 + n))
        residents = [f.resident(prop["id"], f"{rng.choice(FIRST)} {rng.choice(LAST)}",
                                warnings=["Dog on premises"] if rng.random() < 0.05 else [])
                     for _ in range(rng.randint(1, 3))]
        due = None if rng.random() < 0.1 else f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T17:00:00Z"
        case = f.case(prop["id"], team_id, reference=f"{('DM', 'RP', 'TA')[n % 3]}-2025-{n:05d}",
                      resident_ids=[r["id"] for r in residents], officer_id=officer_id, due_at=due,
                      case_type=rng.choice(TYPES), priority=rng.choice(["emergency", "urgent", "routine"]))
        changes += [prop, *residents, case]
    return [changes[i:i + PAGE] for i in range(0, len(changes), PAGE)]


def timed(fn: Callable[[], Any], rounds: int) -> tuple[list[float], Any]:
    """Milliseconds of each call, and the last result."""
    times, result = [], None
    for _ in range(rounds):
        start = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - start) * 1000)
    return times, result


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1]


def main() -> int:
    rng = random.Random(7)
    world = f.world(0)
    with tempfile.TemporaryDirectory() as folder:
        data_dir = Path(folder)
        store = FieldStore.open(data_dir)
        store.sign_in(UserInfo(world.officer_id, "olivia", "Olivia", "officer", world.team_id), "https://portal")
        store.apply_changes(world.changes, 1)
        pages = build_pages(rng, world.team_id, world.officer_id)
        profiler = cProfile.Profile() if "--profile" in sys.argv else None
        page_s = []
        for n, page in enumerate(pages, 2):
            start = time.perf_counter()
            if profiler is not None:
                profiler.enable()
            store.apply_changes(page, n)
            if profiler is not None:
                profiler.disable()
            page_s.append(time.perf_counter() - start)
        build_s = sum(page_s)
        changes = sum(len(p) for p in pages)
        tenth = max(1, len(pages) // 10)
        first, last = sum(len(p) for p in pages[:tenth]) / sum(page_s[:tenth]), \
            sum(len(p) for p in pages[-tenth:]) / sum(page_s[-tenth:])
        print(f"built {CASES} cases ({changes} changes) via apply_changes in {build_s:.1f} s "
              f"({changes / build_s:.0f} changes/s; first tenth of the pages {first:.0f}/s, last tenth {last:.0f}/s: "
              f"the rate must not fall as the store grows); load average {os.getloadavg()[0]:.1f}")
        if profiler is not None:
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
        if "--apply-only" in sys.argv:
            store.close()
            return 0

        searches = ["hask", "SE1 4", "RP-2025-01234", "2025-012", "mill road", "amira patel", "LS11",
                    "okafor leeds", "zoe", "ashnorby"]
        medians = []
        print(f"{'search':<24}{'median ms':>10}{'p95 ms':>10}{'rows':>8}")
        for text in searches:
            times, rows = timed(lambda text=text: store.cases(CaseFilter(text)), ROUNDS)
            medians.append(statistics.median(times))
            print(f"{text!r:<24}{statistics.median(times):>10.2f}{p95(times):>10.2f}{len(rows):>8}")
        for label, call in [
            ("'' overdue urgent", lambda: store.cases(CaseFilter(overdue=True, priority=["urgent"]))),
            ("'' limit 200", lambda: store.cases(limit=200)),
            ("'' all 20,000", lambda: store.cases()),
        ]:
            times, rows = timed(call, 10)
            print(f"{label:<24}{statistics.median(times):>10.2f}{p95(times):>10.2f}{len(rows):>8}")
        store.close()

        open_times = []
        for _ in range(OPENS):
            start = time.perf_counter()
            opened = FieldStore.open(data_dir)
            open_times.append((time.perf_counter() - start) * 1000)
            opened.close()
        overall = statistics.median(medians)
        print(f"search median over the searches above: {overall:.2f} ms (goal <= 20 ms)")
        print(f"open store with {CASES} cases: median {statistics.median(open_times):.1f} ms, "
              f"max {max(open_times):.1f} ms (goal <= 300 ms)")
        ok = overall <= 20 and statistics.median(open_times) <= 300
    print("PASS" if ok else "GOAL MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
