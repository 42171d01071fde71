"""Sync benchmarks: initial sync, no-op sync, and photo upload throughput against curl.

The portal runs in a separate process on 127.0.0.1 (``portal.server.serve``, the code
behind ``fieldapp-portal serve``), on SQLite by default or PostgreSQL with ``--pg``.
Its database is seeded with the demo council, then bulk-filled (SQLAlchemy Core,
straight into the portal's tables, because the record-by-record seeding is too slow for
25,000 cases) with 5,000 cases for one officer and 20,000 for another, each with its
property and one to three residents.

Figures printed:
- initial sync of 5,000 and 20,000 cases (target: 20,000 ≤ 5 s, and ≤ 4.5 × the 5,000 time, so the
  apply rate does not fall as pages grow), with the CPU seconds of the portal and the laptop's process;
- a sync with nothing to do: HTTP requests and time (target ≤ 3 requests, ≤ 150 ms);
- upload of 100 visits with 500 photos of 1–2.5 MB: throughput of the engine's upload
  phase vs one `curl` process sending copies of the same files (new hashes, so dedupe
  cannot help) one PUT each to the same portal (target ≥ 70 %).

The portal runs with its served defaults (``chunk_bytes`` 4 MiB: each photo, and each
curl file, goes in one PUT), so the figures are what ``fieldapp-portal serve`` does.

Usage: python bench/bench_sync.py [--pg] [--photos 500] [--small 5000] [--large 20000]
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("FIELDAPP_PORTAL_KDF_N", "16")  # cheap sign-in: the bench is about sync


# ---------------------------------------------------------------- portal process and data


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_portal(database_url: str, blob_dir: Path) -> tuple[subprocess.Popen, str]:
    """`fieldapp-portal serve` with its defaults in its own process; returns once /health answers."""
    port = free_port()
    command = [sys.executable, "-m", "portal.cli", "serve", "--database-url", database_url,
               "--blob-dir", str(blob_dir), "--port", str(port)]
    proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    import requests
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"portal process exited: {proc.stderr.read().decode()[-2000:]}")
        try:
            if requests.get(url + "/api/v1/health", timeout=1).status_code == 200:
                return proc, url
        except requests.RequestException:
            time.sleep(0.1)
    raise SystemExit("portal did not start in 60 s")


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


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far (Linux /proc): load on 2 shared cores inflates wall time, not this."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def initial_and_noop(url: str, account: Any, work: Path, label: str,
                     portal_pid: int) -> tuple[float, list[tuple[int, float, float]], int]:
    """Initial sync time, then five no-op syncs as (requests, seconds, seconds in HTTP); and the cases received."""
    from fieldapp import FieldStore
    from sync import session
    from sync.engine import SyncEngine

    store = FieldStore.open(work / label)
    try:
        client = session.sign_in(store, url, account.username, account.password)
        engine = SyncEngine(store, client)
        http = _time_http(client)
        applying = _time_calls(store, "apply_changes")
        portal_cpu, own_cpu = _cpu_seconds(portal_pid), time.process_time()
        start = time.perf_counter()
        report = engine.run()
        initial = time.perf_counter() - start
        portal_cpu, own_cpu = _cpu_seconds(portal_pid) - portal_cpu, time.process_time() - own_cpu
        assert report.ok, report.message
        print(f"  {label}: {len(http)} requests; portal answering {sum(http):.2f} s, store applying "
              f"{sum(applying):.2f} s (they overlap: the next page downloads while one is applied); CPU: portal "
              f"{portal_cpu:.2f} s, laptop {own_cpu:.2f} s; load average {os.getloadavg()[0]:.1f}")
        noops = []
        for _ in range(5):
            before = client.request_count
            http.clear()
            start = time.perf_counter()
            assert engine.run().ok
            noops.append((client.request_count - before, time.perf_counter() - start, sum(http)))
        return initial, noops, len(store.cases())
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
          f"load average {', '.join(f'{v:.1f}' for v in os.getloadavg())}")
    proc = None
    try:
        started = time.perf_counter()
        accounts = seed(database_url, 30).accounts
        officers = [a for a in accounts if a.role == "officer"]
        admin = next(a for a in accounts if a.role == "admin")
        rng = random.Random(1)
        bulk_cases(database_url, officers[0].username, args.small, rng)
        bulk_cases(database_url, officers[1].username, args.large, rng)
        print(f"  seeded {args.small} + {args.large} cases in {time.perf_counter() - started:.1f} s")
        proc, url = start_portal(database_url, work / "blobs")

        results = {}
        for label, officer, count in (("small", officers[0], args.small), ("large", officers[1], args.large)):
            initial, noops, cases = initial_and_noop(url, officer, work, label, proc.pid)
            results[label] = (initial, noops)
            requests_max = max(r for r, _, _ in noops)
            median_ms = statistics.median(t for _, t, _ in noops) * 1000
            http_ms = statistics.median(h for _, _, h in noops) * 1000
            print(f"initial sync, {cases} cases in scope ({count} bench cases): {initial:.2f} s")
            print(f"no-op sync at {count} cases: {requests_max} HTTP request(s), median {median_ms:.0f} ms "
                  f"(max {max(t for _, t, _ in noops) * 1000:.0f} ms; of which waiting for the portal's answer "
                  f"{http_ms:.0f} ms) over {len(noops)} runs")
        ratio = results["large"][0] / results["small"][0]
        large_ok = results["large"][0] <= 5.0
        print(f"targets: initial {args.large} ≤ 5 s: {'met' if large_ok else 'MISSED'}; "
              f"{args.large} ≤ 4.5× the {args.small} ({ratio:.2f}×): {'met' if ratio <= 4.5 else 'MISSED'} "
              f"(load average {', '.join(f'{v:.1f}' for v in os.getloadavg())})")

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
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=30)
        if pg_name:
            import psycopg
            with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
