"""The whole `fieldapp sync` process with nothing to send: start, imports, store, one request, exit.

Issue 17, point 3: a no-op `fieldapp sync` process ≤ 0.5 s wall. A laptop signed in to a
served portal (SQLite, ``--cases`` cases pulled) runs ``fieldapp sync`` again and again
with nothing new on either side:

- signed in (the usual case): the token is found in the keyring, one request (a pull
  page). This machine has no OS keyring, so the bench points keyring at a file backend
  in its scratch folder (`bench_keyring`);
- ``--username --password-stdin`` (what scripts do): sign-in plus the pull, two requests
  (the portal's password hash is made cheap, as in every bench: sign-in is not measured),
  with keyring finding this machine's backends as it would (it finds none usable, after
  looking at every one it knows);
- the first, with drafts on the laptop (``--drafts``, 5 by default: visits started and not
  submitted, as mid-day): a copy of the signed-in folder with the drafts started in it;
- the first, with every module compiled from source (``PYTHONDONTWRITEBYTECODE=1``, as
  this machine's shells run Python): what earlier measurements of the process paid.

Processes run as installed: bytecode cached (`installed`). With nothing to do, the process
reads its store through the standard library (`fieldapp.lazy_store`): SQLAlchemy is not
loaded (``--modules`` lists what was).

Each is repeated (``--repeats``), interleaved with ``python -c pass`` (the interpreter's own
start at the same moment's load), and the medians printed with the process's CPU time
(user + system: what the load average inflates the least), the request count and the load.
``--importtime`` adds the slowest imports of one run (``python -X importtime``).

Usage: python bench/bench_sync_process.py [--cases 1000] [--drafts 5] [--repeats 15] [--importtime]
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("FIELDAPP_PORTAL_KDF_N", "16")  # cheap sign-in: the bench is about the sync process

from bench_sync import bulk_cases  # noqa: E402
from installed import installed_env, show_bytecode_setting  # noqa: E402
from served import load, serve  # noqa: E402

SYNC = "import sys; from app.cli import main; sys.exit(main())"  # what the `fieldapp` console script runs


def children_cpu() -> float:
    """CPU seconds (user + system) of every child reaped so far; runs are sequential, so a difference is one run's."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


class Series:
    """Wall and CPU seconds of repeated runs of one command."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.walls: list[float] = []
        self.cpus: list[float] = []
        self.requests: set[str] = set()

    def run(self, command: Sequence[str], env: dict[str, str], stdin: str = "") -> None:
        cpu = children_cpu()
        started = time.perf_counter()
        done = subprocess.run(command, cwd=ROOT, env=env, input=stdin, capture_output=True, text=True)
        self.walls.append(time.perf_counter() - started)
        self.cpus.append(children_cpu() - cpu)
        out = done.stdout + done.stderr
        if done.returncode != 0:
            raise SystemExit(f"{self.name} exited {done.returncode}:\n{out[-1500:]}")
        self.requests.update(line.split()[0] for line in out.splitlines() if line.endswith("HTTP requests to the portal."))

    def line(self) -> str:
        asked = f", {'/'.join(sorted(self.requests))} request(s)" if self.requests else ""
        return (f"  {self.name:<44} wall median {statistics.median(self.walls) * 1000:6.0f} ms "
                f"(min {min(self.walls) * 1000:4.0f}, max {max(self.walls) * 1000:4.0f}), "
                f"CPU median {statistics.median(self.cpus) * 1000:4.0f} ms (min {min(self.cpus) * 1000:4.0f}){asked}")


def start_drafts(signed_in: Path, folder: Path, count: int) -> None:
    """A copy of the signed-in laptop folder (same user, same token) with ``count`` visits started, not submitted."""
    from fieldapp import FieldStore

    shutil.copytree(signed_in, folder)
    store = FieldStore.open(folder)
    try:
        cases = [c.id for c in store.cases() if store.templates_for(c.id)][:count]
        if len(cases) < count:
            raise SystemExit(f"only {len(cases)} cases with a template for {count} drafts")
        for case_id in cases:
            store.start_visit(case_id, store.templates_for(case_id)[0].id)
        print(f"  laptop copy with {store.pending().drafts} drafts; {load()}")
    finally:
        store.close()


def importtime(command: Sequence[str], env: dict[str, str], stdin: str, top: int = 14) -> None:
    """The slowest imports (cumulative) of one run, as `python -X importtime` reports them."""
    done = subprocess.run([command[0], "-X", "importtime", *command[1:]], cwd=ROOT, env=env, input=stdin,
                          capture_output=True, text=True)
    rows = []
    for line in done.stderr.splitlines():
        if line.startswith("import time:") and "|" in line and "cumulative" not in line:
            _, cumulative, name = line[len("import time:"):].split("|")
            rows.append((int(cumulative), name.rstrip()))
    total = sum(c for c, name in rows if len(name) - len(name.lstrip()) == 1)
    print(f"  imports of one no-op sync (python -X importtime): {total / 1000:.0f} ms in all at top level; slowest:")
    for cumulative, name in sorted(rows, reverse=True)[:top]:
        print(f"    {cumulative / 1000:7.1f} ms  {name}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=1000, help="cases on the laptop (pulled once at sign-in)")
    parser.add_argument("--drafts", type=int, default=5, help="drafts on the laptop of the 'with drafts' runs")
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--importtime", action="store_true", help="also print the slowest imports of one run")
    parser.add_argument("--profile", type=Path, help="also record one run with py-spy (speedscope JSON) here")
    parser.add_argument("--modules", action="store_true", help="also list the packages one run loads")
    args = parser.parse_args()
    print(f"bench_sync_process: no-op `fieldapp sync`, {args.cases} cases, {args.repeats} repeats; "
          f"{show_bytecode_setting()}; {os.cpu_count()} cores; {load()}")
    work = Path(tempfile.mkdtemp(prefix="bench_sync_process_"))
    env = {**installed_env(os.environ), "PYTHONPATH": os.pathsep.join((str(ROOT), str(ROOT / "bench"))),
           "PYTHON_KEYRING_BACKEND": "bench_keyring.FileKeyring", "FIELDAPP_BENCH_KEYRING": str(work / "keyring.json"),
           "FIELDAPP_DATA_DIR": str(work / "laptop"), "FIELDAPP_CONFIG_DIR": str(work / "config"),
           "FIELDAPP_SITE_CONFIG": str(work / "site")}
    os.environ.update(env)   # this process signs in through the same keyring file
    from portal.seed import seed

    database_url = f"sqlite:///{work / 'portal.db'}"
    accounts = seed(database_url, 30).accounts
    officer = next(a for a in accounts if a.role == "officer")
    bulk_cases(database_url, officer.username, args.cases, random.Random(3))
    portal = serve(database_url, work / "blobs")
    try:
        from fieldapp import FieldStore
        from sync import session
        from sync.engine import SyncEngine

        store = FieldStore.open(work / "laptop")
        try:
            with session.sign_in(store, portal.url, officer.username, officer.password) as client:
                pulled = SyncEngine(store, client).run().pulled
        finally:
            store.close()
        print(f"  laptop signed in, {pulled} changes pulled; {load()}")
        start_drafts(work / "laptop", work / "laptop_drafts", args.drafts)
        sync = [sys.executable, "-c", SYNC, "sync", "--data-dir", str(work / "laptop")]
        with_drafts = [*sync[:-1], str(work / "laptop_drafts")]
        with_password = [*sync, "--portal", portal.url, "--username", officer.username, "--password-stdin"]
        no_keyring = {k: v for k, v in env.items() if k != "PYTHON_KEYRING_BACKEND"}
        from_source = {**env, "PYTHONDONTWRITEBYTECODE": "1"}
        from_source.pop("PYTHONPYCACHEPREFIX")
        floor, kept, drafting, signing, compiling = (
            Series("python -c pass"), Series("fieldapp sync (token in the keyring)"),
            Series(f"fieldapp sync, {args.drafts} drafts on the laptop"),
            Series("fieldapp sync --username --password-stdin"), Series("fieldapp sync, compiled from source each run"))
        for _ in range(2):   # warm the page cache, the bytecode cache and the portal
            floor.run(sync, env)
        floor = Series(floor.name)
        for _ in range(args.repeats):
            floor.run([sys.executable, "-c", "pass"], env)
            kept.run(sync, env)
            drafting.run(with_drafts, env)
            signing.run(with_password, no_keyring, officer.password + "\n")
            compiling.run(sync, from_source)
        for series in (floor, kept, drafting, signing, compiling):
            print(series.line())
        for series in (kept, drafting):
            median = statistics.median(series.walls)
            print(f"  no-op sync process ≤ 0.5 s, {series.name}: {'met' if median <= 0.5 else 'MISSED'} "
                  f"({median:.2f} s, {median - statistics.median(floor.walls):.2f} s above the bare interpreter)")
        print(f"  {load()}")
        if args.importtime:
            importtime(sync, env, "")
        if args.modules:
            listing = ("import atexit, sys; atexit.register(lambda: print('modules:', ' '.join(sorted("
                       "{m.split('.')[0] for m in sys.modules if not m.startswith('_')})))); " + SYNC)
            done = subprocess.run([sys.executable, "-c", listing, *sync[3:]], cwd=ROOT, env=env, capture_output=True,
                                  text=True)
            print("  " + next(line for line in done.stdout.splitlines() if line.startswith("modules:")))
        if args.profile:
            spy = str(Path(sys.executable).with_name("py-spy"))
            subprocess.run([spy, "record", "--rate", "1000", "--format", "speedscope", "-o", str(args.profile), "--",
                            *sync], cwd=ROOT, env=env, capture_output=True, check=True)
            print(f"  py-spy profile of one run: {args.profile}")
    finally:
        portal.stop()
        shutil.rmtree(work, ignore_errors=True)
    print(load())
    return 0


if __name__ == "__main__":
    sys.exit(main())
