"""Benchmark: 20 simulated devices against two portal processes sharing one PostgreSQL database.

Each device (a thread with its own `requests` session) signs in, reads the sync limits,
pulls its whole scope, pushes 50 visit submits in batches of 10 and pulls again; requests
go round-robin to two `fieldapp-portal serve` processes. Passwords use the production
scrypt cost. Prints requests per second, p50/p95/max latency per kind and the errors.
Goal: zero errors, p95 <= 250 ms on a 2-core machine.
"""

from __future__ import annotations

import itertools
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import requests

from portal.server import free_port, wait_healthy
from served import cpu_seconds, tree_cpu_seconds  # (the bench folder is on the path of a script run from it)

DEVICES = 20
SUBMITS = 50
BATCH = 10
RAMP_SECONDS = 2.0
ADMIN_DSN = os.environ.get("FIELDAPP_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
PASSWORD = "bench passphrase"
# The seeded damp and mould form, two rooms; the cases are under Awaab's Law, so each
# visit carries an assessment and the first one of a case concludes its investigation.
ANSWERS = {"warnings_read": True, "room": ["Bathroom", "Bedroom 1"], "room_rh": [78, 64], "room_mould": [True, False],
           "room_mould_area": ["0.1 to 1 m²", None], "roof_defect": False, "gutters_defect": False, "dpc_defect": False,
           "plumbing_leak": False, "kitchen_fan": "Fitted and working", "bathroom_fan": "Fitted, not working",
           "heating_type": "Gas central heating", "heating_working": True, "afford_heat": True,
           "causes": ["Condensation: not enough ventilation"], "treatment_done": ["Mould wash with fungicide"],
           "hazard": {"hazard": "Damp and mould growth", "band": "D"}, "works_needed": True,
           "works_description": "Replace the bathroom extractor fan.", "follow_up_date": "2026-12-15"}
ASSESSMENT = {"finding": "significant", "hazards": ["Damp and mould growth"], "reasons": "Infant in the household.",
              "household_factors": ["Children in the household"], "make_safe_done": False,
              "safety_work": "Mould wash; new extractor fan.", "supplementary_work": None, "alternative_accommodation": False}


@dataclass
class Stats:
    """Latencies by request kind and the errors seen, shared by the device threads."""

    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, kind: str, seconds: float, error: str | None) -> None:
        with self.lock:
            self.latencies.setdefault(kind, []).append(seconds)
            if error:
                self.errors.append(f"{kind}: {error}")


class Device:
    """One laptop: its own HTTP session, round-robin over the portal processes."""

    def __init__(self, urls: list[str], stats: Stats) -> None:
        self.urls = itertools.cycle(urls)
        self.http = requests.Session()
        self.stats = stats
        self.device_id = f"bench-{uuid.uuid4().hex[:8]}"

    def call(self, kind: str, method: str, path: str, expect: int = 200, **kwargs: Any) -> Any:
        started = time.perf_counter()
        error = None
        body: Any = None
        try:
            response = self.http.request(method, f"{next(self.urls)}/api/v1{path}", timeout=30, **kwargs)
            if response.status_code != expect:
                error = f"{response.status_code} {response.text[:200]}"
            else:
                body = response.json() if response.content else None
        except requests.RequestException as exc:
            error = repr(exc)
        self.stats.record(kind, time.perf_counter() - started, error)
        return body

    def run(self, username: str, case_id: str, barrier: threading.Barrier, delay: float) -> None:
        barrier.wait()
        # Devices come online over a short ramp, not in one instant (as laptops do).
        threading.Event().wait(delay)
        login = self.call("login", "POST", "/auth/login", json={"username": username, "password": PASSWORD, "device_id": self.device_id})
        if login is None:
            return
        self.http.headers["Authorization"] = f"Bearer {login['token']}"
        user_id = login["user"]["id"]
        self.call("meta", "GET", "/sync/meta")
        changes, cursor = self.pull(0)
        template = next(c for c in changes if c["entity"] == "template" and "damp_mould" in c["data"]["case_types"])
        ops = [self.submit_op(user_id, case_id, template["id"]) for _ in range(SUBMITS)]
        for start in range(0, len(ops), BATCH):
            result = self.call("push", "POST", "/sync/push", json={"device_id": self.device_id, "ops": ops[start:start + BATCH]})
            if result is not None:
                bad = [r for r in result["results"] if r["status"] != "applied"]
                if bad:
                    self.stats.record("push-op", 0.0, f"{len(bad)} ops not applied: {bad[0]}")
        self.pull(cursor)

    def pull(self, cursor: int) -> tuple[list[dict[str, Any]], int]:
        changes: list[dict[str, Any]] = []
        while True:
            page = self.call("pull", "GET", f"/sync/pull?cursor={cursor}&limit=500")
            if page is None:
                return changes, cursor
            changes += page["changes"]
            cursor = page["next_cursor"]
            if not page["has_more"]:
                return changes, cursor

    @staticmethod
    def submit_op(officer_id: str, case_id: str, template_id: str) -> dict[str, Any]:
        data = {"case_id": case_id, "officer_id": officer_id, "template_id": template_id, "template_version": 2,
                "started_at": "2026-03-03T10:00:00Z", "completed_at": "2026-03-03T10:40:00Z", "outcome": "completed",
                "answers": ANSWERS, "notes": "Black mould behind the wardrobe.", "hazards": [], "photos": [],
                "assessment": ASSESSMENT}
        return {"op_id": str(uuid.uuid4()), "entity": "visit", "id": str(uuid.uuid4()), "kind": "submit", "base_version": 0, "data": data}


def _prepare(url: str, admin: dict[str, str]) -> list[tuple[str, str]]:
    """One officer and one case per device, in the seeded North team; returns (username, case id)."""
    http = requests.Session()
    http.headers.update(admin)
    team = http.post(f"{url}/api/v1/admin/teams", json={"name": "Bench team"}, timeout=30).json()["id"]
    devices = []
    for index in range(DEVICES):
        username = f"bench.officer{index:02d}"
        officer = http.post(f"{url}/api/v1/admin/users", json={"username": username, "display_name": f"Bench {index}", "role": "officer", "team_id": team, "password": PASSWORD}, timeout=30).json()["id"]
        prop = http.post(f"{url}/api/v1/admin/properties", json={"uprn": f"1000{index:08d}", "address_lines": [f"{index + 1} Canal Walk"], "town": "Harrowmere", "postcode": "HM2 5TQ", "property_type": "flat", "bedrooms": 2}, timeout=30).json()["id"]
        http.post(f"{url}/api/v1/admin/residents", json={"property_id": prop, "full_name": f"Resident {index}", "warnings": ["Dog on premises"] if index % 4 == 0 else []}, timeout=30)
        for number in range(3):
            case = http.post(f"{url}/api/v1/admin/cases", json={"reference": f"BENCH-{index:02d}-{number}", "case_type": "damp_mould", "priority": "urgent", "summary": "Mould in bedroom", "opened_at": "2026-11-02T09:00:00Z", "reported_hazards": ["Damp and mould growth"], "property_id": prop, "assigned_officer_id": officer, "team_id": team}, timeout=30).json()["id"]
        devices.append((username, case))
    return devices


def _machine_busy_seconds() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine so far, all cores (Linux /proc/stat)."""
    ticks = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = ticks[3] + ticks[4]  # idle + iowait
    hz = os.sysconf("SC_CLK_TCK")
    return (sum(ticks) - idle) / hz, sum(ticks) / hz


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def main() -> int:
    name = f"fieldapp_bench_{os.getpid()}_{secrets.token_hex(3)}"
    with psycopg.connect(ADMIN_DSN, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    database_url = ADMIN_DSN.rsplit("/", 1)[0] + f"/{name}"
    processes: list[subprocess.Popen[bytes]] = []
    env = {k: v for k, v in os.environ.items() if k != "FIELDAPP_PORTAL_KDF_N"}  # production password cost
    server_log = tempfile.TemporaryFile()
    try:
        with tempfile.TemporaryDirectory() as blob_dir:
            seeded = subprocess.run([sys.executable, "-m", "portal.cli", "seed", "--database-url", database_url, "--cases", "200"], capture_output=True, text=True, env=env, check=True)
            admin_password = next(line.split()[1] for line in seeded.stdout.splitlines() if line.startswith("admin "))
            urls = []
            for _ in range(2):
                port = free_port()
                urls.append(f"http://127.0.0.1:{port}")
                processes.append(subprocess.Popen(
                    [sys.executable, "-m", "portal.cli", "serve", "--database-url", database_url, "--blob-dir", blob_dir, "--port", str(port)],
                    # A file, not an unread pipe: a portal that logs much would block once a pipe filled.
                    stdout=subprocess.DEVNULL, stderr=server_log, env=env,
                ))
            for url, process in zip(urls, processes):
                wait_healthy(url, lambda p=process: p.poll() is None)
            login = requests.post(f"{urls[0]}/api/v1/auth/login", json={"username": "admin", "password": admin_password, "device_id": "bench-admin"}, timeout=30).json()
            devices = _prepare(urls[0], {"Authorization": f"Bearer {login['token']}"})
            stats = Stats()
            cpu_before = sum(tree_cpu_seconds(process.pid) for process in processes)
            client_before = cpu_seconds(os.getpid())
            machine_before = _machine_busy_seconds()
            barrier = threading.Barrier(DEVICES + 1)
            threads = [threading.Thread(target=Device(urls, stats).run, args=(user, case, barrier, RAMP_SECONDS * i / DEVICES)) for i, (user, case) in enumerate(devices)]
            for thread in threads:
                thread.start()
            barrier.wait()
            started = time.perf_counter()
            for thread in threads:
                thread.join()
            elapsed = time.perf_counter() - started
            server_cpu = sum(tree_cpu_seconds(process.pid) for process in processes) - cpu_before
            client_cpu = cpu_seconds(os.getpid()) - client_before
            machine_after = _machine_busy_seconds()
            busy = machine_after[0] - machine_before[0]
            machine_share = busy / max(1e-9, machine_after[1] - machine_before[1])
    finally:
        for process in processes:
            process.terminate()
            process.wait(15)
        server_log.seek(0)
        portal_log = server_log.read().decode("utf-8", "replace")
        server_log.close()
        with psycopg.connect(ADMIN_DSN, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    every = [s for kind, values in stats.latencies.items() if kind != "push-op" for s in values]
    print(f"portal benchmark: {DEVICES} devices x {SUBMITS} visit submits (batches of {BATCH}), 2 portal processes, PostgreSQL")
    print(f"  requests: {len(every)} in {elapsed:.2f} s = {len(every) / elapsed:.1f} requests/s; visits applied/s: {DEVICES * SUBMITS / elapsed:.1f}")
    print(f"  latency all: p50 {statistics.median(every) * 1000:.0f} ms, p95 {_percentile(every, 0.95) * 1000:.0f} ms, max {max(every) * 1000:.0f} ms")
    for kind in ("login", "meta", "pull", "push"):
        values = stats.latencies.get(kind, [])
        if values:
            print(f"  {kind:<6} n={len(values):<4} p50 {statistics.median(values) * 1000:.0f} ms  p95 {_percentile(values, 0.95) * 1000:.0f} ms  max {max(values) * 1000:.0f} ms")
    print(f"  portal processes' CPU: {server_cpu:.2f} s in all, {server_cpu / (DEVICES * SUBMITS) * 1000:.1f} ms per visit submitted")
    print(f"  benchmark client's CPU (same machine, competes with the portal): {client_cpu:.2f} s")
    print(f"  machine CPU busy during the run: {machine_share:.0%} of all cores ({busy:.2f} s; the rest is PostgreSQL and other work)")
    load = os.getloadavg()
    print(f"  machine: {os.cpu_count()} CPUs, load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} (1/5/15 min)")
    print(f"  errors: {len(stats.errors)}")
    for error in stats.errors[:10]:
        print(f"    {error}")
    if stats.errors:
        print(f"  end of the portals' log:\n{portal_log[-3000:]}")
    p95 = _percentile(every, 0.95)
    print(f"  goal (0 errors, p95 <= 250 ms): {'met' if not stats.errors and p95 <= 0.25 else 'NOT met'}")
    return 0 if not stats.errors else 1


if __name__ == "__main__":
    raise SystemExit(main())
