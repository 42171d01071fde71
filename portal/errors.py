"""The portal's error type and the handlers that give every failure one JSON shape.

Every error answer is ``{"error": {"code", "message", "details"}}``, FastAPI's own
validation errors, unknown routes and unexpected failures included.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from sync.protocol import ErrorCode

log = logging.getLogger(__name__)


class ApiError(Exception):
    """An answer with an error status, code and a message a person can act on."""

    def __init__(
        self, status: int, code: str, message: str, details: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details or {}
        self.headers = headers


def error_body(code: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    """The protocol's error envelope."""
    return {"error": {"code": code, "message": message, "details": details or {}}}


def error_response(exc: ApiError) -> JSONResponse:
    """The answer to an ``ApiError``: its status, headers and the envelope."""
    return JSONResponse(error_body(exc.code, exc.message, exc.details), status_code=exc.status, headers=exc.headers)


def not_found(what: str = "record") -> ApiError:
    """404 for anything absent or outside the caller's scope (existence never leaks)."""
    return ApiError(404, ErrorCode.NOT_FOUND, f"No such {what}, or you do not have access to it.")


def field_errors(errors: list[Any], drop_prefix: tuple[str, ...] = ("body", "query", "path", "header")) -> dict[str, str]:
    """Pydantic errors as ``{"dotted.field": "message"}``, one entry per bad field."""
    fields: dict[str, str] = {}
    for err in errors:
        loc = [str(part) for part in err.get("loc", ())]
        if loc and loc[0] in drop_prefix:
            loc = loc[1:]
        name = ".".join(loc) or "body"
        fields.setdefault(name, str(err.get("msg", "invalid value")))
    return fields


def invalid_request(fields: dict[str, str], message: str | None = None) -> ApiError:
    """422 naming each bad field."""
    names = ", ".join(sorted(fields)) or "the body"
    return ApiError(
        422, ErrorCode.INVALID_REQUEST, message or f"The request is not valid; correct: {names}.", {"fields": fields}
    )


_STATUS_CODES = {
    401: (ErrorCode.UNAUTHENTICATED, "Sign in again."),
    403: (ErrorCode.FORBIDDEN, "Your account may not do this."),
    404: (ErrorCode.NOT_FOUND, "There is nothing at this address."),
    405: ("method_not_allowed", "This address does not accept that method."),
    413: (ErrorCode.PAYLOAD_TOO_LARGE, "The request body is too large."),
    415: (ErrorCode.UNSUPPORTED_MEDIA, "Send the body as application/json."),
}


def install_error_handlers(app: FastAPI) -> None:
    """Route every kind of failure through the error envelope."""

    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = list(exc.errors())
        if any(err.get("type") == "json_invalid" for err in errors):
            err = invalid_request({"body": "The body is not valid JSON."}, "The body is not valid JSON; send a JSON object.")
        else:
            err = invalid_request(field_errors(errors))
        return JSONResponse(error_body(err.code, err.message, err.details), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400:
            # A body FastAPI cannot even decode (not UTF-8): the same answer as any invalid JSON.
            err = invalid_request({"body": "The body is not valid JSON."}, "The body is not valid JSON (UTF-8); send a JSON object.")
            return JSONResponse(error_body(err.code, err.message, err.details), status_code=422)
        code, message = _STATUS_CODES.get(exc.status_code, ("error", str(exc.detail)))
        return JSONResponse(error_body(code, message), status_code=exc.status_code, headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        from portal.headers import security_headers  # (Starlette answers a 500 outside every middleware)

        log.exception("Unexpected failure", exc_info=exc)
        return JSONResponse(
            error_body("internal_error", "The portal failed unexpectedly; retry later or tell the council's IT."),
            status_code=500, headers=security_headers(request, request.app.state.settings.trusted_proxies),
        )
