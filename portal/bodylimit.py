"""An ASGI middleware that answers 413 payload_too_large before an oversized body reaches a route.

The body is read (up to the route's limit) before the app runs, so a route never sees a
truncated body and nothing is stored from a refused request.
"""

from __future__ import annotations

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
        body = json.dumps(error_body(
            ErrorCode.PAYLOAD_TOO_LARGE, f"The request body is larger than this address accepts ({limit} bytes); send less at a time.",
            {"limit": limit},
        )).encode()
        await send({"type": "http.response.start", "status": 413, "headers": [
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
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await self._refuse(send, limit)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)
