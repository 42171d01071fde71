"""``PUT /blobs/{sha256}`` (PROTOCOL.md, "Photo blobs") answered by a plain ASGI layer: the request a sync sends most.

A push sends one PUT per photo, hundreds at a time, each carrying ~0.6 MB. Through
FastAPI each cost about as much CPU as storing the photo: matching the request against
every route, solving the dependency tree, and two hand-offs to the thread pool (the
token lookup, then the upload). Here the same checks run in one hand-off: the token
(``deps.token_of``, then ``services.blobs.whole_caller_and_state``: looked up on every request,
so a revoke takes effect at once, in the query that also reads the blob's state for the
caller), then ``services.blobs.put_chunk``, the function the FastAPI route calls.

Only a PUT to ``/api/v1/blobs/<64 lowercase hex>`` without a query string is answered
here; anything else (a bad name: 404, a query parameter: 422, a NUL the input guard
refuses) goes on to the rest of the stack and the route in ``routes/blobs.py``, which
also documents the endpoint in the OpenAPI schema. The layer is the outermost of the
portal's own: it reads the body itself under the body limit's rule (``bodylimit.read_body``:
the chunk limit and the body deadline, 413/408), sparing a photo's ~10 body messages the
trip through the other layers and the body's replay, and adds the security headers to
every answer it gives (``headers.with_security_headers``). An ``ApiError`` is answered
with the app's error envelope, anything else reaches the app's 500 handler.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

import anyio.to_thread
from starlette.responses import JSONResponse

from portal.api.deps import session_ended, token_of
from portal.blobstore import BlobStore
from portal.bodylimit import App, BodyRefused, ClientLeft, Receive, Scope, Send, read_body
from portal.core.config import PortalSettings
from portal.core.db import Database
from portal.errors import ApiError, error_response
from portal.headers import with_security_headers
from portal.inputguard import has_nul
from portal.services import blobs as blob_service
from sync.protocol import API_PREFIX

_BLOB_PATH = re.compile(re.escape(f"{API_PREFIX}/blobs/") + r"([0-9a-f]{64})")


class BlobPutMiddleware:
    """Answers blob PUTs itself; passes every other request to ``app``."""

    def __init__(self, app: App, settings: PortalSettings, db: Database, store: BlobStore) -> None:
        self.app = app
        self.settings = settings
        self.db = db
        self.store = store

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        match = _BLOB_PATH.fullmatch(scope["path"]) if scope["type"] == "http" and scope["method"] == "PUT" else None
        if match is None or scope.get("query_string") or has_nul(scope):
            await self.app(scope, receive, send)
            return
        send = with_security_headers(scope, send, self.settings.trusted_proxies)
        digest = hashlib.sha256()
        try:
            body = await read_body(scope, receive, self.settings.chunk_bytes, self.settings.body_timeout_seconds, digest=digest)
        except BodyRefused as refused:
            await refused.answer(send)
            return
        except ClientLeft:
            return
        headers = _headers(scope, (b"authorization", b"content-range"))
        try:
            status, payload = await anyio.to_thread.run_sync(
                self._put, headers[b"authorization"], headers[b"content-range"], match.group(1), body, digest.hexdigest())
        except ApiError as exc:
            response = error_response(exc)
        else:
            response = JSONResponse(payload, status_code=status)
        await response(scope, receive, send)

    def _put(
        self, authorization: str | None, content_range: str | None, sha256: str, body: bytes, body_sha256: str,
    ) -> tuple[int, dict[str, Any]]:
        """The token and what the blob's state is for its caller (one query), then the chunk (in a worker thread: both wait)."""
        found = blob_service.whole_caller_and_state(self.db, token_of(authorization), sha256)
        if found is None:
            raise session_ended()
        caller, state = found
        return blob_service.put_chunk(self.db, self.store, self.settings, caller, sha256, content_range, body, state, body_sha256)


def _headers(scope: Scope, names: tuple[bytes, ...]) -> dict[bytes, str | None]:
    """The first value of each named header (as Starlette's ``headers.get`` reads it), None when absent."""
    found: dict[bytes, str | None] = dict.fromkeys(names)
    for name, value in scope["headers"]:
        name = name.lower()
        if name in found and found[name] is None:
            found[name] = value.decode("latin-1")
    return found

