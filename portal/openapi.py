"""The portal's OpenAPI schema, served at ``/api/v1/openapi.json``: every answer it really gives.

FastAPI documents each route's success answer from its response model. The error
answers follow rules that hold for every route, so they are added here, to every
operation of the generated schema, rather than repeated on each decorator:

* every operation: 422 ``invalid_request`` (bad parameters, or NUL in the address);
* one that needs a token (FastAPI marks it with the bearer scheme): 401 ``unauthenticated``;
* under ``/admin``: 403 ``forbidden`` (admins only);
* one with a request body: 413 ``payload_too_large`` and 408 ``request_timeout``
  (``portal.bodylimit``); a JSON body: 415 ``unsupported_media``;
* one with a path parameter: 404 ``not_found``.

Answers particular to a route (409, 410, 429, ...) are on its decorator (``error_responses``).
Every error body is the protocol's envelope (``ErrorResponse``), FastAPI's own 422 included.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from sync.protocol import API_PREFIX, ErrorResponse

OPENAPI_URL = f"{API_PREFIX}/openapi.json"
_ERROR_REF = {"$ref": "#/components/schemas/ErrorResponse"}
_REASONS = {
    401: "Not signed in, or the session ended (unauthenticated).",
    403: "Only an administrator may do this (forbidden).",
    404: "No such record, or the caller may not see it (not_found).",
    408: "The request body did not arrive in time (request_timeout).",
    409: "Conflicts with the current state (conflict, offset_mismatch).",
    410: "The cursor is older than the tombstone horizon (resync_required).",
    413: "The body or an upload is larger than allowed (payload_too_large).",
    415: "Not JSON, or not a JPEG or PNG photo (unsupported_media).",
    422: "A field or parameter is not valid (invalid_request, hash_mismatch, image_too_large, weak_password).",
    429: "Too many attempts or unfinished uploads; see Retry-After.",
}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a route decorator: the error envelope under each status."""
    return {status: {"model": ErrorResponse, "description": _REASONS.get(status, "Error.")} for status in statuses}


def _statuses(path: str, operation: dict[str, Any]) -> list[int]:
    """The error answers every operation of this shape can give."""
    statuses = [422]
    if operation.get("security"):
        statuses.append(401)
    if path.startswith(f"{API_PREFIX}/admin/"):
        statuses.append(403)
    body = operation.get("requestBody")
    if body is not None:
        statuses += [408, 413]
        if "application/json" in body.get("content", {}):
            statuses.append(415)
    if any(param.get("in") == "path" for param in operation.get("parameters", [])):
        statuses.append(404)
    return statuses


def build_schema(app: FastAPI) -> dict[str, Any]:
    """The schema of every route of ``app``, with its error answers."""
    schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    schemas = schema.setdefault("components", {}).setdefault("schemas", {})
    error_schema = ErrorResponse.model_json_schema(ref_template="#/components/schemas/{model}")
    for name, definition in error_schema.pop("$defs", {}).items():
        schemas.setdefault(name, definition)
    schemas["ErrorResponse"] = error_schema
    # Validation errors answer with the protocol's envelope, not FastAPI's default body.
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    for path, operations in schema.get("paths", {}).items():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            for status in _statuses(path, operation):
                key = str(status)
                if key == "422" or key not in responses:
                    responses[key] = {"description": _REASONS[status], "content": {"application/json": {"schema": _ERROR_REF}}}
    return schema


def install_openapi(app: FastAPI) -> None:
    """Serve the schema (built once, on first request) at ``OPENAPI_URL``."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = build_schema(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
