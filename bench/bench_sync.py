"""Sync benchmarks: initial sync, no-op sync, and photo upload throughput against curl.

The portal runs in a separate process on 127.0.0.1 (``portal.server.serve``, the code
behind ``fieldapp-portal serve``), on SQLite by default or PostgreSQL with ``--pg``.
Its database is seeded with the demo council, then bulk-filled (SQLAlchemy Core,
straight into the portal's tables, because the record-by-record seeding is too slow for
25,000 cases) with 5,000 cases for one officer and 20,000 for another, each with its
property and one to three residents.

Figures printed:
- initial sync of 5,000 and 20,000 cases, each into ``--runs`` new stores (medians; target: 20,000
  ≤ 5 s, and ≤ 4.5 × the 5,000 time, so the apply rate does not fall as pages grow), with the
  CPU seconds of the portal (the served supervisor and its worker processes) and of the
  laptop's process, and the load average beside each;
- a sync with nothing to do: HTTP requests and time (target ≤ 3 requests, ≤ 150 ms);
- upload of 100 visits with 500 photos of 1–2.5 MB: throughput of the engine's upload
  phase vs one `curl` process sending copies of the same files (new hashes, so dedupe
  cannot help) one PUT each to the same portal (target ≥ 70 %).

The portal runs with its served defaults (``chunk_bytes`` 4 MiB: each photo, and each
curl file, goes in one PUT), so the figures are what ``fieldapp-portal serve`` does.

``--profile``: the portal runs under py-spy (collapsed stacks), and the laptop's last initial
sync of each size is written as a cProfile (``python -m pstats``); the paths are printed.

Usage: python bench/bench_sync.py [--pg] [--photos 500] [--small 5000] [--large 20000] [--runs 3] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import io
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("FIELDAPP_PORTAL_KDF_N", "16")  # cheap sign-in: the bench is about sync

import served  # noqa: E402  (the served portal, and the CPU of its worker processes)


# ---------------------------------------------------------------- portal process and data


def bulk_cases(database_url: str, officer_username: str, count: int, rng: random.Random) -> None:
    """Insert ``count`` cases (each with a property and 1–3 residents) assigned to the officer."""
    from sqlalchemy import insert, select, update

    from portal.core.db import SEQ_COUNTER, Database
    from portal.models import CaseResidentRow, CaseRow, CounterRow, PropertyRow, ResidentRow, UserRow

    db = Database(database_url)
    try:
        with db.engine.begin() as conn:
            officer = conn.execute(select(UserRow.id, UserRow.team_id).where(UserRow.username == officer_username)).one()
            seq = conn.execute(select(CounterRow.value).where(CounterRow.name == SEQ_COUNTER)).scalar_one()
            props, people, cases, links = [], [], [], []
            for n in range(count):
                pid = str(uuid.uuid4())
                seq += 1
                props.append({"id": pid, "version": 1, "seq": seq, "uprn": f"{rng.randrange(10**11, 10**12)}",
                              "address_lines": [f"{n + 1} Bench Street", "Flat " + str(n % 40)], "town": "Harrowmere",
                              "postcode": "HM1 2AB", "property_type": "flat", "bedrooms": 2})
                rids = []
                for r in range(rng.choice((1, 2, 3))):
                    rid = str(uuid.uuid4())
                    seq += 1
                    people.append({"id": rid, "version": 1, "seq": seq, "property_id": pid,
                                   "full_name": f"Resident {n}-{r}", "phone": "01632 960000",
                                   "email": None, "vulnerabilities": ["Aged over 75"] if r else [],
                                   "warnings": ["Dog on premises"] if n % 7 == 0 else []})
                    rids.append(rid)
                cid = str(uuid.uuid4())
                seq += 1
                cases.append({"id": cid, "version": 1, "seq": seq, "reference": f"BEN-{officer_username[:3]}-{n:06d}",
                              "case_type": "damp_mould", "status": "open", "priority": "routine",
                              "summary": "Condensation and mould on bedroom walls", "description": "Bench case.",
                              "opened_at": "2026-11-01T09:00:00Z", "due_at": "2026-11-15T09:00:00Z",
                              "property_id": pid, "resident_ids": rids, "assigned_officer_id": officer.id,
                              "team_id": officer.team_id})
                links.extend({"case_id": cid, "resident_id": rid} for rid in rids)
            for table, rows in ((PropertyRow, props), (ResidentRow, people), (CaseRow, cases), (CaseResidentRow, links)):
                for start in range(0, len(rows), 5000):
                    conn.execute(insert(table), rows[start:start + 5000])
            conn.execute(update(CounterRow).where(CounterRow.name == SEQ_COUNTER).values(value=seq))
    finally:
        db.dispose()


# ---------------------------------------------------------------- measurements


@dataclass
class Initial:
    """One initial sync into a new store: wall seconds, requests, where the time went, and the CPU of both sides."""

    wall: float
    requests: int
    http: float
    applying: float
    transactions: int
    portal_cpu: float
    laptop_cpu: float
    load: float
    cases: int


def initial_sync(url: str, account: Any, folder: Path, portal_cpu_now: Callable[[], float], *, noops: int = 0,
                 profile: Path | None = None) -> tuple[Initial, list[tuple[int, float, float]]]:
    """One initial sync of ``account`` into a new store at ``folder``, then ``noops`` syncs with nothing to do.

    Returns the initial sync's figures and each no-op's (requests, seconds, seconds in HTTP);
    ``profile``: a cProfile of the initial sync is written there.
    """
    from fieldapp import FieldStore
    from sync import session
    from sync.engine import SyncEngine

    store = FieldStore.open(folder)
    try:
        client = session.sign_in(store, url, account.username, account.password)
        engine = SyncEngine(store, client)
        http = _time_http(client)
        applying = _time_calls(store, "apply_changes")
        profiler = cProfile.Profile() if profile else None
        before = client.request_count
        portal_cpu, own_cpu = portal_cpu_now(), time.process_time()
        start = time.perf_counter()
        if profiler:
            profiler.enable()
        report = engine.run()
        if profiler:
            profiler.disable()
        wall = time.perf_counter() - start
        portal_cpu, own_cpu = portal_cpu_now() - portal_cpu, time.process_time() - own_cpu
        assert report.ok, report.message
        if profiler and profile:
            profiler.dump_stats(profile)
        initial = Initial(wall, client.request_count - before, sum(http), sum(applying), len(applying), portal_cpu,
                          own_cpu, os.getloadavg()[0], len(store.cases()))
        idle = []
        for _ in range(noops):
            before = client.request_count
            http.clear()
            start = time.perf_counter()
            assert engine.run().ok
            idle.append((client.request_count - before, time.perf_counter() - start, sum(http)))
        return initial, idle
    finally:
        store.close()


def _time_calls(owner: Any, name: str) -> list[float]:
    """Record the seconds each call of ``owner.name`` takes (a list that fills as it is called)."""
    spent: list[float] = []
    method = getattr(owner, name)

    def timed(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return method(*args, **kwargs)
        finally:
            spent.append(time.perf_counter() - start)

    setattr(owner, name, timed)
    return spent


def _time_http(client: Any) -> list[float]:
    """The seconds each HTTP request of ``client`` takes (the portal's share of a sync)."""
    return _time_calls(client._session, "request")


def _make_photo(args: tuple[int, str]) -> str:
    """One random-ish photo of 1–2.5 MB once stored (noise survives JPEG badly, like real detail)."""
    from PIL import Image
    seed, path = args
    rng = random.Random(seed)
    width = rng.randrange(1600, 2400)
    size = (width, width * 3 // 4)
    grey = Image.effect_noise(size, rng.uniform(30, 50))
    image = Image.merge("RGB", [grey, grey.transpose(Image.Transpose.FLIP_LEFT_RIGHT),
                                grey.transpose(Image.Transpose.FLIP_TOP_BOTTOM)])
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=92)
    Path(path).write_bytes(buffer.getvalue())
    return path


def upload_vs_curl(url: str, account: Any, admin: Any, work: Path, photos: int) -> dict[str, float]:
    """Record 100 visits with ``photos`` photos, time the engine's upload phase, then curl the same bytes."""
    from fieldapp import FieldStore
    from sync import session
    from sync.engine import SyncEngine

    sys.path.insert(0, str(ROOT / "tests" / "e2e"))
    from sync_support import fill

    sources = work / "sources"
    sources.mkdir()
    started = time.perf_counter()
    with ProcessPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        files = list(pool.map(_make_photo, [(n, str(sources / f"p{n}.jpg")) for n in range(photos)], chunksize=8))
    print(f"  generated {photos} source photos in {time.perf_counter() - started:.1f} s")
    store = FieldStore.open(work / "uploader")
    try:
        client = session.sign_in(store, url, account.username, account.password)
        SyncEngine(store, client).run()
        cases = [c.id for c in store.cases() if store.templates_for(c.id)]
        visits = 100
        per_visit = photos // visits
        started = time.perf_counter()
        for v in range(visits):
            case_id = cases[v % len(cases)]
            template = store.templates_for(case_id)[0]
            visit = store.start_visit(case_id, template.id)
            ids = [store.add_photo(visit.id, files[v * per_visit + k]).id for k in range(per_visit)]
            store.update_visit(visit.id, answers=fill(template, ids), outcome="completed")
            store.submit_visit(visit.id)
        print(f"  recorded {visits} visits with {visits * per_visit} photos in {time.perf_counter() - started:.1f} s")
        refs = store.blobs_to_upload()
        total = sum(r.bytes for r in refs)
        marks: dict[str, float] = {}

        def on_progress(progress: Any) -> None:
            marks.setdefault(progress.phase, time.perf_counter())

        started = time.perf_counter()
        report = SyncEngine(store, client).run(progress=on_progress)
        whole = time.perf_counter() - started
        assert report.ok, report.message
        upload_time = marks["push"] - marks["upload"]
        stored = [(r.path, r.bytes) for r in refs]
        token = client.token
    finally:
        store.close()

    # curl: the same files with 16 random bytes appended after the JPEG end (a new hash, same work).
    copies = work / "curl"
    copies.mkdir()
    config = []
    curl_bytes = 0
    for path, _size in stored:
        data = Path(path).read_bytes() + os.urandom(16)
        name = hashlib.sha256(data).hexdigest()
        target = copies / f"{name}.jpg"
        target.write_bytes(data)
        curl_bytes += len(data)
        if config:
            config.append("next")
        config += [f'url = "{url}/api/v1/blobs/{name}"', "request = PUT", f'upload-file = "{target}"',
                   f'header = "Authorization: Bearer {token}"', f'header = "Content-Range: bytes 0-{len(data) - 1}/{len(data)}"',
                   'header = "Content-Type: application/octet-stream"', 'header = "Expect:"', 'output = "/dev/null"',
                   'write-out = "%{http_code}\\n"']
    (work / "curl.cfg").write_text("\n".join(config) + "\n")
    started = time.perf_counter()
    done = subprocess.run(["curl", "-s", "-K", str(work / "curl.cfg")], capture_output=True, text=True)
    curl_time = time.perf_counter() - started
    codes = done.stdout.split()
    assert done.returncode == 0 and codes.count("201") == len(stored), (done.returncode, codes[:5], done.stderr[-500:])
    return {"bytes": total, "engine_upload_s": upload_time, "engine_sync_s": whole, "curl_s": curl_time,
            "curl_bytes": curl_bytes, "photos": len(stored), "requests": client.request_count}


# ---------------------------------------------------------------- main


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pg", action="store_true", help="portal on PostgreSQL at 127.0.0.1:5432 (default SQLite)")
    parser.add_argument("--small", type=int, default=5000)
    parser.add_argument("--large", type=int, default=20000)
    parser.add_argument("--photos", type=int, default=500)
    parser.add_argument("--runs", type=int, default=3, help="initial syncs of each size (medians are printed)")
    parser.add_argument("--profile", action="store_true",
                        help="portal under py-spy, and a cProfile of the laptop's last initial sync of each size")
    args = parser.parse_args()

    from portal.seed import seed

    work = Path(tempfile.mkdtemp(prefix="bench_sync_"))
    pg_name = None
    if args.pg:
        import psycopg
        pg_name = f"fieldapp_bench_{os.getpid()}"
        with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{pg_name}"')
        database_url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{pg_name}"
    else:
        database_url = f"sqlite:///{work / 'portal.db'}"
    print(f"portal database: {'PostgreSQL' if args.pg else 'SQLite'}; portal in a separate process on 127.0.0.1; "
          f"{served.load()}")
    portal = None
    try:
        started = time.perf_counter()
        accounts = seed(database_url, 30).accounts
        officers = [a for a in accounts if a.role == "officer"]
        admin = next(a for a in accounts if a.role == "admin")
        rng = random.Random(1)
        bulk_cases(database_url, officers[0].username, args.small, rng)
        bulk_cases(database_url, officers[1].username, args.large, rng)
        print(f"  seeded {args.small} + {args.large} cases in {time.perf_counter() - started:.1f} s")
        portal = served.serve(database_url, work / "blobs", profile="bench_sync-portal" if args.profile else None)
        url = portal.url

        medians = {}
        for label, officer, count in (("small", officers[0], args.small), ("large", officers[1], args.large)):
            runs = []
            for run in range(args.runs):
                last = run == args.runs - 1
                profile = Path(tempfile.gettempdir()) / f"bench_sync-{label}.prof" if args.profile and last else None
                initial, noops = initial_sync(url, officer, work / f"{label}-{run}", portal.cpu_seconds,
                                              noops=5 if last else 0, profile=profile)
                runs.append(initial)
                print(f"  {label} #{run + 1}: {initial.wall:.2f} s, {initial.requests} requests; portal answering "
                      f"{initial.http:.2f} s, store applying {initial.applying:.2f} s in {initial.transactions} transactions "
                      f"(they overlap); CPU: portal "
                      f"{initial.portal_cpu:.2f} s, laptop {initial.laptop_cpu:.2f} s; load average {initial.load:.1f}")
                if profile:
                    print(f"    laptop cProfile: {profile}")
            medians[label] = wall = statistics.median(r.wall for r in runs)
            cpu = {side: statistics.median(getattr(r, side) for r in runs) for side in ("portal_cpu", "laptop_cpu")}
            print(f"initial sync, {runs[-1].cases} cases in scope ({count} bench cases): median {wall:.2f} s of "
                  f"{len(runs)}; CPU median: portal {cpu['portal_cpu']:.2f} s, laptop {cpu['laptop_cpu']:.2f} s; "
                  f"{served.load()}")
            requests_max = max(r for r, _, _ in noops)
            median_ms = statistics.median(t for _, t, _ in noops) * 1000
            http_ms = statistics.median(h for _, _, h in noops) * 1000
            print(f"no-op sync at {count} cases: {requests_max} HTTP request(s), median {median_ms:.0f} ms "
                  f"(max {max(t for _, t, _ in noops) * 1000:.0f} ms; of which waiting for the portal's answer "
                  f"{http_ms:.0f} ms) over {len(noops)} runs")
        ratio = medians["large"] / medians["small"]
        large_ok = medians["large"] <= 5.0
        print(f"targets: initial {args.large} ≤ 5 s: {'met' if large_ok else 'MISSED'}; "
              f"{args.large} ≤ 4.5× the {args.small} ({ratio:.2f}×): {'met' if ratio <= 4.5 else 'MISSED'} "
              f"({served.load()})")

        if args.photos < 100:
            return 0  # --photos 0: only the sync figures
        figures = upload_vs_curl(url, officers[2], admin, work, args.photos)
        mb = figures["bytes"] / 1e6
        engine_rate = mb / figures["engine_upload_s"]
        curl_rate = figures["curl_bytes"] / 1e6 / figures["curl_s"]
        print(f"upload: {figures['photos']} photos, {mb:.0f} MB: engine upload phase {figures['engine_upload_s']:.2f} s "
              f"({engine_rate:.0f} MB/s; whole sync incl. push {figures['engine_sync_s']:.2f} s)")
        print(f"curl, same files with new hashes, one PUT each: {figures['curl_s']:.2f} s ({curl_rate:.0f} MB/s)")
        share = engine_rate / curl_rate
        print(f"engine/curl throughput: {share * 100:.0f} % (target ≥ 70 %: {'met' if share >= 0.7 else 'MISSED'})")
    finally:
        if portal is not None:
            portal.stop()
        if pg_name:
            import psycopg
            with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
