"""The engine tests' FakeStore stands for FieldStore: same signatures (the SyncStore protocol), same branches."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

from fakes import FakeStore
from fieldapp.lazy_store import LazyStore
from fieldapp.outbox import MAX_BLOB_RETRIES
from fieldapp.store import FieldStore
from fieldapp.types import OutboxOp
from fieldapp.wire import OpResult
from sync.store_api import SyncStore

MEMBERS = sorted(name for name, _ in inspect.getmembers(SyncStore) if not name.startswith("_"))


def _shape(function: object) -> list[tuple[str, object, object, str]]:
    signature = inspect.signature(function)  # type: ignore[arg-type]
    return [(p.name, p.kind, p.default, str(p.annotation)) for p in signature.parameters.values()]


@pytest.mark.parametrize("name", [m for m in MEMBERS if m != "data_dir"])
def test_the_store_and_its_double_have_the_protocols_signatures(name: str) -> None:
    """Each SyncStore method has the same parameters, defaults and annotations in FieldStore, LazyStore and FakeStore."""
    wanted = _shape(getattr(SyncStore, name))
    assert _shape(getattr(FieldStore, name)) == wanted
    assert _shape(getattr(LazyStore, name)) == wanted
    assert _shape(getattr(FakeStore, name)) == wanted


def test_both_have_a_data_dir(tmp_path: Path) -> None:
    """The engine reads data_dir of any store."""
    assert isinstance(FieldStore.__dict__["data_dir"], property)
    assert isinstance(LazyStore.__dict__["data_dir"], property)
    assert FakeStore(tmp_path).data_dir == tmp_path


def test_a_first_op_bigger_than_the_limit_still_goes(tmp_path: Path) -> None:
    """As fieldapp.outbox.oldest: never an empty batch when the first op alone is over max_bytes."""
    store = FakeStore(tmp_path)
    first, _second = store.add_op(), store.add_op()
    assert store.outbox(max_bytes=1) == [first]


def blob_missing(op: OutboxOp, sha256: str) -> OpResult:
    return OpResult.model_validate({"op_id": op.op_id, "status": "rejected", "error": {
        "code": "blob_missing", "message": "Upload the photo first.", "details": {"hashes": [sha256]}}})


def test_blob_missing_requeues_the_op_under_a_new_id_until_the_retries_run_out(tmp_path: Path) -> None:
    """As the real store: blobs marked not uploaded, the op queued again with a new op_id, then dropped."""
    store = FakeStore(tmp_path)
    op = store.add_op()
    ref = store.add_blob(tmp_path, b"photo")
    store.mark_blobs_uploaded([ref.sha256])
    ids = [op.op_id]
    for _ in range(MAX_BLOB_RETRIES - 1):
        [current] = store.outbox()
        assert store.record_results([current], [blob_missing(current, ref.sha256)]) == 1
        [again] = store.outbox()
        assert again.id == op.id and again.op_id not in ids and again.data == op.data
        assert ref.sha256 not in store.uploaded
        ids.append(again.op_id)
        store.mark_blobs_uploaded([ref.sha256])
    [last] = store.outbox()
    assert store.record_results([last], [blob_missing(last, ref.sha256)]) == 0
    assert store.outbox() == []
