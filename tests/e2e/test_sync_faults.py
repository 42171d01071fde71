"""Sync under faults: a lossy proxy between client and portal, and kill -9 of the sync process.

Whatever happens, repeated syncs converge: every visit exists exactly once on the
portal, every photo's bytes hash to their name, the outbox is empty, the laptop's
view equals the portal's scope, and the local database passes integrity_check.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from fieldapp import FieldStore
from sync.client import PortalClient
from sync.retry import RetryPolicy

from faultproxy import FaultPlan, FaultProxy
from sync_support import (
    admin_visits,
    blob_hashes_ok,
    integrity_ok,
    local_visit_ids,
    open_signed_in,
    portal_scope,
    record_visit,
    sync_until_ok,
)

KILL_RUNS = 20


def _start_portal(database_url: str, root: Path) -> object:
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


@pytest.fixture(scope="module", params=["sqlite", pytest.param("pg", marks=pytest.mark.postgres)])
def fault_portal(request, tmp_path_factory) -> Iterator[object]:
    """A portal of this module's own (its settings differ from the shared one), on SQLite and PostgreSQL."""
    root = tmp_path_factory.mktemp(f"fault_portal_{request.param}")
    if request.param == "sqlite":
        portal = _start_portal(f"sqlite:///{root / 'portal.db'}", root)
        yield portal
        portal.stop()
        return
    from conftest import create_pg_database, drop_pg_database
    url = create_pg_database("fieldapp_tf")
    portal = _start_portal(url, root)
    try:
        yield portal
    finally:
        portal.stop()
        drop_pg_database(url)


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
def test_sync_converges_through_a_lossy_network(fault_portal, tmp_path, seed):
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


RUNNER = [sys.executable, "-m", "fieldapp.cli.sync_cmd"]


@pytest.mark.slow
def test_kill_minus_9_at_random_points_then_converge(fault_portal, tmp_path):
    """20 seeded runs: a sync process is killed -9 at a random moment; restart converges, database intact."""
    officer = _officer(fault_portal, 2)
    data = tmp_path / "laptop"
    store, client = open_signed_in(data, fault_portal.url, officer)
    sync_until_ok(store, client)
    cases = [c.id for c in store.cases()]
    store.close()
    rng = random.Random(2024)
    visit_ids: set[str] = set()
    killed_in: list[str] = []
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    for run in range(KILL_RUNS):
        store = FieldStore.open(data)
        visit = record_visit(store, cases[run % len(cases)], tmp_path, photos=1 + run % 2, seed=5000 + run,
                             photo_size=(900, 1200))
        visit_ids.add(visit.id)
        store.close()
        proc = subprocess.Popen(RUNNER + ["--data-dir", str(data), "--portal", fault_portal.url,
                                          "--username", officer.username, "--password-stdin"],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                env=env)
        proc.stdin.write(officer.password + "\n")
        proc.stdin.close()
        # Kill after a random number of progress lines plus a random pause: any phase can be hit.
        lines_before_kill = rng.randint(0, 4)
        last = ""
        for _ in range(lines_before_kill + 1):
            line = proc.stdout.readline()
            if not line:
                break
            last = line.strip()
        time.sleep(rng.uniform(0, 0.15))
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            killed_in.append(last.split(" ")[0] or "start")
        proc.wait(timeout=60)
        proc.stdout.close()
        assert integrity_ok(data), f"run {run}: database damaged after kill -9"
        store = FieldStore.open(data)
        try:
            client = PortalClient(fault_portal.url)
            client.login(officer.username, officer.password, store.sync_state().device_id)
            sync_until_ok(store, client, attempts=3)
            if run % 5 == 4 or run == KILL_RUNS - 1:
                _assert_converged(fault_portal, store, officer, visit_ids)
        finally:
            store.close()
    assert len(killed_in) >= KILL_RUNS // 2, f"too few runs were really killed mid-sync: {killed_in}"
