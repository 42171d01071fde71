"""The blob PUT shortcut (portal/api/blob_put.py) answers every case exactly as the FastAPI route does.

The same requests go once through the shortcut and once, with the shortcut passing
everything on, through the route in portal/api/routes/blobs.py; status, body and
headers (the security headers included) must be equal, and only the second run may
reach the route.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from portal.api import blob_put
from portal.api.routes import blobs as blob_routes
from tests.portal.conftest import Portal, World, jpeg_bytes

Answer = tuple[int, Any, dict[str, str]]


def _photo() -> bytes:
    """A new blob of the same size each time: 16 random bytes after the JPEG's end."""
    return jpeg_bytes(size=(80, 60)) + uuid.uuid4().bytes


def _put(portal: Portal, headers: dict[str, str], sha: str, body: bytes, content_range: str | None) -> Answer:
    extra = {"Content-Range": content_range} if content_range is not None else {}
    response = portal.call("PUT", f"/blobs/{sha}", headers={**headers, **extra, "Content-Type": "application/octet-stream"}, content=body)
    kept = {name: value for name, value in response.headers.items() if name not in ("date", "content-length")}
    return response.status_code, response.json(), kept


def _whole(data: bytes) -> str:
    return f"bytes 0-{len(data) - 1}/{len(data)}"


def _scenarios(world: World) -> list[Answer]:
    """Every kind of answer a blob PUT gives, each on fresh bytes (so both runs start from the same state)."""
    portal, officer, other = world.portal, world.auth["officer1"], world.auth["officer2"]
    answers: list[Answer] = []
    photo = _photo()
    sha = hashlib.sha256(photo).hexdigest()
    for headers in ({}, {"Authorization": "Basic b2ZmaWNlcjE6cHc="}, {"Authorization": "Bearer"},
                    {"Authorization": "Bearer not-a-token"}):
        answers.append(_put(portal, headers, sha, photo, _whole(photo)))
    username = portal.call("GET", "/me", headers=officer).json()["username"]
    revoked = portal.login(username, device=f"laptop-{uuid.uuid4().hex[:6]}")
    assert portal.call("POST", "/auth/logout", headers=revoked).status_code == 204
    answers.append(_put(portal, revoked, sha, photo, _whole(photo)))  # a revoke takes effect at once
    answers.append(_put(portal, officer, sha, photo, None))
    answers.append(_put(portal, officer, sha, photo, "bytes=0-2"))
    answers.append(_put(portal, officer, sha, b"plain text", "bytes 0-9/10"))
    answers.append(_put(portal, officer, sha, photo, f"bytes 0-{len(photo) - 1}/{portal.settings.max_blob_bytes + 1}"))
    answers.append(_put(portal, officer, sha, photo[:10], _whole(photo)))
    too_long = photo + bytes(portal.settings.chunk_bytes)   # the body limit's 413 (connection: close), before any check
    answers.append(_put(portal, officer, sha, too_long, f"bytes 0-{len(too_long) - 1}/{len(too_long)}"))
    answers.append(_put(portal, officer, hashlib.sha256(b"other").hexdigest(), photo, _whole(photo)))
    answers.append(_put(portal, officer, sha, photo, _whole(photo)))
    answers.append(_put(portal, officer, sha, photo, _whole(photo)))
    answers.append(_put(portal, other, sha, photo, _whole(photo)))
    answers.append(_put(portal, other, sha, photo[:-1] + b"\0", _whole(photo)))
    chunked = _photo()
    chunked_sha = hashlib.sha256(chunked).hexdigest()
    answers.append(_put(portal, officer, chunked_sha, chunked[:50], f"bytes 0-49/{len(chunked)}"))
    answers.append(_put(portal, officer, chunked_sha, chunked, _whole(chunked)))  # sent whole, yet their upload is at 50
    answers.append(_put(portal, officer, chunked_sha, chunked[60:70], f"bytes 60-69/{len(chunked)}"))
    answers.append(_put(portal, officer, chunked_sha, chunked[50:], f"bytes 50-{len(chunked) - 1}/{len(chunked)}"))
    return answers


def _counting(calls: list[str]) -> Callable[..., Any]:
    real = blob_routes.run_in_threadpool

    async def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append("route")
        return await real(*args, **kwargs)

    return counted


async def _pass_on(self: blob_put.BlobPutMiddleware, scope: Any, receive: Any, send: Any) -> None:
    await self.app(scope, receive, send)


def test_the_shortcut_answers_as_the_route_does(any_world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """Token errors, revoked tokens, range and size errors, a body over the limit, 415, hash mismatch, dedupe, chunks, a whole PUT over an upload begun, 409: all equal."""
    calls: list[str] = []
    monkeypatch.setattr(blob_routes, "run_in_threadpool", _counting(calls))
    shortcut = _scenarios(any_world)
    assert calls == []  # the shortcut answered every one itself
    monkeypatch.setattr(blob_put.BlobPutMiddleware, "__call__", _pass_on)
    routed = _scenarios(any_world)
    assert calls  # and now the route did
    assert [status for status, _, _ in shortcut] == [401, 401, 401, 401, 401, 422, 422, 415, 413, 422, 413, 422, 201, 201, 201, 422, 200, 409, 409, 201]
    assert shortcut == routed
    assert all(headers["x-content-type-options"] == "nosniff" and headers["cache-control"] == "no-store" for _, _, headers in shortcut)


def test_query_strings_and_other_names_go_to_the_app(world: World) -> None:
    """A query parameter is refused as on every route (422); a name not 64 hex digits is 404."""
    photo = _photo()
    sha = hashlib.sha256(photo).hexdigest()
    headers = {**world.auth["officer1"], "Content-Range": _whole(photo)}
    response = world.portal.call("PUT", f"/blobs/{sha}?x=1", headers=headers, content=photo)
    assert response.status_code == 422 and "x" in response.json()["error"]["details"]["fields"]
    assert world.portal.call("PUT", f"/blobs/{sha.upper()}", headers=headers, content=photo).status_code == 404
    assert world.portal.call("GET", f"/blobs/{sha}/upload", headers=world.auth["officer1"]).json() == {"state": "absent", "offset": 0}


def _put_in_pieces(world: World, sha: str, body: bytes, piece: int) -> tuple[int, Any]:
    """A whole-photo PUT whose body reaches the app in many messages of ``piece`` bytes (as uvicorn hands a photo on)."""
    token = world.auth["officer1"]["Authorization"].encode()
    scope = {"type": "http", "method": "PUT", "path": f"/api/v1/blobs/{sha}", "query_string": b"", "client": ("127.0.0.1", 5),
             "server": ("testserver", 80), "scheme": "http", "root_path": "", "http_version": "1.1", "asgi": {"version": "3.0"},
             "headers": [(b"host", b"testserver"), (b"authorization", token),
                         (b"content-range", _whole(body).encode()), (b"content-length", str(len(body)).encode())]}
    pieces = [body[start:start + piece] for start in range(0, len(body), piece)]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": pieces.pop(0), "more_body": bool(pieces)}  # evaluated after the pop

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(world.portal.client.app(scope, receive, send))
    return sent[0]["status"], json.loads(b"".join(m.get("body", b"") for m in sent[1:]))


def test_a_photo_hashed_as_its_pieces_arrive_is_checked_against_its_name(world: World) -> None:
    """The shortcut hashes the body piece by piece: the photo is stored whole, a changed last piece is a hash mismatch."""
    photo = _photo()
    sha = hashlib.sha256(photo).hexdigest()
    changed = photo[:-1] + bytes([photo[-1] ^ 1])
    assert _put_in_pieces(world, sha, changed, 97)[1]["error"]["code"] == "hash_mismatch"
    assert _put_in_pieces(world, sha, photo, 97) == (201, {"state": "complete"})
    download = world.portal.call("GET", f"/blobs/{sha}", headers=world.auth["officer1"])
    assert download.status_code == 200 and download.content == photo
