"""The engine's order of work, batching, resume, resync and cancel, against in-memory doubles."""

from __future__ import annotations

import hashlib
import os
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from sync.blobs import BlobUploader
from sync.engine import SyncEngine
from sync.errors import AuthRequired, MalformedPage, SyncBusy
from sync.lock import SyncLock
from sync.page_feed import GROUP_WAIT

from fakes import FakePortal, FakeStore, refuse_upload
from httpstub import Reply, error


@pytest.fixture
def engine_for(stub: Any, make_client: Any) -> Any:
    def build(portal: FakePortal, store: FakeStore) -> tuple[SyncEngine, object]:
        server = stub(portal)
        client = make_client(server.url)
        return SyncEngine(store, client, pull_limit=10), server
    return build


def test_nothing_to_do_costs_one_request(portal: Any, store: Any, engine_for: Any) -> None:
    """With nothing new and nothing queued, a sync is one pull request (no purge) and reports ok."""
    portal.add_changes(3)
    store.cursor = 3
    engine, server = engine_for(portal, store)
    report = engine.run()
    assert server.paths() == ["GET /api/v1/sync/pull"]
    assert report.ok and report.pulled == 0 and store.purges == 0 and store.synced_at is not None


def test_full_sync_order_pages_chunks_and_batches(portal: Any, store: Any, engine_for: Any, tmp_path: Path) -> None:
    """Pull pages, then missing blobs in chunks and pushes within max_push_ops (ready ones during the upload),
    then a final pull."""
    portal.add_changes(25)
    portal.chunk_bytes, portal.max_push_ops = 400, 2
    data = os.urandom(1000)
    store.add_blob(tmp_path, data)
    on_portal = store.add_blob(tmp_path, b"already there")
    portal.complete.add(on_portal.sha256)
    for _ in range(5):
        store.add_op()
    engine, server = engine_for(portal, store)
    seen = []
    report = engine.run(progress=seen.append)
    first_pull = store.applied[:[cursor for _, cursor in store.applied].index(25) + 1]
    # Pages that arrived while the store was busy may be applied together: the cursors still advance
    # page by page's end, and every change is applied once.
    assert sum(count for count, _ in first_pull) == 25 and {c for _, c in first_pull} <= {10, 20, 25}
    name = hashlib.sha256(data).hexdigest()
    assert bytes(portal.blobs[name]) == data and store.uploaded == {name, on_portal.sha256}
    paths = server.paths()
    assert paths[:3] == ["GET /api/v1/sync/pull"] * 3
    assert paths[3:5] == ["GET /api/v1/sync/meta", "POST /api/v1/blobs/missing"]
    assert paths.count(f"PUT /api/v1/blobs/{name}") == 3          # 400 + 400 + 200 bytes
    assert paths.count("POST /api/v1/sync/push") == 3             # 2 + 2 + 1 ops
    assert paths[-1] == "GET /api/v1/sync/pull"
    assert (report.ok, report.ops_pushed, report.applied, report.blobs_uploaded, report.bytes_uploaded) == \
        (True, 5, 5, 1, 1000)
    assert store.purges == 1
    assert [p.phase for p in seen if p.done == 0 and p.bytes_done == 0][0] == "pull" and seen[-1].phase == "done"


def test_pages_that_arrive_together_are_applied_in_one_transaction(portal: Any, store: Any,
                                                                   engine_for: Any) -> None:
    """The three pages come within the feed's wait: one transaction with the last cursor; a slow page alone."""
    portal.add_changes(25)
    engine, server = engine_for(portal, store)
    report = engine.run()
    assert report.ok and store.applied == [(25, 25)] and store.cursor == 25
    assert server.paths() == ["GET /api/v1/sync/pull"] * 3
    portal.add_changes(25)

    def slow_second_page(request: Any) -> None:
        if request.path.endswith("/sync/pull") and int(request.query["cursor"]) == 35:
            time.sleep(GROUP_WAIT + 0.5)   # page 2 of the next pull comes after the group of page 1 has gone
        return None

    portal.before = slow_second_page
    assert engine.run().ok
    assert store.applied[1:] == [(10, 35), (15, 50)] and store.cursor == 50


def test_conflicts_and_rejections_are_recorded_and_do_not_block(portal: Any, store: Any, engine_for: Any) -> None:
    """A rejected and a conflicting op go to the store; the ops after them are still pushed."""
    bad, locked = store.add_op(), store.add_op()
    good = store.add_op()
    portal.statuses = {bad.id: "rejected", locked.id: "conflict"}
    engine, _ = engine_for(portal, store)
    report = engine.run()
    assert [r.status for r in store.results] == ["rejected", "conflict", "applied"]
    assert store.results[1].current == {"status": "approved"}
    assert (report.ok, report.conflicts, report.rejected, report.applied) == (False, 1, 1, 1)
    assert good.op_id in portal.applied_ops and store.ops == []


def test_410_drops_portal_data_and_pulls_from_zero_keeping_work(portal: Any, store: Any, engine_for: Any) -> None:
    """An expired cursor resets portal data, pulls everything again, and still pushes queued work."""
    portal.add_changes(5)
    portal.horizon = 4  # cursors 1..3 are older than the tombstone horizon
    store.cursor = 3
    op = store.add_op()
    engine, _ = engine_for(portal, store)
    report = engine.run()
    assert store.resets == 1 and store.applied[0] == (5, 5)
    assert op.op_id in portal.applied_ops and report.ok


def test_413_halves_the_batch(portal: Any, store: Any, engine_for: Any) -> None:
    """When the portal says the batch is too large, smaller batches are sent and all ops go through."""
    for _ in range(6):
        store.add_op()
    portal.max_push_ops = 100
    sizes = []

    def limit(request: Any) -> Any:
        if request.path.endswith("/push"):
            n = len(request.json()["ops"])
            sizes.append(n)
            if n > 2:
                return error(413, "payload_too_large", "Too big.")
        return None

    portal.before = limit
    engine, _ = engine_for(portal, store)
    assert engine.run().ok
    assert sizes[0] == 6 and max(sizes[1:]) <= 3 and len(portal.applied_ops) == 6


def test_push_replayed_after_lost_response_gives_duplicate_not_twice(portal: Any, store: Any, engine_for: Any) -> None:
    """The portal commits a push but the answer is lost: the retry gets 'duplicate', nothing applies twice."""
    store.add_op()
    store.add_op()
    dropped = []

    def lose_first_push_answer(request: Any) -> Any:
        if request.path.endswith("/push") and not dropped:
            dropped.append(1)
            return Reply(drop=True)
        return None

    portal.after_commit = lose_first_push_answer
    engine, _ = engine_for(portal, store)
    report = engine.run()
    assert report.ok and [r.status for r in store.results] == ["duplicate", "duplicate"]
    assert len([c for c in portal.changes if c["entity"] == "visit"]) == 2


def test_upload_resumes_from_committed_offset_after_drop(portal: Any, stub: Any, make_client: Any, tmp_path: Path) -> None:
    """A connection lost after the portal committed a chunk: ask the offset, resume, never resend committed bytes."""
    data = os.urandom(2500)
    name = hashlib.sha256(data).hexdigest()
    (tmp_path / "f").write_bytes(data)
    drops = []

    def drop_second_chunk(request: Any) -> Any:
        if request.method == "PUT" and request.headers["Content-Range"].startswith("bytes 1000-") and not drops:
            drops.append(1)
            return Reply(drop=True)
        return None

    portal.after_commit = drop_second_chunk
    server = stub(portal)
    client = make_client(server.url)
    sent = BlobUploader(client, 1000).upload(name, tmp_path / "f")
    assert bytes(portal.blobs[name]) == data and name in portal.complete
    ranges = [r.headers.get("Content-Range") for r in server.requests if r.method == "PUT"]
    assert ranges == ["bytes 0-999/2500", "bytes 1000-1999/2500", "bytes 2000-2499/2500"]
    assert "GET /api/v1/blobs/%s/upload" % name in server.paths() and sent == 2500


def test_upload_resumes_a_partial_left_by_an_earlier_run(portal: Any, stub: Any, make_client: Any, tmp_path: Path) -> None:
    """A partial upload from a killed sync is continued from the portal's offset (409 offset_mismatch)."""
    data = os.urandom(2100)
    name = hashlib.sha256(data).hexdigest()
    (tmp_path / "f").write_bytes(data)
    portal.blobs[name] = bytearray(data[:1000])
    server = stub(portal)
    BlobUploader(make_client(server.url), 1000).upload(name, tmp_path / "f")
    assert bytes(portal.blobs[name]) == data
    assert [r.headers["Content-Range"] for r in server.requests if r.method == "PUT"] == \
        ["bytes 0-999/2100", "bytes 1000-1999/2100", "bytes 2000-2099/2100"]


def test_a_refused_photo_does_not_stop_the_others(portal: Any, store: Any, engine_for: Any, tmp_path: Path) -> None:
    """A photo the portal refuses (415) is reported; the other photos and the ops still go."""
    bad = store.add_blob(tmp_path, b"not an image at all")
    good = store.add_blob(tmp_path, os.urandom(300))
    store.add_op()
    portal.before = refuse_upload(bad.sha256)
    engine, _ = engine_for(portal, store)
    report = engine.run()
    assert good.sha256 in portal.complete and bad.sha256 not in store.uploaded
    assert not report.ok and "JPEG" in report.blob_failures[0] and report.applied == 1


def test_cancel_between_batches_stops_cleanly(portal: Any, store: Any, engine_for: Any) -> None:
    """Cancel during push: the batch in flight is recorded, later ones stay queued, report says cancelled."""
    portal.max_push_ops = 1
    for _ in range(4):
        store.add_op()
    cancel = threading.Event()

    def on_progress(progress: Any) -> None:
        if progress.phase == "push" and progress.done >= 1:
            cancel.set()

    engine, _ = engine_for(portal, store)
    report = engine.run(progress=on_progress, cancel=cancel)
    assert report.cancelled and not report.ok
    assert 1 <= len(portal.applied_ops) < 4 and len(store.ops) == 4 - len(portal.applied_ops)


def test_second_sync_of_same_folder_is_refused(portal: Any, store: Any, engine_for: Any) -> None:
    """While another sync holds the data folder, run() raises SyncBusy and sends nothing."""
    engine, server = engine_for(portal, store)
    with SyncLock(store.data_dir):
        with pytest.raises(SyncBusy):
            engine.run()
    assert server.requests == []


def test_expired_token_stops_with_auth_required(portal: Any, store: Any, engine_for: Any) -> None:
    """401 during a sync raises AuthRequired (sign in again) and leaves the queue intact."""
    store.add_op()
    portal.before = lambda r: error(401, "unauthenticated", "Your session expired. Sign in again.")
    engine, _ = engine_for(portal, store)
    with pytest.raises(AuthRequired):
        engine.run()
    assert len(store.ops) == 1


def test_a_malformed_page_stops_the_pull_after_the_pages_before_it(portal: Any, store: Any, engine_for: Any) -> None:
    """The pages before a malformed one are applied with their cursors; it and what follows are not, and the
    sync stops with MalformedPage (the next sync resumes from the last page applied)."""
    portal.add_changes(25)
    portal.changes[14]["version"] = "2"          # on the second page of 10
    engine, _server = engine_for(portal, store)
    with pytest.raises(MalformedPage, match='change 5 of the page: "version"'):
        engine.run()
    assert store.applied == [(10, 10)] and store.cursor == 10
