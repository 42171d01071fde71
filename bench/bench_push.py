"""A field day's push: 1,000 visits and 500 camera photos, one `fieldapp sync` process, a served portal.

For each portal database (SQLite, PostgreSQL):
1. a fresh portal database is seeded (the demo council, plus one case per visit for the
   officer) and `fieldapp-portal serve` runs in its own process with its served defaults
   (chunk size, push limits: nothing tuned; only the password hash is made cheap, as in
   every bench, because sign-in is not what is measured);
2. a laptop store signs in and pulls (one `fieldapp sync` process, which also leaves the
   program's bytecode compiled, as installed), then records the visits offline through `FieldStore`:
   realistic answers (every kind of question, repeated rooms, hazards, notes) and
   4000×3000 camera JPEGs with EXIF (`photo_samples`), imported by the store's photo
   policy. Making and preparing 500 such photos takes minutes, so the prepared photos
   are cached (``--cache``, keyed by the photo code) and attached through `FieldStore`;
3. ONE `fieldapp sync` process pushes it all; its progress lines are timed;
4. in the same run, one `curl` process PUTs the same bytes (the photo files and the push
   bodies) over one connection to a temporary unprivileged nginx on loopback.

Printed: push seconds (the whole process, and its phases), HTTP requests, bytes, curl's
seconds for the same bytes, the share of curl's throughput, and ``os.getloadavg()``.
Goals (issue 17): push ≤ 5 s; ≥ 25 % of curl's throughput.

``--link`` pushes the same workload a second time through `bench/fieldlink.py` (50 ms round
trip, 20 Mbit/s up, 1 % loss) and compares with the bytes alone at 20 Mbit/s (goal ≤ 1.3×).
``--profile DIR`` records py-spy profiles of the sync process (its Python CPU: samples holding the GIL)
and of the portal. The sync process runs as installed, its bytecode cached (`installed`).

Usage: python bench/bench_push.py [--db sqlite,pg] [--visits 1000] [--photos 500] [--quick] [--link]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import pickle
import random
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("FIELDAPP_PORTAL_KDF_N", "16")  # cheap sign-in: the bench is about the push

from bench_sync import bulk_cases  # noqa: E402  (the bench folder's shared bulk filler)
from installed import installed_env, show_bytecode_setting  # noqa: E402
from served import tree_cpu_seconds  # noqa: E402  (the portal's workers included)

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
NGINX = "/usr/sbin/nginx"
BASES = 8  # distinct 12-megapixel scenes; every photo is one of them with its own changes


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f}"


# ---------------------------------------------------------------- photos (cached)


def _photo_key() -> str:
    """The cache key: the photo policy (what the stored bytes depend on) and the sample maker.

    Not the import code: this bench measures the push of stored photos, not their import.
    """
    try:
        from fieldapp.photo_policy import PhotoPolicy
    except ImportError:  # a tree from before the policy had its own module (a before/after run)
        from fieldapp.photos import PhotoPolicy  # type: ignore[no-redef]

    digest = hashlib.sha256(repr(PhotoPolicy()).encode())
    digest.update((ROOT / "bench" / "photo_samples.py").read_bytes())
    return digest.hexdigest()[:16]


def _base_photo(args: tuple[int, str]) -> str:
    from photo_samples import make_photo

    seed, path = args
    make_photo((4000, 3000), seed=seed).save(path, "PNG", compress_level=1)
    return path


def _prepared_photo(args: tuple[int, str, str, str]) -> str:
    """One camera photo: a base scene with its own detail, saved as a phone would, then prepared by a store."""
    from PIL import Image, ImageDraw

    from fieldapp import FieldStore
    from photo_samples import camera_exif

    number, base, scratch, target = args
    rng = random.Random(number)
    image = Image.open(base).convert("RGB")
    draw = ImageDraw.Draw(image)
    for _ in range(12):  # the scene moved a little: new edges and a patch of fresh grain
        draw.line([(rng.randrange(4000), rng.randrange(3000)) for _ in range(2)],
                  fill=tuple(rng.randrange(256) for _ in range(3)), width=rng.randrange(2, 9))
    x, y = rng.randrange(3600), rng.randrange(2600)
    image.paste(Image.effect_noise((400, 400), rng.uniform(20, 60)).convert("RGB"), (x, y))
    source = Path(scratch) / f"IMG_{number:04d}.jpg"
    image.save(source, "JPEG", quality=93, exif=camera_exif(rng.choice((1, 1, 1, 6))).tobytes())
    store = FieldStore.open(Path(scratch) / f"store-{os.getpid()}")
    try:
        prepared = store.prepare_photo(source)
    finally:
        store.close()
        source.unlink()
    Path(target).write_bytes(pickle.dumps(prepared))
    return target


def prepared_photos(count: int, cache: Path) -> list[Any]:
    """``count`` prepared camera photos, made once per cache and photo code."""
    folder = cache / f"photos-{_photo_key()}"
    folder.mkdir(parents=True, exist_ok=True)
    wanted = [folder / f"{n:04d}.pickle" for n in range(count)]
    todo = [n for n, path in enumerate(wanted) if not path.exists()]
    if todo:
        started = time.perf_counter()
        scratch = Path(tempfile.mkdtemp(prefix="bench_push_photos_"))
        try:
            with ProcessPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
                bases = list(pool.map(_base_photo, [(b, str(folder / f"base-{b}.png")) for b in range(BASES)
                                                    if not (folder / f"base-{b}.png").exists()]))
                del bases
                jobs = [(n, str(folder / f"base-{n % BASES}.png"), str(scratch), str(wanted[n])) for n in todo]
                list(pool.map(_prepared_photo, jobs, chunksize=4))
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        print(f"  made and prepared {len(todo)} camera photos (4000×3000 JPEG with EXIF) in "
              f"{time.perf_counter() - started:.0f} s (cached in {folder})")
    return [pickle.loads(path.read_bytes()) for path in wanted]


# ---------------------------------------------------------------- realistic answers

_WORDS = ("Black mould along the window reveal and behind the wardrobe. Tenant wipes it weekly but it returns "
          "within days. Extractor fan in the bathroom is not working and the trickle vents are painted shut. "
          "Plaster is blown below the sill; readings high near the external wall. Two young children share "
          "the room; one has asthma. Advised heating and ventilation; repair to be raised today. Gutter above "
          "the bay is leaking onto the brickwork. Skirting boards damp to touch, carpet lifted in the corner.").split(". ")


def _sentence(rng: random.Random, count: int) -> str:
    return ". ".join(rng.sample(_WORDS, count)) + "."


def _answer(question: Any, rng: random.Random, photo_ids: list[str]) -> Any:
    from fieldapp.domain import HHSRS_BANDS, HHSRS_HAZARDS

    kind = question.kind
    if kind == "yes_no":
        return rng.random() < 0.5
    if kind == "choice":
        return rng.choice(question.options)
    if kind == "multi_choice":
        return rng.sample(list(question.options), rng.randint(1, min(3, len(question.options))))
    if kind == "text":
        return _sentence(rng, rng.randint(1, 4))
    if kind == "number":
        low = question.min if question.min is not None else 0
        high = question.max if question.max is not None else low + 100
        return round(rng.uniform(low, high), 1)
    if kind == "date":
        return f"2026-{rng.randint(1, 11):02d}-{rng.randint(1, 28):02d}"
    if kind == "rating":
        return rng.randint(1, 5)
    if kind == "hazard":
        return {"hazard": rng.choice(HHSRS_HAZARDS), "band": rng.choice(HHSRS_BANDS)}
    if kind == "photo":
        return list(photo_ids) or None
    raise AssertionError(f"unknown question kind {kind}")


def answers_for(template: Any, rng: random.Random, photo_ids: list[str]) -> dict[str, Any]:
    """An answer to every question (hidden ones are dropped on submit); repeated sections 1–3 rooms."""
    answers: dict[str, Any] = {}
    for section in template.sections:
        rooms = rng.randint(1, 3) if section.repeat else 0
        for question in section.questions:
            if rooms:
                values = [_answer(question, rng, photo_ids if n == 0 else []) for n in range(rooms)]
                if question.kind == "photo":
                    values = [v or [] for v in values]
                answers[question.id] = values
            else:
                value = _answer(question, rng, photo_ids)
                if value is not None:
                    answers[question.id] = value
    return answers


def hazards_for(rng: random.Random) -> list[Any]:
    from fieldapp.domain import HHSRS_BANDS, HHSRS_HAZARDS
    from fieldapp.types import Hazard

    return [Hazard(hazard=rng.choice(HHSRS_HAZARDS), band=rng.choice(HHSRS_BANDS[:6]),
                   location=rng.choice(("Bedroom 1", "Bathroom", "Kitchen", "Hall", "Living room")),
                   notes=_sentence(rng, 1)) for _ in range(rng.choice((0, 0, 1, 1, 2)))]


# ---------------------------------------------------------------- portal, laptop, sync process


@dataclass
class Portal:
    url: str
    proc: subprocess.Popen
    accounts: list[Any]
    database_url: str
    pg_name: str | None = None
    profiler: subprocess.Popen | None = None

    def stop(self) -> None:
        if self.profiler is not None:
            self.profiler.send_signal(2)
            self.profiler.wait(timeout=60)
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        if self.pg_name:
            import psycopg
            with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{self.pg_name}" WITH (FORCE)')


def start_portal(kind: str, work: Path, cases: int, profile: Path | None, laptops: int = 1) -> Portal:
    """A seeded portal database and `fieldapp-portal serve` on it in its own process (served defaults)."""
    from portal.seed import seed
    from portal.server import free_port, wait_healthy

    pg_name = None
    if kind == "pg":
        import psycopg
        pg_name = f"fieldapp_bench_push_{os.getpid()}"
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{pg_name}"')
        database_url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{pg_name}"
    else:
        database_url = f"sqlite:///{work / 'portal.db'}"
    accounts = seed(database_url, 30).accounts
    officers = [a for a in accounts if a.role == "officer"][:laptops]
    for number, officer in enumerate(officers):
        bulk_cases(database_url, officer.username, cases, random.Random(7 + number))
    port = free_port()
    command = [sys.executable, "-m", "portal.cli", "serve", "--database-url", database_url,
               "--blob-dir", str(work / "blobs"), "--port", str(port)]
    proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    url = f"http://127.0.0.1:{port}"
    wait_healthy(url + "/api/v1", lambda: proc.poll() is None)
    profiler = None
    if profile is not None:
        profiler = subprocess.Popen([_py_spy(), "record", "--pid", str(proc.pid), "--rate", "200",
                                     "--format", "speedscope", "-o", str(profile / f"portal-{kind}.json")],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1.0)
    return Portal(url, proc, accounts, database_url, pg_name, profiler)


def _py_spy() -> str:
    return str(Path(sys.executable).with_name("py-spy"))


@dataclass
class Laptop:
    data_dir: Path
    officer: Any
    visits: int
    photo_bytes: int
    op_bytes: int
    op_bodies: list[bytes] = field(default_factory=list)
    photo_files: list[Path] = field(default_factory=list)


def record_day(portal: Portal, work: Path, visits: int, photos: list[Any], label: str, url: str | None = None,
               officer_number: int = 0) -> Laptop:
    """Sign an officer's laptop in (at ``url``, default the portal's), pull, and record the day's visits, offline."""
    from fieldapp import FieldStore

    officer = [a for a in portal.accounts if a.role == "officer"][officer_number]
    data_dir = work / f"laptop-{label}"
    # The morning's sync signs the laptop in and brings its cases, by the same `fieldapp sync` process as
    # the measured one: so that one finds its bytecode compiled, as an installed program's is. (A first
    # process on a fresh cache compiles the libraries it imports: 1.5-2 s of CPU, once.)
    morning = run_sync(Laptop(data_dir, officer, 0, 0, 0), url or portal.url, None, f"{label}-morning")
    if morning.code != 0:
        raise SystemExit("the morning sync failed:\n" + "\n".join(morning.output[-8:]))
    store = FieldStore.open(data_dir)
    try:
        rng = random.Random(11)
        cases = [c for c in store.cases() if c.reference.startswith("BEN-")][:visits]
        if len(cases) < visits:
            raise SystemExit(f"only {len(cases)} bench cases for {visits} visits")
        owner = [rng.randrange(visits) for _ in photos]   # 0 to several photos a visit, like a real day
        started = time.perf_counter()
        for number, case in enumerate(cases):
            template = store.templates_for(case.id)[0]
            visit = store.start_visit(case.id, template.id)
            ids = [store.attach_photo(visit.id, photos[p], caption=f"Photo {p + 1}").id
                   for p in range(len(photos)) if owner[p] == number]
            outcome = "no_access" if number % 25 == 24 else "completed"
            store.update_visit(visit.id, answers=answers_for(template, rng, ids) if outcome == "completed" else {},
                               notes=_sentence(rng, 2), outcome=outcome, hazards=hazards_for(rng))
            store.submit_visit(visit.id)
        refs = store.blobs_to_upload()
        ops = store.outbox(limit=100_000)
        print(f"  recorded {visits} visits with {len(photos)} photos through FieldStore in "
              f"{time.perf_counter() - started:.1f} s")
        bodies = [json.dumps({"device_id": "x" * 36, "ops": [op.to_wire() for op in ops[i:i + 200]]}).encode()
                  for i in range(0, len(ops), 200)]
        return Laptop(data_dir, officer, visits, sum(r.bytes for r in refs), sum(op.size for op in ops),
                      bodies, [r.path for r in refs])
    finally:
        store.close()


@dataclass
class SyncRun:
    seconds: float
    phases: list[tuple[str, float]]   # every phase change in order (the pull comes twice), seconds from the start
    requests: int
    output: list[str]
    code: int
    cpu: float = 0.0          # the sync process's user + system seconds (under --profile: py-spy's)
    portal_cpu: float = 0.0   # the portal's, over the same span

    def marks(self) -> str:
        return ", ".join(f"{name} at {at:.2f} s" for name, at in self.phases)


def run_sync(laptop: Laptop, url: str, profile: Path | None, label: str, portal_pid: int | None = None) -> SyncRun:
    """ONE `fieldapp sync` process; its progress lines are timed as they arrive, its CPU and the portal's counted."""
    command = [sys.executable, "-c", "import sys; from app.cli import main; sys.exit(main())", "sync", "--data-dir", str(laptop.data_dir), "--portal", url,
               "--username", laptop.officer.username, "--password-stdin"]
    if profile is not None:
        # --gil: only samples holding the GIL, so the profile is the process's Python CPU, not its waits.
        command = [_py_spy(), "record", "--rate", "200", "--gil", "--subprocesses", "--format", "speedscope",
                   "-o", str(profile / f"sync-{label}.json"), "--", *command]
    portal_before = tree_cpu_seconds(portal_pid) if portal_pid else 0.0
    started = time.perf_counter()
    proc = subprocess.Popen(command, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True,
                            env={**installed_env(os.environ), "PYTHONPATH": str(ROOT),
                                 "FIELDAPP_DATA_DIR": str(laptop.data_dir)})
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(laptop.officer.password + "\n")
    proc.stdin.close()
    phases: list[tuple[str, float]] = []
    lines = []
    for line in proc.stdout:
        lines.append(line.rstrip())
        if line.startswith("["):
            phase = line[1:line.index("]")]
            if not phases or phases[-1][0] != phase:
                phases.append((phase, time.perf_counter() - started))
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    portal_cpu = tree_cpu_seconds(portal_pid) - portal_before if portal_pid else 0.0
    requests = next((int(line.split()[0]) for line in lines if line.endswith("HTTP requests to the portal.")), -1)
    return SyncRun(seconds, phases, requests, lines, proc.returncode, usage.ru_utime + usage.ru_stime, portal_cpu)


def check_portal(portal: Portal, laptop: Laptop) -> int:
    """How many of the day's visits the portal holds (through its admin export)."""
    sys.path.insert(0, str(ROOT / "tests" / "e2e"))
    from sync_support import admin_visits

    admin = next(a for a in portal.accounts if a.role == "admin")
    return len(admin_visits(portal.url, admin))


# ---------------------------------------------------------------- curl to nginx: the wire's limit


def curl_to_nginx(laptop: Laptop, work: Path) -> float:
    """Seconds one curl process takes to PUT the photo files and push bodies, one connection, to nginx."""
    from portal.server import free_port

    # Its own world-writable folder: started by root, nginx's workers run as nobody.
    root = Path(tempfile.mkdtemp(prefix="bench_push_nginx_"))
    (root / "put").mkdir()
    for folder in (root, root / "put"):
        folder.chmod(0o777)
    user = "user nobody nogroup;" if os.geteuid() == 0 else ""
    port = free_port()
    (root / "nginx.conf").write_text(f"""
{user}
worker_processes 1;
pid {root}/nginx.pid;
error_log {root}/error.log warn;
daemon off;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {root}/body;
    proxy_temp_path {root}/proxy; fastcgi_temp_path {root}/fcgi; uwsgi_temp_path {root}/uwsgi; scgi_temp_path {root}/scgi;
    keepalive_requests 100000;
    server {{
        listen 127.0.0.1:{port};
        client_max_body_size 0;
        location / {{ root {root}/put; dav_methods PUT; create_full_put_path on; }}
    }}
}}
""")
    nginx = subprocess.Popen([NGINX, "-p", str(root), "-c", str(root / "nginx.conf")],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        import requests
        deadline = time.monotonic() + 10
        while True:
            try:
                requests.get(f"http://127.0.0.1:{port}/", timeout=1)
                break
            except requests.RequestException as exc:
                if time.monotonic() > deadline or nginx.poll() is not None:
                    raise SystemExit(f"nginx did not start: {nginx.stderr.read().decode()[-500:] if nginx.stderr else ''}") from exc
                time.sleep(0.05)
        bodies = list(laptop.photo_files)
        for n, body in enumerate(laptop.op_bodies):
            path = work / f"push-{n}.json"
            path.write_bytes(body)
            bodies.append(path)
        config = []
        for n, path in enumerate(bodies):
            if config:
                config.append("next")
            config += [f'url = "http://127.0.0.1:{port}/f{n}"', f'upload-file = "{path}"', 'header = "Expect:"',
                       'output = "/dev/null"', 'write-out = "%{http_code}\\n"']
        (work / "curl.cfg").write_text("\n".join(config) + "\n")
        started = time.perf_counter()
        done = subprocess.run(["curl", "-s", "-K", str(work / "curl.cfg")], capture_output=True, text=True)
        seconds = time.perf_counter() - started
        codes = done.stdout.split()
        assert done.returncode == 0 and all(c in ("201", "204") for c in codes) and len(codes) == len(bodies), \
            (done.returncode, codes[:5], done.stderr[-300:])
        return seconds
    finally:
        nginx.terminate()
        nginx.wait(timeout=10)
        shutil.rmtree(root, ignore_errors=True)


# ---------------------------------------------------------------- field link


def through_field_link(laptop_maker: Any, portal: Portal, work: Path) -> None:
    """The same workload pushed through the simulated field link, against the bytes alone at its bandwidth."""
    from fieldlink import FieldLink, LinkPlan

    plan = LinkPlan()
    with FieldLink(portal.url, plan) as link:
        laptop = laptop_maker("link", link.url)   # signed in through the link: the laptop knows that address
        before = link.bytes_up
        run = run_sync(laptop, link.url, None, "link", portal.proc.pid)
        sent = link.bytes_up - before
    wire = (laptop.photo_bytes + laptop.op_bytes) * 8 / plan.up_bits_per_second
    print(f"  field link ({plan.round_trip * 1000:.0f} ms round trip, {plan.up_bits_per_second / 1e6:.0f} Mbit/s up, "
          f"{plan.loss * 100:.0f} % loss): exit {run.code}, push {run.seconds:.1f} s, {run.requests} requests, "
          f"{sent / 1e6:.1f} MB sent upstream ({link.losses} connections cut, {link.stalls} pieces stalled by a loss); "
          f"the bytes alone need {wire:.1f} s: {run.seconds / wire:.2f}× (goal ≤ 1.3×)")
    print(f"    {run.marks()}; CPU: sync {run.cpu:.1f} s, portal {run.portal_cpu:.1f} s; {load()}")
    if run.code != 0:
        print("\n".join("    " + line for line in run.output[-5:]))


# ---------------------------------------------------------------- main


def bench_one(kind: str, args: argparse.Namespace, photos: list[Any], work_root: Path) -> None:
    work = work_root / kind
    work.mkdir()
    print(f"\n== portal on {'PostgreSQL' if kind == 'pg' else 'SQLite'} ({load()})")
    # The field link's laptop is another officer's: they never uploaded these photos, so every byte goes again.
    portal = start_portal(kind, work, args.visits, args.profile, laptops=2 if args.link else 1)
    try:
        laptop = record_day(portal, work, args.visits, photos, "push")
        print(f"  to send: {laptop.visits} visits ({laptop.op_bytes / 1e6:.1f} MB of ops), {len(laptop.photo_files)} "
              f"photos ({laptop.photo_bytes / 1e6:.1f} MB); {load()}")
        run = run_sync(laptop, portal.url, args.profile, kind, portal.proc.pid)
        held = check_portal(portal, laptop)
        print(f"  fieldapp sync: exit {run.code}, push {run.seconds:.2f} s ({run.marks()}); {run.requests} HTTP requests; "
              f"portal holds {held} visits")
        print(f"  CPU during the push: the sync process {run.cpu:.2f} s, the portal {run.portal_cpu:.2f} s "
              f"(of {run.seconds * (os.cpu_count() or 1):.1f} core-seconds)")
        if run.code != 0:
            print("\n".join("    " + line for line in run.output[-8:]))
        total = laptop.photo_bytes + laptop.op_bytes
        curl = curl_to_nginx(laptop, work)
        share = (total / run.seconds) / (total / curl)
        print(f"  curl → nginx, the same {total / 1e6:.1f} MB in {len(laptop.photo_files) + len(laptop.op_bodies)} PUTs "
              f"over one connection: {curl:.2f} s ({total / 1e6 / curl:.0f} MB/s)")
        print(f"  push {total / 1e6 / run.seconds:.0f} MB/s = {share * 100:.0f} % of curl's throughput "
              f"(goal ≥ 25 %); push ≤ 5 s: {'met' if run.seconds <= 5 else 'MISSED'}; {load()}")
        if args.link:
            visits = args.visits
            through_field_link(lambda label, url: record_day(portal, work, visits, photos, label, url, 1), portal, work)
    finally:
        portal.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", default="sqlite,pg", help="portal databases, comma-separated: sqlite, pg")
    parser.add_argument("--visits", type=int, default=1000)
    parser.add_argument("--photos", type=int, default=500)
    parser.add_argument("--quick", action="store_true", help="200 visits and 100 photos, SQLite only")
    parser.add_argument("--link", action="store_true", help="also push the workload through the simulated field link")
    parser.add_argument("--profile", type=Path, help="write py-spy profiles (speedscope) of sync and portal here")
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "fieldapp-bench-push-cache",
                        help="where the prepared camera photos are kept between runs")
    args = parser.parse_args()
    if args.quick:
        args.visits, args.photos, args.db = 200, 100, "sqlite"
    if args.profile:
        args.profile.mkdir(parents=True, exist_ok=True)
    print(f"bench_push: {args.visits} visits, {args.photos} photos of 4000×3000; the sync process with "
          f"{show_bytecode_setting()}; {os.cpu_count()} cores; {load()}")
    photos = prepared_photos(args.photos, args.cache)
    work = Path(tempfile.mkdtemp(prefix="bench_push_"))
    try:
        for kind in args.db.split(","):
            bench_one(kind.strip(), args, photos, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"\n{load()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
