"""Resumable, content-addressed blob uploads, possession, and in-scope downloads (PROTOCOL revision 2).

Possession: a caller holds a blob when they uploaded its bytes (or proved them, below)
or can see a visit that references it. Only then may their visits reference it, does
``POST /blobs/missing`` leave it out and does the upload state show it complete; to
anyone else a complete blob looks absent, so knowing a hash reveals nothing.

Uploads are per caller: each keeps its own partial upload (``BlobPartialRow``), so another
caller's PUT starts their own and can never spoil it. A PUT to a blob that is already
complete is compared with the stored bytes: equal from the start over at least
``PROOF_BYTES`` (or the whole blob) answers 201 and records the caller as an uploader;
any difference is 422 hash_mismatch. A completing upload must hash to its name and pass
the Pillow check (``imagecheck``) before it becomes the blob.

A blob that arrives in one PUT (a photo, at the default ``chunk_bytes``) is hashed and
checked in memory and stored in one step, without a partial upload's row or file.

A partial's row is locked (``SELECT ... FOR UPDATE``; SQLite serialises writers anyway)
for the whole of a chunk's write, so two uploads from one caller never interleave bytes.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, DateTime, Insert, Select, String, Update, and_, bindparam, delete, exists, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from portal.blobstore import BlobStore
from portal.core.config import PortalSettings
from portal.core.db import Database
from portal.errors import ApiError, invalid_request, not_found
from portal.models import BlobPartialRow, BlobRow, BlobUploaderRow, VisitBlobRow, VisitRow
from portal.services import blob_records, scope
from portal.services.blob_records import WholeState
from portal.services.bulk import dialect_insert
from portal.services.imagecheck import ImageFacts, inspect_image
from portal.services.sequence import utcnow
from sync.protocol import SHA256_RE, ContentRange, ErrorCode

_JPEG = b"\xff\xd8\xff"
_PNG = b"\x89PNG\r\n\x1a\n"
#: Bytes of a complete blob a caller must match, from its start, to count as holding it:
#: 64 KiB of a photo cannot be guessed, and the client's first chunk covers it.
PROOF_BYTES = 64 * 1024


def check_name(sha256: str) -> None:
    """404 for any name that is not 64 lowercase hex digits."""
    if not SHA256_RE.fullmatch(sha256):
        raise not_found("blob")


def sniff(first_bytes: bytes) -> str | None:
    """The content type by magic bytes: JPEG or PNG, else None."""
    if first_bytes.startswith(_JPEG):
        return "image/jpeg"
    if first_bytes.startswith(_PNG):
        return "image/png"
    return None


def _held_condition(caller: scope.Caller) -> Any:
    """Blobs the caller holds: uploaded by them, or referenced by a visit they can see."""
    uploaded = exists().where(BlobUploaderRow.sha256 == BlobRow.sha256, BlobUploaderRow.user_id == caller.id)
    if caller.is_admin:
        return uploaded
    visible = exists(
        select(VisitBlobRow.visit_id).join(VisitRow, VisitRow.id == VisitBlobRow.visit_id)
        .where(VisitBlobRow.sha256 == BlobRow.sha256, scope.visit_filter(caller))
    )
    return or_(uploaded, visible)


def held(session: Session, caller: scope.Caller, hashes: list[str], *, lock: bool = False) -> dict[str, int]:
    """The complete blobs among ``hashes`` that the caller holds, with their sizes.

    ``lock`` takes a share lock on them (PostgreSQL) so housekeeping cannot remove one
    between this check and the commit of the visit that references it.
    """
    if not hashes:
        return {}
    query = select(BlobRow.sha256, BlobRow.total).where(
        BlobRow.sha256.in_(hashes), BlobRow.state == "complete", _held_condition(caller))
    if lock:
        query = query.with_for_update(read=True, of=BlobRow)
    return {row.sha256: row.total for row in session.execute(query)}


def missing(session: Session, caller: scope.Caller, hashes: list[str]) -> list[str]:
    """The hashes not complete on the portal as far as this caller knows, in the order asked (once each)."""
    bad = {f"hashes.{i}": "Not a SHA-256 (64 lowercase hex digits)." for i, h in enumerate(hashes) if not SHA256_RE.fullmatch(h)}
    if bad:
        raise invalid_request(bad)
    wanted = list(dict.fromkeys(hashes))
    have = held(session, caller, wanted)
    return [h for h in wanted if h not in have]


def upload_state(session: Session, caller: scope.Caller, sha256: str) -> dict[str, Any]:
    """How much of a blob the portal holds for this caller: their own partial, or a blob they hold."""
    have = held(session, caller, [sha256])
    if sha256 in have:
        return {"state": "complete", "offset": have[sha256]}
    partial = session.get(BlobPartialRow, (sha256, caller.id))
    if partial is None:
        return {"state": "absent", "offset": 0}
    return {"state": "partial", "offset": partial.offset}


def _lock_partial(session: Session, sha256: str, caller: scope.Caller, total: int, settings: PortalSettings, store: BlobStore) -> BlobPartialRow:
    """The caller's partial upload row, created (within their quota) if absent, locked for this transaction."""
    key = (BlobPartialRow.sha256 == sha256, BlobPartialRow.user_id == caller.id)
    row = session.scalars(select(BlobPartialRow).where(*key).with_for_update()).one_or_none()
    if row is not None:
        return row
    _make_room(session, caller, settings, store)
    session.execute(
        dialect_insert(session)(BlobPartialRow).values(sha256=sha256, user_id=caller.id, offset=0, total=total, content_type=None, updated_at=utcnow())
        .on_conflict_do_nothing(index_elements=["sha256", "user_id"])
    )
    return session.scalars(select(BlobPartialRow).where(*key).with_for_update()).one()


def _make_room(session: Session, caller: scope.Caller, settings: PortalSettings, store: BlobStore) -> None:
    """Keep the caller within ``max_partial_uploads``: drop their stalest partial, or 429 when all are busy."""
    count = session.scalar(select(func.count()).select_from(BlobPartialRow).where(BlobPartialRow.user_id == caller.id)) or 0
    if count < settings.max_partial_uploads:
        return
    idle_before = utcnow() - timedelta(seconds=settings.partial_busy_seconds)
    stalest = session.scalars(
        select(BlobPartialRow).where(BlobPartialRow.user_id == caller.id, BlobPartialRow.updated_at < idle_before)
        .order_by(BlobPartialRow.updated_at).limit(count - settings.max_partial_uploads + 1).with_for_update(skip_locked=True)
    ).all()
    if len(stalest) <= count - settings.max_partial_uploads:
        retry = settings.partial_busy_seconds
        raise ApiError(
            429, ErrorCode.TOO_MANY_UPLOADS,
            f"You have {count} unfinished photo uploads, the most the portal holds for one person; "
            f"finish those first, or try again in {retry // 60} minutes.",
            {"max_partial_uploads": settings.max_partial_uploads}, headers={"Retry-After": str(retry)},
        )
    for row in stalest:
        store.discard(row.sha256, row.user_id)
        session.delete(row)
    session.flush()


def whole_caller_and_state(db: Database, token: str, sha256: str) -> tuple[scope.Caller, WholeState] | None:
    """The token's caller (None: not live) and the blob's ``WholeState`` for them, in one query on a pooled connection's
    own cursor (``blob_records``): the PUT shortcut's, for every photo."""
    return blob_records.caller_and_state(db, token, sha256)


def put_chunk(
    db: Database, store: BlobStore, settings: PortalSettings, caller: scope.Caller,
    sha256: str, content_range: str | None, body: bytes, state: WholeState | None = None, body_sha256: str | None = None,
) -> tuple[int, dict[str, Any]]:
    """Store one chunk; returns the status code and body of the answer.

    ``state``: the blob's ``WholeState``, when the caller's lookup has read it already;
    ``body_sha256``: the body's SHA-256 (hex), when it was hashed as it arrived.
    """
    if content_range is None:
        raise invalid_request({"Content-Range": "required: bytes START-END/TOTAL"})
    try:
        rng = ContentRange.parse(content_range)
    except ValueError as exc:
        raise invalid_request({"Content-Range": str(exc)}) from None
    if rng.total > settings.max_blob_bytes:
        raise ApiError(413, ErrorCode.PAYLOAD_TOO_LARGE, f"Photos may be at most {settings.max_blob_bytes} bytes.", {"max_blob_bytes": settings.max_blob_bytes})
    if rng.length > settings.chunk_bytes:
        raise ApiError(413, ErrorCode.PAYLOAD_TOO_LARGE, f"Send chunks of at most {settings.chunk_bytes} bytes.", {"chunk_bytes": settings.chunk_bytes})
    if len(body) != rng.length:
        raise invalid_request({"body": f"The body has {len(body)} bytes but Content-Range announces {rng.length}."})
    if rng.start == 0 and sniff(body) is None:
        raise ApiError(415, ErrorCode.UNSUPPORTED_MEDIA, "Only JPEG and PNG photos can be uploaded.")
    if rng.start == 0 and rng.end + 1 == rng.total:
        answer = _put_whole(db, store, settings, caller, sha256, body, state, body_sha256)
        if answer is not None:
            return answer
    failure: ApiError | None = None
    with db.plain(writes=True) as session:
        blob = session.get(BlobRow, sha256)
        own = session.get(BlobPartialRow, (sha256, caller.id))
        if blob is not None and own is None:
            answer = _against_complete(session, store, caller, blob, rng, body)
            if answer is not None:
                return answer
        partial = _lock_partial(session, sha256, caller, rng.total, settings, store)
        if partial.total != rng.total and partial.offset > 0:
            raise invalid_request({"Content-Range": f"The blob's total size was given as {partial.total} before."})
        if rng.start != partial.offset:
            raise ApiError(409, ErrorCode.OFFSET_MISMATCH, f"Resume the upload at byte {partial.offset}.", {"offset": partial.offset})
        store.write_chunk(sha256, caller.id, rng.start, body)
        partial.total = rng.total
        partial.offset = rng.end + 1
        partial.updated_at = utcnow()
        if partial.offset < partial.total:
            return 200, {"offset": partial.offset}
        try:
            _complete(session, store, settings, caller, partial)
        except ApiError as exc:
            # Discard the upload and commit that, then answer with the reason.
            store.discard(sha256, caller.id)
            session.delete(partial)
            failure = exc
        else:
            return 201, {"state": "complete"}
    assert failure is not None
    raise failure


def _against_complete(
    session: Session, store: BlobStore, caller: scope.Caller, blob: BlobRow, rng: ContentRange, body: bytes,
) -> tuple[int, dict[str, Any]] | None:
    """A chunk sent for a blob that is complete: 201 once it proves the bytes, 422 if they differ.

    None when the bytes match but prove too little: the caller uploads on, as their own upload.
    """
    if rng.total != blob.total or store.read_range(blob.sha256, rng.start, rng.length) != body:
        raise _hash_mismatch()
    already = session.get(BlobUploaderRow, (blob.sha256, caller.id)) is not None
    if already or (rng.start == 0 and rng.length >= min(blob.total, PROOF_BYTES)):
        _record_uploader(session.connection(), caller, blob.sha256)
        return 201, {"state": "complete"}
    if rng.start != 0:
        raise ApiError(409, ErrorCode.OFFSET_MISMATCH, "Resume the upload at byte 0.", {"offset": 0})
    return None


def _record_uploader(connection: Connection, caller: scope.Caller, sha256: str, *, touch: bool = True) -> None:
    """The caller holds the blob from now on (Core statements built once: this runs for every photo)."""
    statements = _statements(connection)
    connection.execute(statements.add_uploader, {"sha": sha256, "user": caller.id})
    if touch:
        # A fresh upload restarts the grace period housekeeping gives unreferenced blobs.
        connection.execute(statements.touch_blob, {"sha": sha256, "now": utcnow()})


def _hash_mismatch() -> ApiError:
    return ApiError(422, ErrorCode.HASH_MISMATCH, "The uploaded bytes do not match the photo's SHA-256; upload it again from the start.")


def _put_whole(
    db: Database, store: BlobStore, settings: PortalSettings, caller: scope.Caller, sha256: str, body: bytes,
    state: WholeState | None, body_sha256: str | None,
) -> tuple[int, dict[str, Any]] | None:
    """A blob sent in one PUT (every photo, at the default chunk size): checked in memory, stored, no partial upload.

    None when the blob is complete already or the caller has a partial upload of it: the
    general path answers those (a proof of the bytes, or the upload's own offset). The
    file is written and synced before the write transaction, so concurrent uploads share
    the disk's syncs instead of queueing for SQLite's write lock; a blob another upload
    completes meanwhile has the same bytes (both hash to the name) and keeps its row.
    """
    if state is None:
        with db.read_once_connection() as connection:
            complete, own = connection.execute(_statements(connection).whole_state, {"sha": sha256, "user": caller.id}).one()
        state = WholeState(complete, own)
    if state.complete or state.own_partial:
        return None
    if (body_sha256 or hashlib.sha256(body).hexdigest()) != sha256:
        raise _hash_mismatch()
    facts = inspect_image(io.BytesIO(body), settings.max_photo_edge)
    # The bytes are on disk before the row that says they are commits.
    store.store_whole(sha256, body)
    record_whole(db, caller, sha256, len(body), facts)
    return 201, {"state": "complete"}


def record_whole(db: Database, caller: scope.Caller, sha256: str, total: int, facts: ImageFacts) -> None:
    """``_record_blob`` for a blob stored whole, committed (durably) before it returns.

    Concurrent uploads in this process share a commit (``blob_records``: group commit).
    """
    blob_records.record(db, blob_records.WholeRecord(caller.id, sha256, total, facts))


def _complete(session: Session, store: BlobStore, settings: PortalSettings, caller: scope.Caller, partial: BlobPartialRow) -> None:
    """Hash and check the finished partial, then make it the blob (or drop it when another finished first)."""
    sha256 = partial.sha256
    if store.partial_digest(sha256, caller.id) != sha256:
        raise _hash_mismatch()
    with store.open_partial(sha256, caller.id) as handle:
        facts = inspect_image(handle, settings.max_photo_edge)
    if session.get(BlobRow, sha256) is None:
        store.promote(sha256, caller.id)
    else:
        store.discard(sha256, caller.id)
    session.delete(partial)
    _record_blob(session.connection(), caller, sha256, partial.total, facts)


def _record_blob(connection: Connection, caller: scope.Caller, sha256: str, total: int, facts: ImageFacts) -> None:
    """The blob's row (unless another upload made it first) and the caller as its uploader."""
    result = connection.execute(_statements(connection).add_blob, {
        "sha": sha256, "total": total, "type": facts.content_type, "now": utcnow(), "width": facts.width, "height": facts.height,
    })
    created = result.rowcount == 1
    _record_uploader(connection, caller, sha256, touch=not created)


@dataclass(frozen=True)
class _Statements:
    """The upload's hot statements, for one dialect (its INSERT ... ON CONFLICT)."""

    whole_state: Select[bool, bool]
    add_blob: Insert
    add_uploader: Insert
    touch_blob: Update


def _build_statements(insert: Any) -> _Statements:
    sha, user, now = bindparam("sha", type_=String), bindparam("user", type_=String), bindparam("now", type_=DateTime)
    complete = exists().where(BlobRow.sha256 == sha)

    def own_partial(user_id: Any) -> Any:
        return exists().where(BlobPartialRow.sha256 == sha, BlobPartialRow.user_id == user_id)

    return _Statements(
        whole_state=select(complete, own_partial(user)),
        add_blob=insert(BlobRow).values(
            sha256=sha, state="complete", offset=bindparam("total"), total=bindparam("total"), content_type=bindparam("type"),
            updated_at=now, width=bindparam("width"), height=bindparam("height"),
        ).on_conflict_do_nothing(index_elements=["sha256"]),
        add_uploader=insert(BlobUploaderRow).values(sha256=sha, user_id=user)
        .on_conflict_do_nothing(index_elements=["sha256", "user_id"]),
        touch_blob=update(BlobRow).where(BlobRow.sha256 == sha).values(updated_at=now),
    )


_BY_DIALECT = {"postgresql": _build_statements(pg_insert), "sqlite": _build_statements(sqlite_insert)}


def _statements(connection: Connection) -> _Statements:
    return _BY_DIALECT[connection.dialect.name]


def can_download(session: Session, caller: scope.Caller, sha256: str) -> bool:
    """Uploaders; callers who see a visit referencing the blob; admins (the CRM export)."""
    if caller.is_admin:
        return session.scalar(select(exists().where(VisitBlobRow.sha256 == sha256))) or False
    return sha256 in held(session, caller, [sha256])


def discard_stale_partials(session: Session, store: BlobStore, older_than_days: int) -> int:
    """Drop partial uploads nobody has continued for ``older_than_days`` (a device that never came back)."""
    cutoff = utcnow() - timedelta(days=older_than_days)
    stale = session.scalars(select(BlobPartialRow).where(BlobPartialRow.updated_at < cutoff).with_for_update(skip_locked=True)).all()
    for row in stale:
        store.discard(row.sha256, row.user_id)
        session.delete(row)
    return len(stale)


def unreferenced_blobs(session: Session, older_than: datetime) -> list[str]:
    """Remove the rows of complete blobs no visit references, last uploaded before ``older_than``; their hashes.

    The caller deletes the bytes once this transaction has committed. Rows a submit is
    checking right now are share-locked by it and skipped.
    """
    referenced = exists().where(VisitBlobRow.sha256 == BlobRow.sha256)
    hashes = list(session.scalars(
        select(BlobRow.sha256).where(and_(BlobRow.updated_at < older_than, ~referenced))
        .with_for_update(skip_locked=True, of=BlobRow)
    ))
    if hashes:
        session.execute(delete(BlobUploaderRow).where(BlobUploaderRow.sha256.in_(hashes)))
        session.execute(delete(BlobRow).where(BlobRow.sha256.in_(hashes)))
    return hashes
