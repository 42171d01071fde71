"""In-memory doubles for the engine's unit tests: a protocol-speaking portal handler and a store.

The real store and portal are exercised by tests/e2e; these doubles let the engine's
own decisions (request order, batching, resume, 410, cancel) be checked in isolation
and fast.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from fieldapp.outbox import MAX_BLOB_RETRIES
from fieldapp.types import BlobRef, OutboxOp, Pending, SyncState
from fieldapp.wire import OpResult

from httpstub import Reply, Request, error


def refuse_upload(sha256: str) -> Callable[[Request], Reply | None]:
    """A ``FakePortal.before`` hook: the portal refuses this photo's upload as not a JPEG or PNG (415)."""
    def refuse(request: Request) -> Reply | None:
        if request.method == "PUT" and sha256 in request.path:
            return error(415, "unsupported_media", "Only JPEG and PNG photos can be uploaded.")
        return None
    return refuse


@dataclass
class FakePortal:
    """Enough of PROTOCOL.md for the engine: pull, push, meta, blobs (with offsets)."""

    changes: list[dict[str, Any]] = field(default_factory=list)
    chunk_bytes: int = 1000
    max_push_ops: int = 100
    max_push_bytes: int = 1_000_000
    horizon: int = 0                               # cursors below this (and > 0) get 410
    statuses: dict[str, str] = field(default_factory=dict)   # op id -> forced status
    blobs: dict[str, bytearray] = field(default_factory=dict)
    complete: set[str] = field(default_factory=set)
    applied_ops: dict[str, dict[str, Any]] = field(default_factory=dict)
    before: Callable[[Request], Reply | None] | None = None  # a fault hook run first
    after_commit: Callable[[Request], Reply | None] | None = None  # a fault hook run after a write

    def add_changes(self, count: int, entity: str = "case") -> None:
        start = len(self.changes)
        for i in range(start, start + count):
            self.changes.append({"entity": entity, "id": str(uuid.uuid4()), "version": 1, "seq": i + 1,
                                 "deleted": False, "data": {"n": i}})

    def __call__(self, request: Request) -> Reply:
        if self.before and (reply := self.before(request)):
            return reply
        path = request.path.removeprefix("/api/v1")
        if path == "/sync/meta":
            return Reply(200, {"protocol": 1, "server_time": "2026-01-01T00:00:00Z", "max_push_ops": self.max_push_ops,
                               "max_push_bytes": self.max_push_bytes, "max_blob_bytes": 10**8,
                               "chunk_bytes": self.chunk_bytes, "tombstone_days": 30})
        if path == "/sync/pull":
            cursor, limit = int(request.query["cursor"]), int(request.query["limit"])
            if 0 < cursor < self.horizon:
                return error(410, "resync_required", "Pull from the start.")
            page = [c for c in self.changes if c["seq"] > cursor][:limit]
            next_cursor = page[-1]["seq"] if page else max(cursor, len(self.changes))
            return Reply(200, {"changes": page, "next_cursor": next_cursor,
                               "has_more": any(c["seq"] > next_cursor for c in self.changes)})
        if path == "/sync/push":
            body = request.json()
            if len(body["ops"]) > self.max_push_ops or len(request.body) > self.max_push_bytes:
                return error(413, "payload_too_large", "Send fewer ops at once.")
            results = [self._apply(op) for op in body["ops"]]
            return self._committed(request, Reply(200, {"results": results}))
        if path == "/blobs/missing":
            return Reply(200, {"missing": [h for h in request.json()["hashes"] if h not in self.complete]})
        if path.startswith("/blobs/") and path.endswith("/upload"):
            name = path.split("/")[2]
            state = "complete" if name in self.complete else ("partial" if self.blobs.get(name) else "absent")
            offset = len(self.blobs.get(name, b""))
            return Reply(200, {"state": state, "offset": offset})
        if path.startswith("/blobs/") and request.method == "PUT":
            return self._put(path.split("/")[2], request)
        return error(404, "not_found", "No such thing.")

    def _apply(self, op: Mapping[str, Any]) -> dict[str, Any]:
        if op["op_id"] in self.applied_ops:
            return {**self.applied_ops[op["op_id"]], "status": "duplicate"}
        status = self.statuses.get(op["id"], "applied")
        if status == "rejected":
            return {"op_id": op["op_id"], "status": status, "error": {"code": "invalid_answers", "message": "Bad."}}
        if status == "conflict":
            return {"op_id": op["op_id"], "status": status, "current": {"status": "approved"},
                    "error": {"code": "visit_locked", "message": "Approved already."}}
        seq = len(self.changes) + 1
        self.changes.append({"entity": op["entity"], "id": op["id"], "version": 1, "seq": seq, "deleted": False,
                             "data": op["data"]})
        result = {"op_id": op["op_id"], "status": "applied", "version": 1, "seq": seq}
        self.applied_ops[op["op_id"]] = result
        return result

    def _put(self, name: str, request: Request) -> Reply:
        if name in self.complete:
            return Reply(201, {"state": "complete"})
        start, rest = request.headers["Content-Range"].removeprefix("bytes ").split("-")
        end, total = (int(x) for x in rest.split("/"))
        have = self.blobs.setdefault(name, bytearray())
        if int(start) != len(have):
            return error(409, "offset_mismatch", "Resume from the committed offset.", {"offset": len(have)})
        have.extend(request.body)
        if len(have) < total:
            return self._committed(request, Reply(200, {"offset": len(have)}))
        if hashlib.sha256(have).hexdigest() != name:
            del self.blobs[name]
            return error(422, "hash_mismatch", "The bytes do not match the name.")
        self.complete.add(name)
        return self._committed(request, Reply(201, {"state": "complete"}))

    def _committed(self, request: Request, reply: Reply) -> Reply:
        if self.after_commit and (fault := self.after_commit(request)):
            return fault
        return reply


@dataclass
class FakeStore:
    """The sync-facing half of FieldStore, in memory."""

    data_dir: Path
    cursor: int = 0
    ops: list[OutboxOp] = field(default_factory=list)
    refs: list[BlobRef] = field(default_factory=list)
    uploaded: set[str] = field(default_factory=set)
    applied: list[tuple[int, int]] = field(default_factory=list)   # (changes in page, next_cursor)
    results: list[OpResult] = field(default_factory=list)
    resets: int = 0
    purges: int = 0
    synced_at: datetime | None = None
    blob_retries: dict[str, int] = field(default_factory=dict)   # record id -> blob_missing re-queues

    def add_op(self, record_id: str | None = None, data: dict[str, Any] | None = None) -> OutboxOp:
        body = data or {"note": "x"}
        op = OutboxOp(str(uuid.uuid4()), "visit", record_id or str(uuid.uuid4()), "submit", 0, body,
                      len(json.dumps(body)) + 150)
        self.ops.append(op)
        return op

    def add_blob(self, directory: Path, data: bytes) -> BlobRef:
        name = hashlib.sha256(data).hexdigest()
        path = directory / f"{name}.jpg"
        path.write_bytes(data)
        ref = BlobRef(name, path, len(data), "image/jpeg")
        self.refs.append(ref)
        return ref

    def sync_state(self) -> SyncState:
        return SyncState(self.cursor, self.synced_at, None, None, "device-1")

    def apply_changes(self, changes: Sequence[Mapping[str, Any]], next_cursor: int) -> None:
        self.applied.append((len(changes), next_cursor))
        self.cursor = next_cursor

    def reset_portal_data(self) -> None:
        self.resets += 1
        self.cursor = 0

    def outbox(self, limit: int = 100, max_bytes: int | None = None) -> list[OutboxOp]:
        # As the real outbox: always at least one op, so one bigger than max_bytes is not stuck.
        batch: list[OutboxOp] = []
        size = 0
        for op in self.ops[:limit]:
            if max_bytes is not None and batch and size + op.size > max_bytes:
                break
            batch.append(op)
            size += op.size
        return batch

    def blobs_to_upload(self) -> list[BlobRef]:
        return [r for r in self.refs if r.sha256 not in self.uploaded]

    def mark_blobs_uploaded(self, hashes: Sequence[str]) -> None:
        self.uploaded.update(hashes)

    def record_results(self, ops: Sequence[OutboxOp], results: Sequence[OpResult]) -> int:
        # As fieldapp.outbox.record_results: a blob_missing rejection marks its blobs not uploaded
        # and queues the op again under a new op_id (MAX_BLOB_RETRIES times); any other result ends it.
        by_op = {r.op_id: r for r in results}
        kept: list[OutboxOp] = []
        queued_again = 0
        for op in self.ops:
            result = by_op.get(op.op_id) if op in ops else None
            if op not in ops or result is None:
                kept.append(op)
                continue
            tries = self.blob_retries.get(op.id, 0)
            if result.status == "rejected" and result.code == "blob_missing" and tries + 1 < MAX_BLOB_RETRIES:
                assert result.error is not None
                self.uploaded.difference_update(result.error.details.get("hashes") or [])
                self.blob_retries[op.id] = tries + 1
                kept.append(replace(op, op_id=str(uuid.uuid4())))
                queued_again += 1
        self.ops = kept
        self.results.extend(results)
        return queued_again

    def pending(self) -> Pending:
        return Pending(len(self.ops), 0, len(self.blobs_to_upload()), sum(r.bytes for r in self.blobs_to_upload()))

    def purge_out_of_scope(self) -> int:
        self.purges += 1
        return 0

    def mark_synced(self, at: datetime) -> None:
        self.synced_at = at
