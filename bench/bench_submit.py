"""Benchmark: one push of 100 visit submits to `fieldapp-portal serve` (goal on PostgreSQL: ≤ 0.3 s).

An officer's day: 100 completed damp and mould visits, each on its own Awaab's Law case
(so each one concludes its case's investigation and the case's clocks are recomputed),
in one ``POST /sync/push``, as the laptop sends them. The portal runs with its served
defaults in its own process, on PostgreSQL and on SQLite; each database gets a few
rounds (fresh cases each time) and the median is printed with the portal's CPU time per
push and the load average.

Usage: python bench/bench_submit.py [--rounds 3] [--batch 100] [--sqlite-only | --pg-only] [--profile]
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("FIELDAPP_PORTAL_KDF_N", "16")  # cheap sign-in: the bench is about pushes

import served  # noqa: E402
from bench_portal import Device  # noqa: E402

GOAL_SECONDS = 0.3


class Admin:
    """The admin API of one portal."""

    def __init__(self, url: str, token: str) -> None:
        self.url = f"{url}/api/v1"
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"Bearer {token}"

    def post(self, what: str, body: dict[str, Any]) -> str:
        answer = self.http.post(f"{self.url}/admin/{what}", json=body, timeout=60)
        answer.raise_for_status()
        return str(answer.json()["id"])


def _sign_in(url: str, username: str, password: str) -> dict[str, Any]:
    answer = requests.post(f"{url}/api/v1/auth/login", timeout=60,
                           json={"username": username, "password": password, "device_id": f"bench-{uuid.uuid4().hex[:6]}"})
    answer.raise_for_status()
    return dict(answer.json())


def pg_floor(database_url: str) -> str:
    """What this PostgreSQL costs now: a round trip, and a one-row write committed (its WAL flush)."""
    import psycopg

    trips, commits = [], []
    with psycopg.connect(database_url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS bench_probe (n int)")
        conn.commit()
        for n in range(30):
            started = time.perf_counter()
            conn.execute("SELECT 1").fetchone()
            trips.append(time.perf_counter() - started)
            started = time.perf_counter()
            conn.execute("INSERT INTO bench_probe VALUES (%s)", (n,))
            conn.commit()
            commits.append(time.perf_counter() - started)
        conn.execute("DROP TABLE bench_probe")
        conn.commit()
    trip, commit = statistics.median(trips) * 1000, statistics.median(commits) * 1000
    return (f"PostgreSQL here now: a round trip {trip:.2f} ms, a one-row write committed {commit:.2f} ms "
            f"(a push commits once; a commit per op would need ≥ {commit * 100 / 1000:.2f} s for 100 ops)")


def run_one(label: str, database_url: str, rounds: int, batch: int, profile: bool) -> float:
    """Median seconds of one push of ``batch`` submits."""
    from portal.seed import seed

    admin_account = next(a for a in seed(database_url, 10).accounts if a.role == "admin")
    with (tempfile.TemporaryDirectory() as blobs,
          served.serve(database_url, Path(blobs), profile=f"bench_submit-{label}" if profile else None) as portal):
        admin = Admin(portal.url, _sign_in(portal.url, admin_account.username, admin_account.password)["token"])
        team = admin.post("teams", {"name": "Bench submit team"})
        password = "bench submit passphrase"
        admin.post("users", {"username": "bench.submitter", "display_name": "Bench", "role": "officer", "team_id": team, "password": password})
        login = _sign_in(portal.url, "bench.submitter", password)
        officer = login["user"]["id"]
        http = requests.Session()
        http.headers["Authorization"] = f"Bearer {login['token']}"
        changes = http.get(f"{portal.url}/api/v1/sync/pull?cursor=0&limit=1000", timeout=60).json()["changes"]
        template = next(c for c in changes if c["entity"] == "template" and "damp_mould" in c["data"]["case_types"])
        prop = admin.post("properties", {"uprn": "100023336956", "address_lines": ["4 Wharf Row"], "town": "Harrowmere",
                                         "postcode": "HM2 5TQ", "property_type": "flat", "bedrooms": 2})
        times, cpus = [], []
        for round_no in range(rounds):
            cases = [admin.post("cases", {
                "reference": f"SUB-{round_no}-{n:03d}", "case_type": "damp_mould", "priority": "urgent",
                "summary": "Mould in bedroom", "opened_at": "2026-11-02T09:00:00Z",
                "reported_hazards": ["Damp and mould growth"], "property_id": prop,
                "assigned_officer_id": officer, "team_id": team}) for n in range(batch)]
            ops = [Device.submit_op(officer, case, template["id"]) for case in cases]
            body = {"device_id": "bench-submit", "ops": ops}
            cpu_before = portal.cpu_seconds()
            started = time.perf_counter()
            answer = http.post(f"{portal.url}/api/v1/sync/push", json=body, timeout=120)
            times.append(time.perf_counter() - started)
            cpus.append(portal.cpu_seconds() - cpu_before)
            answer.raise_for_status()
            statuses = {r["status"] for r in answer.json()["results"]}
            if statuses != {"applied"}:
                raise SystemExit(f"not every op applied: {answer.json()['results'][:2]}")
        median = statistics.median(times)
        goal = f" (goal ≤ {GOAL_SECONDS} s: {'met' if median <= GOAL_SECONDS else 'MISSED'})" if label == "PostgreSQL" else ""
        print(f"{label:<10} push of {batch} submits: median {median:.3f} s{goal}; rounds "
              f"{', '.join(f'{t:.3f}' for t in times)} s; portal CPU {statistics.median(cpus) * 1000:.0f} ms per push; "
              f"{served.load()}")
        if label == "PostgreSQL":
            print(f"{'':<10} {pg_floor(database_url)}")
        return median


def main() -> int:
    parser = served.parser(__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch", type=int, default=100)
    args = parser.parse_args()
    print(f"bench_submit: {os.cpu_count()} CPUs; the portal in its own process with its served defaults")
    if not args.sqlite_only:
        with served.scratch_pg("submit") as database_url:
            run_one("PostgreSQL", database_url, args.rounds, args.batch, args.profile)
    if not args.pg_only:
        with tempfile.TemporaryDirectory() as work:
            run_one("SQLite", f"sqlite:///{Path(work) / 'portal.db'}", args.rounds, args.batch, args.profile)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
