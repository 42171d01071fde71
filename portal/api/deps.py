"""Typed request dependencies: settings, database, the caller, role checks.

Dependencies that do no I/O are ``async``: FastAPI runs a plain ``def`` dependency in
its thread pool, a hand-off to another thread (and back) for every one of them on
every request. Only the token lookup, which queries the database, stays ``def``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import Depends, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from portal.blobstore import BlobStore
from portal.core.config import PortalSettings
from portal.core.db import Database
from portal.errors import ApiError, invalid_request
from portal.forwarded import client_address
from portal.models import UserRow
from portal.services.audit import Where
from portal.services.auth import Authenticated, authenticate
from portal.services.scope import Caller, caller_for
from sync.protocol import INT64_MAX, ErrorCode


async def get_settings(request: Request) -> PortalSettings:
    """The app's settings."""
    return request.app.state.settings  # type: ignore[no-any-return]


async def get_db(request: Request) -> Database:
    """The app's database."""
    return request.app.state.db  # type: ignore[no-any-return]


async def get_blobs(request: Request) -> BlobStore:
    """The app's blob store."""
    return request.app.state.blobs  # type: ignore[no-any-return]


SettingsDep = Annotated[PortalSettings, Depends(get_settings)]
DbDep = Annotated[Database, Depends(get_db)]
BlobsDep = Annotated[BlobStore, Depends(get_blobs)]


# FastAPI's bearer scheme only reads the header; it also marks every operation that
# needs a token in the OpenAPI schema (portal.openapi adds their 401 from that mark).
_BEARER = HTTPBearer(auto_error=False, scheme_name="bearer", description="The token of POST /auth/login.")


def sign_in_first() -> ApiError:
    """401 for a request without a bearer token."""
    return ApiError(401, ErrorCode.UNAUTHENTICATED, "Sign in first: send Authorization: Bearer <token>.")


async def bearer_token(credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_BEARER)]) -> str:
    """The bearer token of the request, or 401."""
    token = credentials.credentials.strip() if credentials is not None else ""
    if not token:
        raise sign_in_first()
    return token


def token_of(authorization: str | None) -> str:
    """The bearer token of an ``Authorization`` header, read as ``bearer_token`` reads it, or 401 (for ASGI routes)."""
    scheme, _, credentials = (authorization or "").partition(" ")
    token = credentials.strip() if scheme.lower() == "bearer" else ""
    if not token:
        raise sign_in_first()
    return token


TokenDep = Annotated[str, Depends(bearer_token)]


def session_ended() -> ApiError:
    """401 for a token that is not (or no longer) live."""
    return ApiError(
        401, ErrorCode.UNAUTHENTICATED,
        "Your session has ended (it expired, was signed out, or your account was changed); sign in again.",
    )


def get_session(db: DbDep, token: TokenDep) -> Authenticated:
    """The user and device of a live token, or 401."""
    with db.read_once() as session:
        found = authenticate(session, token)
    if found is None:
        raise session_ended()
    return found


SessionDep = Annotated[Authenticated, Depends(get_session)]


async def get_current_user(found: SessionDep) -> UserRow:
    """The user of a live token, or 401."""
    return found.user


CurrentUser = Annotated[UserRow, Depends(get_current_user)]


async def get_address(request: Request, settings: SettingsDep) -> str | None:
    """The client's address (``X-Forwarded-For`` only from a configured proxy)."""
    return client_address(request, settings.trusted_proxies)


AddressDep = Annotated[str | None, Depends(get_address)]


async def get_where(found: SessionDep, address: AddressDep) -> Where:
    """The signed-in side of an audit event: actor, device, address."""
    return Where(found.user.id, found.device_id, address)


WhereDep = Annotated[Where, Depends(get_where)]


async def get_caller(user: CurrentUser) -> Caller:
    """The scope view of the current user."""
    return caller_for(user)


CallerDep = Annotated[Caller, Depends(get_caller)]


async def require_admin(caller: CallerDep) -> Caller:
    """403 for anyone but an admin."""
    if not caller.is_admin:
        raise ApiError(403, ErrorCode.FORBIDDEN, "Only an administrator may use the admin endpoints.")
    return caller


AdminDep = Annotated[Caller, Depends(require_admin)]


async def require_json(request: Request) -> None:
    """415 unless the body is declared as JSON."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/json":
        raise ApiError(415, ErrorCode.UNSUPPORTED_MEDIA, "Send the body as application/json.", {"content_type": content_type})


JsonBody = Annotated[None, Depends(require_json)]


#: A change sequence number in a query (cursor, since): stored as BIGINT, so beyond
#: signed 64 bits it is a 422, never a database error.
SeqQuery = Annotated[int, Query(ge=0, le=INT64_MAX)]


_KNOWN_QUERY: dict[int, frozenset[str]] = {}


def _query_names(dependant: Any) -> Iterator[str]:
    """The query parameters a route and its dependencies declare."""
    for param in dependant.query_params:
        yield param.alias
    for dependency in dependant.dependencies:
        yield from _query_names(dependency)


async def known_query_only(request: Request) -> None:
    """422 for a query parameter the route does not take: unknown fields are refused, as in bodies."""
    if not request.query_params:
        return
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    if dependant is None:
        return
    known = _KNOWN_QUERY.get(id(route))
    if known is None:
        known = _KNOWN_QUERY[id(route)] = frozenset(_query_names(dependant))
    unknown = sorted(set(request.query_params) - known)
    if unknown:
        raise invalid_request({name: "This address takes no such parameter." for name in unknown},
                              f"Unknown query parameter{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)}; remove it.")
