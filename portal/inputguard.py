"""An ASGI middleware that answers 422 for a NUL character in the address or its query.

No database stores NUL in text (PostgreSQL refuses it), and no real address holds one;
refusing it here means no route ever passes one to a query. Bodies are checked by the
protocol models (``sync.protocol.Incoming``).
"""

from __future__ import annotations

import json
from urllib.parse import unquote_to_bytes

from portal.bodylimit import App, Receive, Scope, Send
from portal.errors import invalid_request


class InputGuardMiddleware:
    """422 invalid_request for NUL in the path or query string."""

    def __init__(self, app: App) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and has_nul(scope):
            err = invalid_request({"url": "The address may not contain the NUL character (%00)."})
            body = json.dumps({"error": {"code": err.code, "message": err.message, "details": err.details}}).encode()
            await send({"type": "http.response.start", "status": 422, "headers": [
                (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
            ]})
            await send({"type": "http.response.body", "body": body})
            return
        await self.app(scope, receive, send)


def has_nul(scope: Scope) -> bool:
    """True when the request's path or query holds NUL (``%00`` included): the guard refuses it."""
    raw_path = scope.get("raw_path") or b""
    query = scope.get("query_string") or b""
    return "\x00" in scope.get("path", "") or b"\x00" in unquote_to_bytes(raw_path) or b"\x00" in unquote_to_bytes(query)
