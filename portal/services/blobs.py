"""Resumable, content-addressed blob uploads and in-scope downloads.

The upload record of a blob is row-locked (``SELECT ... FOR UPDATE``; SQLite writers
are serialised anyway) for the whole of a chunk's write, so two uploads of one blob —
from two threads or two portal processes — never interleave their bytes.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from portal.blobstore import BlobStore
from portal.core.config import PortalSettings
from portal.core.db import Database
from portal.errors import ApiError, invalid_request, not_found
from portal.models import Blob, BlobUploader, Visit, VisitBlob
from portal.services import scope
from portal.services.sequence import utcnow
from sync.protocol import SHA256_RE, ContentRange, ErrorCode

_JPEG = b"\xff\xd8\xff"
_PNG = b"\x89PNG\r\n\x1a\n"


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


def missing(session: Session, hashes: list[str]) -> list[str]:
    """The hashes not complete on the portal, in the order asked (once each)."""
    bad = {f"hashes.{i}": "Not a SHA-256 (64 lowercase hex digits)." for i, h in enumerate(hashes) if not SHA256_RE.fullmatch(h)}
    if bad:
        raise invalid_request(bad)
    wanted = list(dict.fromkeys(hashes))
    complete = set(session.scalars(select(Blob.sha256).where(Blob.sha256.in_(wanted), Blob.state == "complete")))
    return [h for h in wanted if h not in complete]


def upload_state(session: Session, sha256: str) -> dict[str, Any]:
    """How much of a blob the portal holds."""
    blob = session.get(Blob, sha256)
    if blob is None:
        return {"state": "absent", "offset": 0}
    return {"state": blob.state, "offset": blob.offset}


def _lock(session: Session, sha256: str, total: int) -> Blob:
    """The blob's upload row, created if absent, locked for this transaction."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(
        insert(Blob).values(sha256=sha256, state="partial", offset=0, total=total, content_type=None, updated_at=utcnow())
        .on_conflict_do_nothing(index_elements=["sha256"])
    )
    return session.scalars(select(Blob).where(Blob.sha256 == sha256).with_for_update()).one()


def put_chunk(
    db: Database, store: BlobStore, settings: PortalSettings, caller: scope.Caller,
    sha256: str, content_range: str | None, body: bytes,
) -> tuple[int, dict[str, Any]]:
    """Store one chunk; returns the status code and body of the answer."""
    with db.plain() as session:
        done = session.scalar(select(Blob.state).where(Blob.sha256 == sha256)) == "complete"
    if done:
        return 201, {"state": "complete"}
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
    # The upload row's lock serialises this blob's chunks; the change counter is not involved.
    with db.plain(writes=True) as session:
        blob = _lock(session, sha256, rng.total)
        if blob.state == "complete":
            return 201, {"state": "complete"}
        if blob.total != rng.total and blob.offset > 0:
            raise invalid_request({"Content-Range": f"The blob's total size was given as {blob.total} before."})
        if rng.start != blob.offset:
            raise ApiError(409, ErrorCode.OFFSET_MISMATCH, f"Resume the upload at byte {blob.offset}.", {"offset": blob.offset})
        store.write_chunk(sha256, rng.start, body)
        blob.total = rng.total
        if rng.start == 0:
            blob.content_type = sniff(body)
        blob.offset = rng.end + 1
        blob.updated_at = utcnow()
        session.merge(BlobUploader(sha256=sha256, user_id=caller.id))
        if blob.offset < blob.total:
            return 200, {"offset": blob.offset}
        if not store.finish(sha256):
            session.delete(blob)
            session.flush()
            # Commit the discard, then answer 422.
            hash_error = ApiError(422, ErrorCode.HASH_MISMATCH, "The uploaded bytes do not match the photo's SHA-256; upload it again from the start.")
        else:
            blob.state = "complete"
            return 201, {"state": "complete"}
    raise hash_error


def can_download(session: Session, caller: scope.Caller, sha256: str) -> bool:
    """Uploaders; callers who see a visit referencing the blob; admins (the CRM export)."""
    if caller.is_admin:
        return session.scalar(select(exists().where(VisitBlob.sha256 == sha256))) or False
    if session.get(BlobUploader, (sha256, caller.id)) is not None:
        return True
    visible = select(VisitBlob.visit_id).join(Visit, Visit.id == VisitBlob.visit_id).where(VisitBlob.sha256 == sha256, scope.visit_filter(caller))
    return session.scalar(select(exists(visible))) or False


def discard_stale_partials(session: Session, store: BlobStore, older_than_days: int) -> int:
    """Drop partial uploads nobody has continued for ``older_than_days`` (a device that never came back)."""
    cutoff = utcnow() - timedelta(days=older_than_days)
    stale = session.scalars(select(Blob).where(Blob.state == "partial", Blob.updated_at < cutoff).with_for_update(skip_locked=True)).all()
    for blob in stale:
        store.discard(blob.sha256)
        session.delete(blob)
    return len(stale)
