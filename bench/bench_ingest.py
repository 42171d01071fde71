"""Benchmark: how fast `fieldapp-portal serve` takes photo bytes from curl on loopback (goal ≥ 300 MB/s).

The portal runs as `fieldapp-portal serve` in its own process with the served defaults
(nothing but the database URL, blob folder and port on its command line), on SQLite and
on PostgreSQL. One `curl` process PUTs about 320 MB of policy-sized photos (2560 px,
~0.6 MB each, as the laptop stores them) over one connection, each in as few PUTs as the
served ``chunk_bytes`` (from ``GET /sync/meta``) allows; then the same amount again over
4 connections at once (``curl --parallel``: the engine uploads over at most 4). Every
photo is a distinct blob (a few random bytes after the JPEG's end give it a new hash),
so dedupe cannot help. Prints MB/s per database and the load average, the portal's CPU
a photo (user and system) and each portal process's share (the workers should share it
evenly), that CPU step by step (the portal's own functions timed in this process: lookup,
hash, JPEG check, file and syncs, row and commit; the rest is HTTP and ASGI), and what
this disk allows: its syncs alone, and the durable steps (file, syncs, row, commit) alone
from 4 threads at once, a ceiling for any portal that keeps the durability promise here.

Each number of connections is run ``--repeats`` times (3), each time with new blobs, and
the goal is judged on the median: one run of ~1 s on a shared 2-core machine varies by
a tenth either way.

Usage: python bench/bench_ingest.py [--sqlite-only | --pg-only] [--megabytes 320] [--connections 1,4] [--repeats 3] [--profile]
(--profile runs the portal under py-spy and writes its collapsed stacks to the temp folder).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests
from sqlalchemy import text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("FIELDAPP_PORTAL_KDF_N", "16")  # cheap sign-in: the bench is about bytes

import served  # noqa: E402
from photo_samples import save_photo  # noqa: E402

from fieldapp.photos import PhotoPolicy, prepare  # noqa: E402

GOAL_MB_S = 300.0


def policy_photos(work: Path, count: int) -> list[bytes]:
    """``count`` distinct camera photos as the laptop stores them (scaled by the default policy)."""
    policy = PhotoPolicy()
    out = []
    for seed in range(count):
        source = save_photo(work / f"camera{seed}.jpg", (4000, 3000), seed=seed + 10)
        out.append(prepare(source, policy).data)
    return out


def curl_files(work: Path, bases: list[bytes], megabytes: int, chunk: int, seed: int = 7) -> tuple[list[tuple[str, Path, int, int]], int]:
    """Distinct blobs of ~``megabytes`` in all (another ``seed``, other blobs), cut into PUT bodies of at most ``chunk`` bytes.

    Returns (sha256, body file, start, total) per PUT, in sending order, and the bytes in all.
    """
    rng = random.Random(seed)
    puts: list[tuple[str, Path, int, int]] = []
    total = 0
    n = 0
    folder = work / "curl"
    folder.mkdir(parents=True)
    while total < megabytes * 1_000_000:
        data = bases[n % len(bases)] + rng.randbytes(16)
        sha = hashlib.sha256(data).hexdigest()
        for start in range(0, len(data), chunk):
            body = folder / f"{sha}.{start}"
            body.write_bytes(data[start:start + chunk])
            puts.append((sha, body, start, len(data)))
        total += len(data)
        n += 1
    return puts, total


def curl_config(url: str, token: str, puts: list[tuple[str, Path, int, int]]) -> str:
    """One curl config: every PUT in a row over one keep-alive connection."""
    lines: list[str] = []
    for sha, body, start, total in puts:
        if lines:
            lines.append("next")
        end = start + body.stat().st_size - 1
        lines += [f'url = "{url}/api/v1/blobs/{sha}"', "request = PUT", f'upload-file = "{body}"',
                  f'header = "Authorization: Bearer {token}"', f'header = "Content-Range: bytes {start}-{end}/{total}"',
                  'header = "Content-Type: application/octet-stream"', 'header = "Expect:"', 'output = "/dev/null"',
                  'write-out = "%{http_code}\\n"']
    return "\n".join(lines) + "\n"


def disk_sync_ms(folder: Path, size: int) -> tuple[float, float]:
    """Median milliseconds of fdatasync after writing ``size`` new bytes, and of fsync of the folder, here."""
    folder.mkdir(parents=True, exist_ok=True)
    data, syncs, dirs = os.urandom(size), [], []
    for n in range(15):
        fd = os.open(folder / f"probe{n}", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.write(fd, data)
        started = time.perf_counter()
        os.fdatasync(fd)
        syncs.append(time.perf_counter() - started)
        os.close(fd)
        fd = os.open(folder, os.O_RDONLY)
        started = time.perf_counter()
        os.fsync(fd)
        dirs.append(time.perf_counter() - started)
        os.close(fd)
    for n in range(15):
        (folder / f"probe{n}").unlink()
    return statistics.median(syncs) * 1000, statistics.median(dirs) * 1000


def cpu_breakdown(database_url: str, work: Path, photos: list[bytes], token: str, rounds: int = 3,
                  writers: int = 4) -> tuple[dict[str, float], float]:
    """Median CPU milliseconds per photo of each step a whole-photo PUT takes, run here with the portal's own functions,
    and the MB/s of the durable steps alone from ``writers`` threads at once.

    The steps of ``services.blobs._put_whole`` and the lookup before it, one at a time over
    the same photos (each a new blob): what the served CPU a photo is made of, save the
    HTTP and ASGI work (the served figure minus these). Then the file, its syncs, the row
    and its commit for every photo, shared among ``writers`` threads as the served uploads
    share them: what this disk and database allow a portal that keeps the durability
    promise, whatever its CPU (the threads wait in system calls, not for the interpreter).
    """
    from portal.blobstore import FileBlobStore
    from portal.core.config import PortalSettings
    from portal.core.db import Database
    from portal.services import blobs as blob_service
    from portal.services.imagecheck import inspect_image

    settings = PortalSettings.from_env(database_url=database_url, blob_dir=work)
    db, store = Database(database_url), FileBlobStore(work)
    hashes = [hashlib.sha256(data).hexdigest() for data in photos]
    found = blob_service.whole_caller_and_state(db, token, hashes[0])
    assert found is not None, "the bench's token is not live"
    caller = found[0]
    facts = inspect_image(io.BytesIO(photos[0]), settings.max_photo_edge)

    def lookup(sha: str, data: bytes) -> None:
        blob_service.whole_caller_and_state(db, token, sha)

    def record(sha: str, data: bytes) -> None:
        blob_service.record_whole(db, caller, sha, len(data), facts)

    steps = {
        "token + blob lookup": lookup,
        "sha256": lambda sha, data: hashlib.sha256(data).digest(),
        "JPEG check": lambda sha, data: inspect_image(io.BytesIO(data), settings.max_photo_edge),
        "file write + syncs": lambda sha, data: store.store_whole(sha, data),
        "blob row + commit": record,
    }
    def forget() -> None:
        """Drop the rows and files stored: the next round stores the same blobs again."""
        with db.plain_connection(writes=True) as connection:
            connection.execute(text("DELETE FROM blob_uploaders WHERE user_id = :u"), {"u": caller.id})
            connection.execute(text("DELETE FROM blobs WHERE sha256 IN (SELECT value FROM json_each(:h))") if db.sqlite
                               else text("DELETE FROM blobs WHERE sha256 = ANY(:h)"), {"h": json.dumps(hashes) if db.sqlite else hashes})
        for sha in hashes:
            store.delete(sha)

    found_ms: dict[str, list[float]] = {name: [] for name in steps}
    for _ in range(rounds):
        for name, step in steps.items():
            started = time.process_time()
            for sha, data in zip(hashes, photos):
                step(sha, data)
            found_ms[name].append((time.process_time() - started) / len(photos) * 1000)
        forget()

    def durable(share: list[tuple[str, bytes]]) -> None:
        for sha, data in share:
            store.store_whole(sha, data)
            record(sha, data)

    pairs = list(zip(hashes, photos))
    threads = [threading.Thread(target=durable, args=(pairs[n::writers],)) for n in range(writers)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    durable_mb_s = sum(map(len, photos)) / 1e6 / (time.perf_counter() - started)
    forget()
    db.dispose()
    return {name: statistics.median(values) for name, values in found_ms.items()}, durable_mb_s


def verdict(rate: float) -> str:
    """The goal, and whether ``rate`` (MB/s) meets it."""
    return f"goal ≥ {GOAL_MB_S:.0f}: {'met' if rate >= GOAL_MB_S else 'MISSED'}"


def curl_once(portal: served.Served, url: str, token: str, folder: Path, label: str, bases: list[bytes], megabytes: int,
              chunk: int, count: int, seed: int) -> float:
    """One curl run of ~``megabytes`` of new blobs over ``count`` connections; prints its figures, returns its MB/s."""
    puts, total = curl_files(folder, bases, megabytes, chunk, seed=seed)
    config = folder / "curl.cfg"
    config.write_text(curl_config(url, token, puts))
    blobs = len({sha for sha, *_ in puts})
    parallel = ["--parallel", "--parallel-immediate", "--parallel-max", str(count)] if count > 1 else []
    load_before = os.getloadavg()[0]
    user_before, system_before = portal.cpu_split()
    each_before = portal.cpu_by_process()
    started = time.perf_counter()
    done = subprocess.run(["curl", "-s", *parallel, "-K", str(config)], capture_output=True, text=True)
    seconds = time.perf_counter() - started
    user_after, system_after = portal.cpu_split()
    each_after = portal.cpu_by_process()
    user, system = user_after - user_before, system_after - system_before
    codes = done.stdout.split()
    if done.returncode != 0 or codes.count("201") != blobs:
        raise SystemExit(f"curl failed ({done.returncode}; answers {sorted(set(codes))}): {done.stderr[-300:]}\n{portal.log_tail()}")
    rate = total / 1e6 / seconds
    way = "one connection" if count == 1 else f"{count} connections"
    print(f"{label:<10} {blobs} photos, {total / 1e6:.0f} MB in {len(puts)} PUTs over {way} (served chunk_bytes {chunk}): "
          f"{seconds:.2f} s = {rate:.0f} MB/s ({verdict(rate)}); "
          f"load {load_before:.1f} before, {served.load()} after")
    cpu = user + system
    print(f"{'':<10} portal process CPU {cpu:.2f} s = {cpu / blobs * 1000:.2f} ms per photo (user {user / blobs * 1000:.2f}, "
          f"system {system / blobs * 1000:.2f}; bound by that alone: {total / 1e6 / cpu:.0f} MB/s)")
    shares = sorted((each_after[pid] - each_before.get(pid, 0.0) for pid in each_after), reverse=True)
    print(f"{'':<10} CPU by portal process (s, busiest first; wall {seconds:.2f} s): "
          + ", ".join(f"{share:.2f}" for share in shares))
    shutil.rmtree(folder)  # a run's bodies: ~320 MB each
    return rate


def run_one(label: str, database_url: str, work: Path, bases: list[bytes], megabytes: int, connections: list[int], profile: bool,
            repeats: int) -> None:
    """Seed, serve with defaults, curl the photos over each number of connections ``repeats`` times; prints MB/s."""
    from portal.seed import seed

    officer = next(a for a in seed(database_url, 10).accounts if a.role == "officer")
    with served.serve(database_url, work / f"blobs-{label}", profile=f"bench_ingest-{label}" if profile else None) as portal:
        url = portal.url
        login = requests.post(f"{url}/api/v1/auth/login", timeout=30, json={
            "username": officer.username, "password": officer.password, "device_id": "bench-ingest"}).json()
        token = login["token"]
        chunk = requests.get(f"{url}/api/v1/sync/meta", headers={"Authorization": f"Bearer {token}"}, timeout=30).json()["chunk_bytes"]
        for count in connections:
            rates = [curl_once(portal, url, token, work / label / f"x{count}-{run}", label, bases, megabytes, chunk, count,
                               seed=7 + count + 1000 * run) for run in range(repeats)]
            if repeats > 1:
                rate = statistics.median(rates)
                print(f"{'':<10} median of {repeats} over {count} connection(s): {rate:.0f} MB/s "
                      f"({verdict(rate)}); runs "
                      + ", ".join(f"{each:.0f}" for each in rates))
        rng = random.Random(99)
        sample = [bases[n % len(bases)] + rng.randbytes(16) for n in range(100)]
        load_before = served.load()
        parts, durable_mb_s = cpu_breakdown(database_url, work / f"breakdown-{label}", sample, token)
        steps = "; ".join(f"{name} {ms:.2f}" for name, ms in parts.items())
        print(f"{'':<10} CPU ms per photo, step by step in this process (median of 3 x {len(sample)}): {steps}; "
              f"together {sum(parts.values()):.2f}, the rest of the served figure is HTTP and ASGI; {load_before}")
        photo_bytes = sum(map(len, sample)) // len(sample)
        sync_ms, dir_ms = disk_sync_ms(work / "probe", photo_bytes)
        print(f"{'':<10} this disk now: fdatasync of a photo-sized write {sync_ms:.1f} ms, folder fsync {dir_ms:.1f} ms; "
              f"one connection waits for both per photo (the durability promise): "
              f"≤ {photo_bytes / 1e3 / (sync_ms + dir_ms):.0f} MB/s from syncs alone; the file, syncs, row and commit "
              f"alone from 4 threads at once: {durable_mb_s:.0f} MB/s")


def main() -> int:
    parser = served.parser(__doc__)
    parser.add_argument("--megabytes", type=int, default=320)
    parser.add_argument("--connections", default="1,4", help="comma-separated numbers of parallel curl connections")
    parser.add_argument("--repeats", type=int, default=3, help="curl runs per number of connections (the goal is judged on their median)")
    args = parser.parse_args()

    connections = [int(n) for n in args.connections.split(",")]
    work = Path(tempfile.mkdtemp(prefix="bench_ingest_"))
    try:
        started = time.perf_counter()
        bases = policy_photos(work, 6)
        print(f"bench_ingest: {len(bases)} camera photos scaled by the default policy "
              f"({sum(map(len, bases)) / len(bases) / 1e6:.2f} MB each) in {time.perf_counter() - started:.1f} s; "
              f"{os.cpu_count()} CPUs")
        if not args.pg_only:
            run_one("SQLite", f"sqlite:///{work / 'portal.db'}", work, bases, args.megabytes, connections, args.profile, args.repeats)
        if not args.sqlite_only:
            with served.scratch_pg("ingest") as database_url:
                run_one("PostgreSQL", database_url, work, bases, args.megabytes, connections, args.profile, args.repeats)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
