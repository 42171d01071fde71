"""``services.blob_records``: group commit of blob rows (alone, in batches, with a bad record) and the lean lookup, on each backend."""

from __future__ import annotations

import hashlib
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select, text, update
from sqlalchemy.exc import IntegrityError

from portal.core import migrate
from portal.core.db import Database
from portal.models import AuthTokenRow, BlobRow, BlobUploaderRow, UserRow
from portal.services import blob_records
from portal.services import blobs as blob_service
from portal.services.auth import caller_of_row, live_params
from portal.services.blob_records import GroupCommit, WholeRecord
from portal.services.imagecheck import ImageFacts
from portal.services.sequence import utcnow
from tests.portal.conftest import World, jpeg_bytes

FACTS = ImageFacts("image/jpeg", 2560, 1920)


def _sha() -> str:
    return hashlib.sha256(uuid.uuid4().bytes).hexdigest()


def _wait_until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 10
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        time.sleep(0.002)


def _start(target: Callable[[], None]) -> threading.Thread:
    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread


class _Gated:
    """A commit that records each batch and the thread that committed it, and waits for its gate (one per batch)."""

    def __init__(self, gates: int) -> None:
        self.batches: list[tuple[list[str], str]] = []
        self.gates = [threading.Event() for _ in range(gates)]

    def __call__(self, batch: Sequence[str]) -> None:
        gate = self.gates[len(self.batches)] if len(self.batches) < len(self.gates) else None
        self.batches.append((list(batch), threading.current_thread().name))
        if gate is not None:
            assert gate.wait(10)
        if "bad" in batch:
            raise ValueError("a bad item")


def _submitter(group: GroupCommit[str], item: str, outcomes: dict[str, object]) -> threading.Thread:
    def run() -> None:
        try:
            group.submit(item)
        except ValueError as exc:
            outcomes[item] = exc
        else:
            outcomes[item] = "committed"
    thread = threading.Thread(target=run, name=item, daemon=True)
    thread.start()
    return thread


def _queued_behind_first(commit: _Gated, followers: list[str]) -> tuple[GroupCommit[str], dict[str, object], threading.Thread, list[threading.Thread]]:
    """A group whose first item is committing (held at its gate) with ``followers`` queued behind it."""
    group = GroupCommit[str](commit)
    outcomes: dict[str, object] = {}
    first = _submitter(group, "first", outcomes)
    _wait_until(lambda: len(commit.batches) == 1, "the first batch is committing")
    threads = [_submitter(group, name, outcomes) for name in followers]
    _wait_until(lambda: group.queued() == len(followers), "the followers queue")
    return group, outcomes, first, threads


def test_a_lone_item_commits_at_once_in_its_own_thread() -> None:
    """Nothing waits to gather a batch: a lone submit commits its item alone, in the caller's thread, before returning."""
    batches: list[tuple[list[str], str]] = []
    group = GroupCommit[str](lambda batch: batches.append((list(batch), threading.current_thread().name)))
    group.submit("a")
    assert batches == [(["a"], threading.current_thread().name)]
    group.submit("b")
    assert batches[1] == (["b"], threading.current_thread().name)
    assert not group.committing


def test_items_queued_during_a_commit_are_committed_together_by_the_next_leader() -> None:
    """The first commits alone and returns; those that queued meanwhile are one batch, committed by one of them."""
    commit = _Gated(gates=2)
    group, outcomes, first, followers = _queued_behind_first(commit, ["second", "third"])
    assert commit.batches == [(["first"], "first")]
    commit.gates[0].set()
    first.join(10)
    assert outcomes == {"first": "committed"}  # not held back for the batch after it
    _wait_until(lambda: len(commit.batches) == 2, "the next batch is committing")
    batch, committer = commit.batches[1]
    assert sorted(batch) == ["second", "third"] and committer in ("second", "third")
    assert "second" not in outcomes and "third" not in outcomes  # followers return only after their commit
    commit.gates[1].set()
    for thread in followers:
        thread.join(10)
    assert outcomes == {"first": "committed", "second": "committed", "third": "committed"}
    assert len(commit.batches) == 2 and not group.committing


def test_a_failed_batch_is_retried_item_by_item_so_only_the_bad_item_fails() -> None:
    """A bad item fails only its own caller: the batch is committed again one item at a time."""
    commit = _Gated(gates=1)
    _group, outcomes, first, threads = _queued_behind_first(commit, ["good1", "bad", "good2"])
    commit.gates[0].set()
    for thread in [first, *threads]:
        thread.join(10)
    assert sorted(commit.batches[1][0]) == ["bad", "good1", "good2"]
    assert sorted(batch[0] for batch, _ in commit.batches[2:]) == ["bad", "good1", "good2"]
    assert isinstance(outcomes.pop("bad"), ValueError)
    assert outcomes == {"first": "committed", "good1": "committed", "good2": "committed"}


def _caller_id(world: World, name: str) -> str:
    return world.ids[name]


def _visible(db: Database, sha: str, user_id: str) -> bool:
    """The blob's row and its uploader, as another connection sees them (committed)."""
    with db.read() as session:
        return (session.get(BlobRow, sha) is not None) and (session.get(BlobUploaderRow, (sha, user_id)) is not None)


def test_many_threads_recording_at_once_return_only_once_committed(any_world: World) -> None:
    """Threads record at once (sharing commits); each row is committed when its call returns, none is lost."""
    db = any_world.portal.db
    users = [_caller_id(any_world, name) for name in ("officer1", "officer2", "lead_a")]
    shared = _sha()  # every thread also records one blob all of them upload
    failures: list[str] = []
    done: list[tuple[str, str]] = []
    start = threading.Barrier(12)

    def upload(n: int) -> None:
        user = users[n % len(users)]
        start.wait()
        for sha in [_sha() for _ in range(6)] + [shared]:
            blob_records.record(db, WholeRecord(user, sha, 640_000, FACTS))
            if not _visible(db, sha, user):
                failures.append(sha)
            done.append((sha, user))

    threads = [_start(lambda n=n: upload(n)) for n in range(12)]  # type: ignore[misc]
    for thread in threads:
        thread.join(60)
    assert not failures and len(done) == 12 * 7
    with db.read() as session:
        found = {(sha, user) for sha, user in session.execute(
            select(BlobUploaderRow.sha256, BlobUploaderRow.user_id).where(BlobUploaderRow.sha256.in_({sha for sha, _ in done})))}
        rows = session.scalars(select(BlobRow).where(BlobRow.sha256.in_({sha for sha, _ in done}))).all()
    assert found == set(done)
    assert len(rows) == 12 * 6 + 1
    assert {(r.state, r.offset, r.total, r.content_type, r.width, r.height) for r in rows} == {("complete", 640_000, 640_000, "image/jpeg", 2560, 1920)}


@contextmanager
def _holding(db: Database, sha: str) -> Iterator[None]:
    """A transaction that writes the blob's row and stays open: a record of it waits (SQLite's write lock, PostgreSQL's key)."""
    with db.plain_connection(writes=True) as connection:
        connection.execute(text(
            "INSERT INTO blobs (sha256, state, \"offset\", total, content_type, updated_at) VALUES (:sha, 'complete', 1, 1, 'image/jpeg', :now)"
        ), {"sha": sha, "now": utcnow() - timedelta(days=1)})
        yield


def test_a_bad_record_in_a_batch_fails_only_its_own_upload(any_world: World) -> None:
    """Records queued behind a commit are one batch; one that breaks a constraint fails alone (as SQLAlchemy's error)."""
    db = any_world.portal.db
    user = _caller_id(any_world, "officer1")
    group = blob_records.group_commit(db)
    held, good1, bad, good2 = _sha(), _sha(), _sha(), _sha()
    outcomes: dict[str, object] = {}

    def record(sha: str, total: int | None) -> threading.Thread:
        def run() -> None:
            try:
                blob_records.record(db, WholeRecord(user, sha, total, FACTS))  # type: ignore[arg-type]
            except IntegrityError as exc:
                outcomes[sha] = exc
            else:
                outcomes[sha] = "committed"
        return _start(run)

    with _holding(db, held):
        first = record(held, 640_000)
        _wait_until(lambda: group.committing and group.queued() == 0, "the first record is committing")
        threads = [record(good1, 640_000), record(bad, None), record(good2, 640_000)]  # NULL total: NOT NULL
        _wait_until(lambda: group.queued() == 3, "three records queue behind it")
        assert outcomes == {}
    for thread in [first, *threads]:
        thread.join(60)
    assert isinstance(outcomes.pop(bad), IntegrityError)
    assert outcomes == {held: "committed", good1: "committed", good2: "committed"}
    assert all(_visible(db, sha, user) for sha in (held, good1, good2))
    assert not _visible(db, bad, user)
    with db.plain_connection(writes=True) as connection:  # the failed batch's connection holds no transaction
        connection.execute(update(BlobRow).where(BlobRow.sha256 == good1).values(updated_at=utcnow()))
    with db.read() as session:
        touched = session.get(BlobRow, held)
        assert touched is not None and touched.updated_at > utcnow() - timedelta(minutes=5)  # an existing row is touched


def _states(world: World, token: str, sha: str) -> tuple[object, object]:
    """The lean lookup's answer and the Core lookup's, for one token and blob."""
    db = world.portal.db
    with db.read_once_connection() as connection:
        row = connection.execute(blob_records.CALLER_AND_STATE, {**live_params(token), "sha": sha}).first()
    core = (caller_of_row(row), blob_service.WholeState(row.complete, row.own)) if row is not None else None
    return blob_service.whole_caller_and_state(db, token, sha), core


def test_the_lean_lookup_answers_as_the_core_lookup(any_world: World) -> None:
    """Same caller and blob state for a live token, a partial and a complete blob; None once revoked, expired or disabled."""
    portal = any_world.portal
    auth = any_world.auth["officer1"]
    token = auth["Authorization"].removeprefix("Bearer ")
    photo = jpeg_bytes(size=(40, 30)) + uuid.uuid4().bytes
    sha = hashlib.sha256(photo).hexdigest()
    lean, core = _states(any_world, token, sha)
    assert lean == core and core is not None and core[0].id == any_world.ids["officer1"]
    assert not core[1].complete and not core[1].own_partial
    put = portal.call("PUT", f"/blobs/{sha}", headers={**auth, "Content-Range": f"bytes 0-49/{len(photo)}"}, content=photo[:50])
    assert put.status_code == 200, put.text
    lean, core = _states(any_world, token, sha)
    assert lean == core and core is not None and core[1].own_partial and not core[1].complete
    other = hashlib.sha256(jpeg_bytes(size=(41, 30))).hexdigest()
    blob_records.record(portal.db, WholeRecord(any_world.ids["officer2"], other, 10, FACTS))
    lean, core = _states(any_world, token, other)
    assert lean == core and core is not None and core[1].complete
    for change in (update(AuthTokenRow).where(AuthTokenRow.user_id == any_world.ids["officer1"]).values(expires_at=utcnow() - timedelta(seconds=1)),
                   update(UserRow).where(UserRow.id == any_world.ids["officer1"]).values(active=False),
                   update(AuthTokenRow).where(AuthTokenRow.user_id == any_world.ids["officer1"]).values(revoked=True)):
        with portal.db.plain(writes=True) as session:
            session.execute(update(AuthTokenRow).where(AuthTokenRow.user_id == any_world.ids["officer1"])
                            .values(revoked=False, expires_at=utcnow() + timedelta(hours=1)))
            session.execute(update(UserRow).where(UserRow.id == any_world.ids["officer1"]).values(active=True))
            session.execute(change)
        assert _states(any_world, token, sha) == (None, None), change


def _end_other_sessions(db: Database) -> int:
    """Terminate every other server session on the database (a restart, as the kept connections see it)."""
    with db.read_once_connection() as connection:
        return len(connection.execute(text(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )).all())


def test_kept_connections_the_server_closed_are_replaced_unnoticed(world: World) -> None:
    """After the server ends the connections this path keeps, the lookup and the record still answer (PostgreSQL)."""
    db = world.portal.db
    token = world.auth["officer1"]["Authorization"].removeprefix("Bearer ")
    sha = _sha()
    assert blob_service.whole_caller_and_state(db, token, sha) is not None
    blob_records.record(db, WholeRecord(world.ids["officer1"], _sha(), 640_000, FACTS))
    assert _end_other_sessions(db) >= 1
    found = blob_service.whole_caller_and_state(db, token, sha)
    assert found is not None and found[0].id == world.ids["officer1"]
    _end_other_sessions(db)
    blob_records.record(db, WholeRecord(world.ids["officer1"], sha, 640_000, FACTS))
    assert _visible(db, sha, world.ids["officer1"])


def test_disposing_the_engine_closes_the_kept_connections(tmp_path: Path) -> None:
    """``Database.dispose`` leaves no connection of this path open; the next record opens one."""
    db = Database(f"sqlite:///{tmp_path / 'portal.db'}")
    migrate.upgrade(db.engine)
    blob_records.record(db, WholeRecord("user-1", _sha(), 1, FACTS))
    assert db.engine.pool.checkedout() == 1  # kept
    db.dispose()
    assert db.engine.pool.checkedout() == 0
    sha = _sha()
    blob_records.record(db, WholeRecord("user-1", sha, 1, FACTS))
    assert _visible(db, sha, "user-1")
    db.dispose()
