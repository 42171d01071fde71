"""Sync: limits, pull and push."""

from __future__ import annotations

import logging
import time
from typing import Annotated, Any, ClassVar

import pydantic_core
from fastapi import APIRouter, Query, Request, Response
from pydantic import Field, StrictStr

from portal.api.deps import CallerDep, DbDep, JsonBody, SeqQuery, SettingsDep, WhereDep
from portal.core.config import PortalSettings
from portal.core.db import Database
from portal.errors import ApiError
from portal.openapi import error_responses
from portal.services import audit, housekeeping
from portal.services import pull as pull_service
from portal.services.audit_sync import pull_event, push_recorded
from sync.protocol import (
    PROTOCOL_REVISION,
    PROTOCOL_VERSION,
    ErrorCode,
    Incoming,
    PullResponse,
    PushResponse,
    SyncMeta,
    format_timestamp,
    utc_now,
)

log = logging.getLogger(__name__)
router = APIRouter(prefix="/sync", tags=["sync"])


class PushEnvelope(Incoming):
    """The push body with each op left raw: a malformed op is rejected alone, not the batch."""

    device_id: StrictStr = Field(min_length=1, max_length=100)
    ops: list[Any]
    # Each op is checked on its own, so one bad op is rejected alone.
    raw_fields: ClassVar[frozenset[str]] = frozenset({"ops"})


@router.get("/meta", response_model=SyncMeta)
def meta(_caller: CallerDep, settings: SettingsDep) -> dict[str, Any]:
    """The protocol version and revision, server time and limits."""
    return {
        "protocol": PROTOCOL_VERSION, "revision": PROTOCOL_REVISION, "server_time": format_timestamp(utc_now()),
        "max_push_ops": settings.max_push_ops, "max_push_bytes": settings.max_push_bytes,
        "max_blob_bytes": settings.max_blob_bytes, "chunk_bytes": settings.chunk_bytes,
        "tombstone_days": settings.tombstone_days,
    }


_PURGE_EVERY_SECONDS = 3600.0


def _maybe_purge(request: Request, db: Database, settings: PortalSettings) -> None:
    # Housekeeping at most hourly per process (and by `fieldapp-portal housekeeping`).
    state = request.app.state
    last = getattr(state, "last_purge", None)
    if last is not None and time.monotonic() - last < _PURGE_EVERY_SECONDS:
        return
    state.last_purge = time.monotonic()
    report = housekeeping.run(db, request.app.state.blobs, settings)
    log.info("Housekeeping: %s", report.summary())


@router.get("/pull", response_model=PullResponse, responses=error_responses(410))
def pull(
    request: Request, caller: CallerDep, db: DbDep, settings: SettingsDep, where: WhereDep,
    cursor: SeqQuery = 0, limit: Annotated[int, Query(ge=1, le=1000)] = 500,
) -> Response:
    """The caller's changes after ``cursor``."""
    _maybe_purge(request, db, settings)
    with db.read() as session:
        page = pull_service.pull(session, caller, cursor, limit, settings.tombstone_days)
        started = pull_service.chain_start(session, caller.id, cursor, page, settings.tombstone_days)
    # The page's bookkeeping in one write transaction (one fsync per page, not two): the cursor a pull
    # from 0 hands out (before the page is answered) and the audit event of the pull.
    with db.plain(writes=True) as session:
        if started is not None:
            pull_service.remember_chain(session, caller.id, page["next_cursor"], started)
        audit.add(session, where, [pull_event(page, cursor)])
    # The page is built to PullResponse (tests hold it to the model) and encoded once, in Rust: FastAPI's
    # own path would validate its thousand changes against the model and then serialise them again.
    return Response(pydantic_core.to_json(page), media_type="application/json")


@router.post("/push", response_model=PushResponse, response_model_exclude_none=True)
def push(caller: CallerDep, _json: JsonBody, body: PushEnvelope, db: DbDep, settings: SettingsDep, where: WhereDep) -> dict[str, Any]:
    """Apply the ops in order; one result per op."""
    if len(body.ops) > settings.max_push_ops:
        raise ApiError(
            413, ErrorCode.PAYLOAD_TOO_LARGE, f"Push at most {settings.max_push_ops} ops at a time.",
            {"max_push_ops": settings.max_push_ops, "ops": len(body.ops)},
        )
    return {"results": push_recorded(db, caller, body.ops, where)}
