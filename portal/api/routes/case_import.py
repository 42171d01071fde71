"""``POST /admin/cases/import``: the CRM sends many cases at once, as a JSON list or CSV."""

from __future__ import annotations

import json
from typing import Any, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from portal.api.deps import AdminDep, DbDep, WhereDep
from portal.errors import ApiError, invalid_request
from portal.services.case_import import CaseImport
from portal.services.case_rows import (
    FIELDS,
    ImportFileError,
    Row,
    decode,
    from_json,
    iter_csv,
)
from sync.protocol import ErrorCode

router = APIRouter(prefix="/admin", tags=["admin"])


class ImportResult(BaseModel):
    """One row's outcome; ``error`` (rejected) is ``{"code", "message", "fields"}``."""

    row: int
    status: Literal["created", "updated", "unchanged", "rejected"]
    id: str | None = None
    error: dict[str, Any] | None = None


class ImportResponse(BaseModel):
    """A result per row, in the order of the rows."""

    results: list[ImportResult]


_CASE_ROW = {"type": "object", "description": f"A case's fields as for POST /admin/cases plus external_ref: {', '.join(FIELDS)}."}
_BODY = {"requestBody": {"required": True, "content": {
    "application/json": {"schema": {"type": "array", "items": _CASE_ROW}},
    "text/csv": {"schema": {"type": "string", "description": "A header line of field names, then one case a line (UTF-8)."}},
}}}


def _rows(content_type: str, body: bytes) -> list[Row]:
    """The rows of the body, by its declared type; a file of the wrong shape is a 422."""
    try:
        if content_type == "application/json":
            try:
                payload = json.loads(decode(body))
            except ValueError as exc:
                if isinstance(exc, ImportFileError):
                    raise
                raise ImportFileError("The body is not valid JSON; send a JSON list of cases.") from None
            return from_json(payload)
        return list(iter_csv(decode(body)))
    except ImportFileError as exc:
        raise invalid_request({"body": exc.message, **{k: str(v) for k, v in exc.details.items()}}, exc.message) from None


@router.post("/cases/import", response_model=ImportResponse, response_model_exclude_none=True, openapi_extra=_BODY)
async def import_cases(request: Request, _admin: AdminDep, db: DbDep, where: WhereDep) -> dict[str, Any]:
    """Create or update cases by ``external_ref``: a result per row; a replay changes nothing."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in ("application/json", "text/csv"):
        raise ApiError(415, ErrorCode.UNSUPPORTED_MEDIA, "Send the cases as application/json (a list) or text/csv.",
                       {"content_type": content_type})
    rows = _rows(content_type, await request.body())

    def run() -> list[dict[str, Any]]:
        return [result.to_json() for batch in CaseImport(db, where, "api").run(rows) for result in batch]

    return {"results": await run_in_threadpool(run)}
