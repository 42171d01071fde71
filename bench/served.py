"""`fieldapp-portal serve` for benchmarks: its own process, served defaults, optional py-spy, a scratch PostgreSQL database.

Benchmarks measure what the product serves, so the portal is started by its command
line with nothing but the database, blob folder and port. ``--profile`` in a bench runs
it under py-spy (dev extra), which writes collapsed stacks when the portal stops.
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from portal.server import free_port, wait_healthy

ROOT = Path(__file__).resolve().parents[1]
ADMIN_DSN = os.environ.get("FIELDAPP_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


@dataclass
class Served:
    """A running portal process; as a context manager, stopped on leaving it."""

    process: subprocess.Popen[bytes]
    url: str
    log: IO[bytes]
    stacks: Path | None

    def cpu_seconds(self) -> float:
        """The portal's CPU time so far (all its processes: workers, and py-spy's child under py-spy)."""
        return sum(self.cpu_split())

    def cpu_split(self) -> tuple[float, float]:
        """The portal's user and system CPU time so far, summed over its processes (py-spy's own left out)."""
        pids = descendants(self.process.pid)
        if not self.stacks:
            pids.append(self.process.pid)
        times = [cpu_split(pid) for pid in pids]
        return sum(user for user, _ in times), sum(system for _, system in times)

    def cpu_by_process(self) -> dict[int, float]:
        """CPU seconds so far of each of the portal's processes (its workers, and the supervisor), by process id."""
        pids = descendants(self.process.pid)
        if not self.stacks:
            pids.append(self.process.pid)
        return {pid: cpu_seconds(pid) for pid in pids}

    def log_tail(self) -> str:
        self.log.seek(0)
        return self.log.read().decode(errors="replace")[-2000:]

    def __enter__(self) -> "Served":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        # py-spy writes its stacks when interrupted (SIGINT), as after Ctrl-C.
        self.process.send_signal(signal.SIGINT if self.stacks else signal.SIGTERM)
        self.process.wait(60)
        self.log.close()
        if self.stacks:
            print(f"           py-spy stacks (collapsed, for flamegraph.pl or speedscope): {self.stacks}")


def serve(database_url: str, blob_dir: Path, *, profile: str | None = None) -> Served:
    """Start `fieldapp-portal serve` with its defaults; returns once it is healthy. ``profile`` names the stacks file."""
    port = free_port()
    command = [sys.executable, "-m", "portal.cli", "serve", "--database-url", database_url,
               "--blob-dir", str(blob_dir), "--port", str(port)]
    stacks = Path(tempfile.gettempdir()) / f"{profile}.folded" if profile else None
    if stacks:
        command = [str(Path(sys.executable).with_name("py-spy")), "record", "--rate", "250", "--format", "raw",
                   "--idle", "--threads", "--subprocesses", "-o", str(stacks), "--", *command]
    log = tempfile.TemporaryFile()
    # A file, not an unread pipe: a portal that logs much would block once a pipe filled.
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=log)
    url = f"http://127.0.0.1:{port}"
    wait_healthy(f"{url}/api/v1", lambda: process.poll() is None)
    served = Served(process, url, log, stacks)
    wait_started(served)
    return served


def wait_started(served: Served, quiet_seconds: float = 0.5, timeout: float = 60.0) -> None:
    """Return once every worker has finished starting: no process of the portal used CPU for ``quiet_seconds``.

    Healthy means one worker answers; on a busy host another may still be importing the
    app, and a bench begun then measures one worker doing the work of two.
    """
    deadline = time.monotonic() + timeout
    before = served.cpu_by_process()
    while time.monotonic() < deadline:
        time.sleep(quiet_seconds)
        now = served.cpu_by_process()
        # /proc counts in clock ticks (10 ms): a tick or two is the workers' idle housekeeping.
        if now.keys() == before.keys() and all(now[pid] - before[pid] <= 0.02 for pid in now):
            return
        before = now
    print(f"           the portal's processes were still busy {timeout:.0f} s after it answered: figures may include its start-up")


def descendants(pid: int) -> list[int]:
    """Every live process below ``pid`` (Linux /proc): a served portal's workers."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            found += [int(child), *descendants(int(child))]
    return found


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process so far (Linux /proc)."""
    return sum(cpu_split(pid))


def tree_cpu_seconds(pid: int) -> float:
    """``cpu_seconds`` of a process and every process below it (a served portal and its workers)."""
    return sum(cpu_seconds(each) for each in [pid, *descendants(pid)])


def cpu_split(pid: int) -> tuple[float, float]:
    """User and system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / tick, int(fields[12]) / tick


@contextmanager
def scratch_pg(tag: str) -> Iterator[str]:
    """A new PostgreSQL database for one run, dropped afterwards; yields its URL."""
    import psycopg

    name = f"fieldapp_bench_{tag}_{os.getpid()}_{secrets.token_hex(3)}"
    with psycopg.connect(ADMIN_DSN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield ADMIN_DSN.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(ADMIN_DSN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def load() -> str:
    """The load average, as every bench prints it."""
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.1f} / {five:.1f} / {fifteen:.1f}"


def parser(doc: str | None) -> argparse.ArgumentParser:
    """The options every served-portal bench takes: which databases, and py-spy."""
    found = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    which = found.add_mutually_exclusive_group()
    which.add_argument("--sqlite-only", action="store_true")
    which.add_argument("--pg-only", action="store_true")
    found.add_argument("--profile", action="store_true", help="run the portal under py-spy (dev extra)")
    return found
