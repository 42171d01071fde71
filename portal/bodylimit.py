"""An ASGI middleware that answers 413 payload_too_large before an oversized body reaches a route.

The body is read (up to the route's limit) before the app runs, so a route never sees a
truncated body and nothing is stored from a refused request. The whole body must
arrive within ``body_timeout_seconds`` (else 408 request_timeout and the connection is
closed): a client trickling a body a byte at a time cannot hold a worker for ever.
``read_body`` is that rule on its own, for the blob layer that reads its bodies itself
(``portal.api.blob_put``).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, Protocol

from portal.core.config import PortalSettings
from portal.errors import error_body
from sync.protocol import API_PREFIX, ErrorCode

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]


class Digest(Protocol):
    """What ``read_body`` needs of a ``hashlib`` object."""

    def update(self, data: bytes, /) -> None: ...


class ClientLeft(Exception):
    """The client disconnected before its body arrived: nothing to answer."""


class BodyRefused(Exception):
    """The body is larger than its address accepts (413) or did not arrive in time (408): ``answer`` it."""

    def __init__(self, status: int, payload: dict[str, Any]) -> None:
        super().__init__(status)
        self.status = status
        self.payload = payload

    async def answer(self, send: Send) -> None:
        """The refusal, closing the connection (the rest of the body is never read)."""
        body = json.dumps(self.payload).encode()
        await send({"type": "http.response.start", "status": self.status, "headers": [
            (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), (b"connection", b"close"),
        ]})
        await send({"type": "http.response.body", "body": body})


def _too_large(limit: int) -> BodyRefused:
    return BodyRefused(413, error_body(
        ErrorCode.PAYLOAD_TOO_LARGE, f"The request body is larger than this address accepts ({limit} bytes); send less at a time.",
        {"limit": limit},
    ))


async def read_body(scope: Scope, receive: Receive, limit: int, timeout_seconds: float, *, digest: Digest | None = None) -> bytes:
    """The whole request body, at most ``limit`` bytes, all of it within ``timeout_seconds``.

    ``digest`` (a ``hashlib`` object) is fed each piece as it arrives, while it is still in
    the processor's cache: hashing the joined body later reads it all from memory again.

    Raises ``BodyRefused`` (a declared or actual size over the limit, or too slow) before
    anything is stored, and ``ClientLeft`` when the client disconnects first.
    """
    declared = dict(scope.get("headers") or []).get(b"content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    try:
        async with asyncio.timeout(timeout_seconds):
            body = await _read(receive, limit, digest)
    except TimeoutError:
        raise BodyRefused(408, error_body(
            ErrorCode.REQUEST_TIMEOUT,
            f"The request body did not arrive within {timeout_seconds:g} seconds; check the connection and try again.",
        )) from None
    if body is None:
        raise _too_large(limit)
    return body


async def _read(receive: Receive, limit: int, digest: Digest | None) -> bytes | None:
    """The whole body; None when it exceeds ``limit``."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientLeft
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if digest is not None:
            digest.update(chunk)
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)


class BodyLimitMiddleware:
    """Per-route body limits: push, blob chunks, everything else."""

    def __init__(self, app: App, settings: PortalSettings) -> None:
        self.app = app
        self.settings = settings

    def limit_for(self, method: str, path: str) -> int:
        """The largest body the route accepts."""
        if method == "POST" and path == f"{API_PREFIX}/sync/push":
            return self.settings.max_push_bytes
        if method == "PUT" and path.startswith(f"{API_PREFIX}/blobs/"):
            return self.settings.chunk_bytes
        return self.settings.max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS", "DELETE"):
            await self.app(scope, receive, send)
            return
        try:
            body = await read_body(scope, receive, self.limit_for(scope["method"], scope["path"]), self.settings.body_timeout_seconds)
        except BodyRefused as refused:
            await refused.answer(send)
            return
        except ClientLeft:
            return
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)
