"""Photo blobs: which are missing, upload state, resumable upload, download."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Request
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.concurrency import run_in_threadpool

from portal.api.deps import BlobsDep, CallerDep, DbDep, JsonBody, SettingsDep, WhereDep
from portal.api.schemas import BlobComplete, ChunkAccepted
from portal.errors import not_found
from portal.models import BlobRow
from portal.openapi import error_responses
from portal.services import audit
from portal.services import blobs as blob_service
from portal.services.audit import Action, Event
from sync.protocol import BlobMissingRequest, BlobMissingResponse, BlobUploadState

router = APIRouter(prefix="/blobs", tags=["blobs"])


@router.post("/missing", response_model=BlobMissingResponse)
def missing(caller: CallerDep, _json: JsonBody, body: BlobMissingRequest, db: DbDep) -> dict[str, Any]:
    """The hashes not complete on the portal, as far as the caller holds them."""
    with db.plain() as session:
        return {"missing": blob_service.missing(session, caller, body.hashes)}


@router.get("/{sha256}/upload", response_model=BlobUploadState)
def upload_state(sha256: str, caller: CallerDep, db: DbDep) -> dict[str, Any]:
    """How many bytes of the blob the portal has committed for the caller."""
    blob_service.check_name(sha256)
    with db.plain() as session:
        return blob_service.upload_state(session, caller, sha256)


_CHUNK_BODY = {"requestBody": {"required": True, "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}}


@router.put("/{sha256}", openapi_extra=_CHUNK_BODY, responses={
    200: {"model": ChunkAccepted, "description": "The chunk is committed; the upload is partial."},
    201: {"model": BlobComplete, "description": "The blob is complete (or proven, when it already was)."},
    **error_responses(409, 415, 429),
})
async def put_chunk(
    sha256: str, request: Request, caller: CallerDep, db: DbDep, store: BlobsDep, settings: SettingsDep,
    content_range: Annotated[str | None, Header()] = None,
) -> JSONResponse:
    """Append one chunk at the committed offset.

    ``portal.api.blob_put`` answers well-formed PUTs before routing (the same checks and
    ``put_chunk``); this route documents the endpoint and answers the rest (bad names,
    query strings), and its answers are the reference the shortcut is tested against.
    """
    blob_service.check_name(sha256)
    body = await request.body()
    # The database and file work is blocking: run it off the event loop.
    status, payload = await run_in_threadpool(
        blob_service.put_chunk, db, store, settings, caller, sha256, content_range, body
    )
    return JSONResponse(payload, status_code=status)


@router.get("/{sha256}", response_class=StreamingResponse, responses={
    200: {"content": {"image/jpeg": {"schema": {"type": "string", "format": "binary"}},
                      "image/png": {"schema": {"type": "string", "format": "binary"}}}, "description": "The photo's bytes."},
})
def download(sha256: str, caller: CallerDep, db: DbDep, store: BlobsDep, where: WhereDep) -> StreamingResponse:
    """The blob's bytes, to a caller who may see it."""
    blob_service.check_name(sha256)
    with db.plain() as session:
        blob = session.get(BlobRow, sha256)
        allowed = blob is not None and blob.state == "complete" and blob_service.can_download(session, caller, sha256)
        content_type = blob.content_type if blob is not None else None
    if not allowed or not store.exists(sha256):
        raise not_found("photo")
    audit.record(db, where, Event(Action.BLOB_READ, "blob", sha256))
    return StreamingResponse(store.read(sha256), media_type=content_type or "application/octet-stream")
