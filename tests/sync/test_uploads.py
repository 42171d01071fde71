"""Photos uploaded concurrently: bounded connections, failures kept to their photo, resume from the committed offset."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from sync.engine import SyncEngine
from sync.errors import AuthRequired
from sync.uploads import CONNECTIONS

from fakes import FakePortal, FakeStore, refuse_upload
from httpstub import Reply, error


def _engine(stub: Any, make_client: Any, portal: FakePortal, store: FakeStore, **kwargs: Any) -> tuple[SyncEngine, Any]:
    server = stub(portal)
    client = make_client(server.url)
    return SyncEngine(store, client, pull_limit=10, **kwargs), server


def _in_flight(portal: FakePortal, hold: float) -> dict[str, int]:
    """Make every chunk PUT take ``hold`` seconds and count how many are in flight at once."""
    seen = {"now": 0, "most": 0}
    lock = threading.Lock()
    inner = portal.before

    def before(request: Any) -> Any:
        if request.method != "PUT":
            return inner(request) if inner else None
        with lock:
            seen["now"] += 1
            seen["most"] = max(seen["most"], seen["now"])
        time.sleep(hold)
        with lock:
            seen["now"] -= 1
        return inner(request) if inner else None

    portal.before = before
    return seen


def test_photos_go_up_concurrently_over_a_bounded_number_of_connections(
        portal: FakePortal, store: FakeStore, stub: Any, make_client: Any, tmp_path: Path) -> None:
    """Twelve photos: several chunks in flight at once, never more than CONNECTIONS, each over its own connection."""
    refs = [store.add_blob(tmp_path, os.urandom(1500)) for _ in range(12)]
    store.add_op()
    seen = _in_flight(portal, 0.05)
    engine, server = _engine(stub, make_client, portal, store)
    report = engine.run()
    assert report.ok and report.blobs_uploaded == 12
    assert {r.sha256 for r in refs} <= portal.complete and store.uploaded >= {r.sha256 for r in refs}
    assert 1 < seen["most"] <= CONNECTIONS
    ports = {r.client_port for r in server.requests if r.method == "PUT"}
    assert 1 < len(ports) <= CONNECTIONS
    assert engine.client.request_count == len(server.requests)  # the workers' requests are counted too


def test_one_connection_when_asked(portal: FakePortal, store: FakeStore, stub: Any, make_client: Any,
                                   tmp_path: Path) -> None:
    for _ in range(4):
        store.add_blob(tmp_path, os.urandom(500))
    store.add_op()
    seen = _in_flight(portal, 0.02)
    engine, _ = _engine(stub, make_client, portal, store, connections=1)
    assert engine.run().ok and seen["most"] == 1


def test_one_photo_failing_loses_none_of_the_others(portal: FakePortal, store: FakeStore, stub: Any,
                                                    make_client: Any, tmp_path: Path) -> None:
    """A refused photo and an unreadable one are reported; every other photo is uploaded and recorded."""
    good = [store.add_blob(tmp_path, os.urandom(1200)) for _ in range(8)]
    refused = store.add_blob(tmp_path, b"not an image at all")
    vanished = store.add_blob(tmp_path, os.urandom(700))
    vanished.path.unlink()
    store.add_op()
    portal.before = refuse_upload(refused.sha256)
    engine, _ = _engine(stub, make_client, portal, store)
    report = engine.run()
    assert {r.sha256 for r in good} <= portal.complete
    assert {r.sha256 for r in good} <= store.uploaded
    assert refused.sha256 not in store.uploaded and vanished.sha256 not in store.uploaded
    assert len(report.blob_failures) == 2 and report.blobs_uploaded == 8 and not report.ok


def test_cut_concurrent_uploads_resume_from_the_committed_offset(portal: FakePortal, store: FakeStore, stub: Any,
                                                                 make_client: Any, tmp_path: Path) -> None:
    """Every photo's connection is cut after its second chunk was committed: each resumes at 2000, nothing resent."""
    portal.chunk_bytes = 1000
    refs = [store.add_blob(tmp_path, os.urandom(2500)) for _ in range(6)]
    store.add_op()
    cut: set[str] = set()
    lock = threading.Lock()

    def cut_after_second_chunk(request: Any) -> Any:
        if request.method == "PUT" and request.headers["Content-Range"].startswith("bytes 1000-"):
            with lock:
                name = request.path.rsplit("/", 1)[1]
                if name not in cut:
                    cut.add(name)
                    return Reply(drop=True)
        return None

    portal.after_commit = cut_after_second_chunk
    seen = _in_flight(portal, 0.01)
    engine, server = _engine(stub, make_client, portal, store)
    report = engine.run()
    assert report.ok and cut == {r.sha256 for r in refs}
    for ref in refs:
        assert bytes(portal.blobs[ref.sha256]) == ref.path.read_bytes()
        ranges = [r.headers["Content-Range"] for r in server.requests
                  if r.method == "PUT" and r.path.endswith(ref.sha256)]
        assert ranges == ["bytes 0-999/2500", "bytes 1000-1999/2500", "bytes 2000-2499/2500"]
        assert f"GET /api/v1/blobs/{ref.sha256}/upload" in server.paths()
    assert seen["most"] > 1
    assert report.bytes_uploaded == 6 * 2500


def test_signed_out_during_uploads_stops_every_worker(portal: FakePortal, store: FakeStore, stub: Any,
                                                      make_client: Any, tmp_path: Path) -> None:
    """A 401 on one photo ends the sync with AuthRequired; the photos already confirmed stay recorded."""
    refs = [store.add_blob(tmp_path, os.urandom(900)) for _ in range(10)]
    store.add_op()
    puts = []
    lock = threading.Lock()

    def expire_later(request: Any) -> Any:
        if request.method == "PUT":
            with lock:
                puts.append(1)
                if len(puts) > 3:
                    return error(401, "unauthenticated", "Your sign-in has expired.")
        return None

    portal.before = expire_later
    engine, _ = _engine(stub, make_client, portal, store)
    with pytest.raises(AuthRequired):
        engine.run()
    assert store.uploaded <= portal.complete and len(store.uploaded) <= 3
    assert len(puts) < len(refs) + CONNECTIONS   # the workers stopped instead of trying every photo


def test_visits_whose_photos_are_up_are_pushed_during_the_upload_never_before_their_photos(
        portal: FakePortal, store: FakeStore, stub: Any, make_client: Any, tmp_path: Path) -> None:
    """Pushes overlap the upload, in outbox order, and no op reaches the portal before every photo it names."""
    portal.max_push_ops = 2
    refs = [store.add_blob(tmp_path, os.urandom(800)) for _ in range(12)]
    for ref in refs:
        store.add_op(data={"photos": [{"sha256": ref.sha256}]})
    early: list[str] = []
    order: list[str] = []
    inner = portal.before

    def check_push(request: Any) -> Any:
        if request.path.endswith("/sync/push"):
            for op in request.json()["ops"]:
                order.append(op["op_id"])
                early.extend(p["sha256"] for p in op["data"]["photos"] if p["sha256"] not in portal.complete)
        return inner(request) if inner else None

    portal.before = check_push
    _in_flight(portal, 0.03)
    engine, server = _engine(stub, make_client, portal, store)
    queued = [op.op_id for op in store.ops]
    report = engine.run()
    assert report.ok and not early and order == queued
    paths = server.paths()
    last_put = max(i for i, path in enumerate(paths) if path.startswith("PUT "))
    assert paths.index("POST /api/v1/sync/push") < last_put   # some visits went while photos were uploading
