"""Sync under faults: a lossy proxy between client and portal, and kill -9 of the sync process.

Whatever happens, repeated syncs converge: every visit exists exactly once on the
portal, every photo's bytes hash to their name, the outbox is empty, the laptop's
view equals the portal's scope, and the local database passes integrity_check.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

import pytest

from fieldapp import FieldStore
from sync.client import PortalClient
from sync.retry import RetryPolicy

from faultproxy import FaultPlan, FaultProxy
from sync_support import open_signed_in, record_visit, sync_until_ok  # work recorded offline, synced
from sync_support import admin_visits, blob_hashes_ok, integrity_ok, local_visit_ids, portal_scope  # what holds after

KILL_RUNS = 20


def _start_portal(database_url: str, root: Path) -> Any:
    """A seeded portal with small chunks and push batches, so faults hit every kind of step."""
    from portal.core.config import PortalSettings
    from portal.seed import seed
    from portal.server import start_background

    accounts = seed(database_url, 24, seed=5).accounts
    settings = PortalSettings.from_env(database_url=database_url, blob_dir=root / "blobs",
                                       chunk_bytes=64 * 1024, max_push_ops=3)
    portal = start_background(database_url, root / "blobs", settings=settings)
    portal.accounts = accounts
    return portal


@contextmanager
def _portal_on(kind: str, root: Path) -> Iterator[object]:
    """A fault-test portal on SQLite or on a fresh PostgreSQL database, stopped (and dropped) afterwards."""
    from tests.conftest import fresh_pg_database
    database = nullcontext(f"sqlite:///{root / 'portal.db'}") if kind == "sqlite" else fresh_pg_database("fieldapp_tf")
    with database as url, _start_portal(url, root) as portal:
        yield portal


@pytest.fixture(scope="module", params=["sqlite", pytest.param("pg", marks=pytest.mark.postgres)])
def fault_portal(request: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """A portal of this module's own (its settings differ from the shared one), on SQLite and PostgreSQL."""
    with _portal_on(request.param, tmp_path_factory.mktemp(f"fault_portal_{request.param}")) as portal:
        yield portal


@pytest.fixture(scope="module")
def kill_portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """The kill -9 runs' portal (SQLite: what is tested is the laptop's database, not the portal's)."""
    with _portal_on("sqlite", tmp_path_factory.mktemp("kill_portal")) as portal:
        yield portal


def _officer(portal: object, index: int) -> object:
    return [a for a in portal.accounts if a.role == "officer"][index]


def _admin(portal: object) -> object:
    return next(a for a in portal.accounts if a.role == "admin")


def _assert_converged(portal: object, store: FieldStore, officer: object, visit_ids: set[str]) -> None:
    """Exactly once on the portal, photos intact, nothing queued, local view == portal scope."""
    exported = admin_visits(portal.url, _admin(portal))
    mine = [v for v in exported if v["id"] in visit_ids]
    assert sorted(v["id"] for v in mine) == sorted(visit_ids), "a visit is missing or duplicated on the portal"
    hashes = {p["sha256"] for v in mine for p in v["photos"]}
    assert blob_hashes_ok(portal.url, officer, hashes)
    assert store.outbox(limit=10) == [] and store.pending().empty
    scope = portal_scope(portal.url, officer)
    assert {c.id for c in store.cases()} == set(scope["case"])
    assert local_visit_ids(store) == set(scope.get("visit", {}))


@pytest.mark.slow
@pytest.mark.parametrize("seed", [11, 12])
def test_sync_converges_through_a_lossy_network(fault_portal: Any, tmp_path: Path, seed: int) -> None:
    """Drops before/after the portal, cut uploads, delays and 503s: repeated syncs converge exactly once."""
    officer = _officer(fault_portal, seed % 2)
    with FaultProxy(fault_portal.url, seed=seed, plan=FaultPlan()) as proxy:
        proxy.enabled = False
        store, client = open_signed_in(tmp_path / "laptop", proxy.url, officer)
        # Fast, seeded retries: the proxy's schedule is seeded too, so a failure can be replayed.
        client.retry = RetryPolicy(attempts=4, base_delay=0.02, max_delay=0.2, max_retry_after=2,
                                   rng=random.Random(seed))
        try:
            proxy.enabled = True
            sync_until_ok(store, client)
            cases = [c.id for c in store.cases()][:4]
            visits = [record_visit(store, case_id, tmp_path, photos=2, seed=seed * 100 + n, photo_size=(640, 900))
                      for n, case_id in enumerate(cases)]
            report, tries = sync_until_ok(store, client)
            assert report.ok
            proxy.enabled = False
            injected = {k: v for k, v in proxy.counts.items() if k != "none"}
            assert set(injected) >= {"drop_before", "drop_after", "mid_upload", "unavailable", "delay"}, injected
            _assert_converged(fault_portal, store, officer, {v.id for v in visits})
        finally:
            store.close()
    assert integrity_ok(tmp_path / "laptop")


ZYGOTE = Path(__file__).with_name("sync_zygote.py")


def _read_until(stream: Any, prefix: str) -> str:
    while True:
        line = stream.readline()
        assert line, f"sync runner ended while waiting for {prefix!r}"
        if line.startswith(prefix):
            return line.strip()


@pytest.mark.slow
def test_kill_minus_9_at_random_points_then_converge(kill_portal: Any, tmp_path: Path) -> None:
    """20 seeded runs: the sync process is killed -9 at a random moment; restart converges, database intact."""
    officer = _officer(kill_portal, 2)
    data = tmp_path / "laptop"
    store, client = open_signed_in(data, kill_portal.url, officer)
    sync_until_ok(store, client)
    cases = [c.id for c in store.cases()]
    store.close()
    rng = random.Random(2024)
    visit_ids: set[str] = set()
    killed_in: list[str] = []
    runner = subprocess.Popen([sys.executable, str(ZYGOTE)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        _read_until(runner.stdout, "ready")
        for run in range(KILL_RUNS):
            store = FieldStore.open(data)
            visit = record_visit(store, cases[run % len(cases)], tmp_path, photos=1 + run % 2, seed=5000 + run,
                                 photo_size=(900, 1200))
            visit_ids.add(visit.id)
            store.close()
            job = {"data_dir": str(data), "url": kill_portal.url, "username": officer.username,
                   "password": officer.password}
            runner.stdin.write(json.dumps(job) + "\n")
            runner.stdin.flush()
            pid = int(_read_until(runner.stdout, "child ").split()[1])
            # Kill in a seeded phase, after a seeded number of its progress lines and a seeded pause.
            target = rng.choice(("start", "pull", "pull", "upload", "upload", "push", "push", "done"))
            extra = {"pull": rng.randint(0, 1), "upload": rng.randint(0, 3)}.get(target, 0)
            last = "start"
            while target != "start":
                line = runner.stdout.readline().strip()
                if line.startswith(("finished", "error", "reaped")):
                    break
                last = line
                if last.split(" ")[0] == target:
                    if extra == 0:
                        break
                    extra -= 1
            time.sleep(rng.uniform(0, 0.03))
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            status = int(_read_until(runner.stdout, f"reaped {pid}").split()[2])
            if os.WIFSIGNALED(status):
                killed_in.append(last.split(" ")[0])
            assert integrity_ok(data), f"run {run}: database damaged after kill -9"
            store = FieldStore.open(data)
            try:
                client = PortalClient(kill_portal.url)
                client.login(officer.username, officer.password, store.sync_state().device_id)
                sync_until_ok(store, client, attempts=3)
                if run % 5 == 4:
                    _assert_converged(kill_portal, store, officer, visit_ids)
            finally:
                store.close()
    finally:
        runner.stdin.close()
        runner.wait(timeout=30)
    assert len(killed_in) >= KILL_RUNS // 2, f"too few syncs were killed mid-way: {killed_in}"
    assert {"pull", "upload", "push"} <= set(killed_in), f"kills did not reach every phase: {killed_in}"
