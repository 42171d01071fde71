"""An ASGI middleware that answers 413 payload_too_large before an oversized body reaches a route.

The body is read (up to the route's limit) before the app runs, so a route never sees a
truncated body and nothing is stored from a refused request. The whole body must
arrive within ``body_timeout_seconds`` (else 408 request_timeout and the connection is
closed): a client trickling a body a byte at a time cannot hold a worker for ever.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from portal.core.config import PortalSettings
from portal.errors import error_body
from sync.protocol import API_PREFIX, ErrorCode

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]


class _ClientLeft(Exception):
    """The client disconnected before its body arrived: nothing to answer."""


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

    async def _refuse(self, send: Send, limit: int) -> None:
        await self._answer(send, 413, error_body(
            ErrorCode.PAYLOAD_TOO_LARGE, f"The request body is larger than this address accepts ({limit} bytes); send less at a time.",
            {"limit": limit},
        ))

    async def _answer(self, send: Send, status: int, payload: dict[str, Any]) -> None:
        body = json.dumps(payload).encode()
        await send({"type": "http.response.start", "status": status, "headers": [
            (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), (b"connection", b"close"),
        ]})
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS", "DELETE"):
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["method"], scope["path"])
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await self._refuse(send, limit)
            return
        try:
            async with asyncio.timeout(self.settings.body_timeout_seconds):
                body = await self._read(receive, limit)
        except TimeoutError:
            await self._answer(send, 408, error_body(
                ErrorCode.REQUEST_TIMEOUT,
                f"The request body did not arrive within {self.settings.body_timeout_seconds:g} seconds; check the connection and try again.",
            ))
            return
        except _ClientLeft:
            return
        if body is None:
            await self._refuse(send, limit)
            return
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    @staticmethod
    async def _read(receive: Receive, limit: int) -> bytes | None:
        """The whole body; None when it exceeds ``limit``."""
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise _ClientLeft
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)
