"""Blobs: resumable uploads, hash/size/type checks, dedupe, names, and downloads only in scope."""

from __future__ import annotations

import hashlib
import uuid

import pytest

from portal.models import BlobPartialRow, BlobRow
from tests.portal.conftest import Portal, World, jpeg_bytes, png_bytes


def _put(portal: Portal, headers: dict, sha: str, data: bytes, start: int, total: int) -> object:
    end = start + len(data) - 1
    return portal.call("PUT", f"/blobs/{sha}", headers={**headers, "Content-Range": f"bytes {start}-{end}/{total}", "Content-Type": "application/octet-stream"}, content=data)


def _stored(portal: Portal, sha: str) -> BlobRow | None:
    with portal.db.plain() as session:
        return session.get(BlobRow, sha)


def _partial(portal: Portal, sha: str, user_id: str) -> BlobPartialRow | None:
    with portal.db.plain() as session:
        return session.get(BlobPartialRow, (sha, user_id))


def _unique_jpeg() -> bytes:
    return jpeg_bytes(size=(80, 60), colour=tuple(uuid.uuid4().bytes[:3]))  # type: ignore[arg-type]


def test_chunked_upload_with_resume(any_portal: Portal) -> None:
    """Chunks advance the offset (200), the state survives between calls, the last byte completes (201)."""
    from tests.portal.conftest import build_world

    world = build_world(any_portal)
    headers = world.auth["officer1"]
    data = _unique_jpeg()
    sha = hashlib.sha256(data).hexdigest()
    assert any_portal.call("GET", f"/blobs/{sha}/upload", headers=headers).json() == {"state": "absent", "offset": 0}
    assert any_portal.call("POST", "/blobs/missing", headers=headers, json={"hashes": [sha]}).json() == {"missing": [sha]}
    first = _put(any_portal, headers, sha, data[:100], 0, len(data))
    assert first.status_code == 200 and first.json() == {"offset": 100}
    assert any_portal.call("GET", f"/blobs/{sha}/upload", headers=headers).json() == {"state": "partial", "offset": 100}
    rest = _put(any_portal, headers, sha, data[100:], 100, len(data))
    assert rest.status_code == 201 and rest.json() == {"state": "complete"}
    assert any_portal.call("GET", f"/blobs/{sha}/upload", headers=headers).json() == {"state": "complete", "offset": len(data)}
    assert any_portal.call("POST", "/blobs/missing", headers=headers, json={"hashes": [sha]}).json() == {"missing": []}
    download = any_portal.call("GET", f"/blobs/{sha}", headers=headers)
    assert download.content == data and download.headers["content-type"] == "image/jpeg"


def test_offset_mismatch_reports_the_offset(world: World) -> None:
    """A chunk that does not start at the committed offset answers 409 offset_mismatch with details.offset."""
    data = _unique_jpeg()
    sha = hashlib.sha256(data).hexdigest()
    _put(world.portal, world.auth["officer1"], sha, data[:50], 0, len(data))
    for start in (10, 60):
        response = _put(world.portal, world.auth["officer1"], sha, data[start:start + 20], start, len(data))
        assert response.status_code == 409
        assert response.json()["error"]["code"] == "offset_mismatch" and response.json()["error"]["details"]["offset"] == 50
    assert _partial(world.portal, sha, world.ids["officer1"]).offset == 50


def test_hash_mismatch_discards_the_upload(world: World) -> None:
    """Bytes that do not hash to the name answer 422 hash_mismatch and leave nothing behind."""
    data = _unique_jpeg()
    sha = hashlib.sha256(b"something else" + data).hexdigest()
    response = _put(world.portal, world.auth["officer1"], sha, data, 0, len(data))
    assert response.status_code == 422 and response.json()["error"]["code"] == "hash_mismatch"
    assert _stored(world.portal, sha) is None
    assert not list(world.portal.settings.blob_dir.rglob(f"{sha}*"))
    state = world.portal.call("GET", f"/blobs/{sha}/upload", headers=world.auth["officer1"]).json()
    assert state == {"state": "absent", "offset": 0}


def test_png_is_accepted_and_text_is_refused(world: World) -> None:
    """A PNG by its bytes is accepted whatever it is called; a text file is 415 unsupported_media and not stored."""
    png = png_bytes()
    sha = hashlib.sha256(png).hexdigest()
    assert _put(world.portal, world.auth["officer1"], sha, png, 0, len(png)).status_code == 201
    assert _stored(world.portal, sha).content_type == "image/png"
    text = b"not a photo at all, just words " * 4
    bad = hashlib.sha256(text).hexdigest()
    response = _put(world.portal, world.auth["officer1"], bad, text, 0, len(text))
    assert response.status_code == 415 and response.json()["error"]["code"] == "unsupported_media"
    assert _stored(world.portal, bad) is None


def test_photo_declared_wrong_in_visit_is_checked_by_bytes(world: World) -> None:
    """A PNG renamed .jpg is stored as PNG (type comes from the bytes, not the name)."""
    png = png_bytes(size=(20, 21))
    sha = hashlib.sha256(png).hexdigest()
    response = world.portal.call("PUT", f"/blobs/{sha}", headers={**world.auth["officer1"], "Content-Range": f"bytes 0-{len(png) - 1}/{len(png)}", "Content-Type": "image/jpeg"}, content=png)
    assert response.status_code == 201
    assert world.portal.call("GET", f"/blobs/{sha}", headers=world.auth["officer1"]).headers["content-type"] == "image/png"


def test_size_limits_are_413(world: World) -> None:
    """A blob over max_blob_bytes, or a chunk over chunk_bytes, answers 413 and stores nothing."""
    settings = world.portal.settings
    sha = hashlib.sha256(uuid.uuid4().bytes).hexdigest()
    huge = _put(world.portal, world.auth["officer1"], sha, jpeg_bytes(), 0, settings.max_blob_bytes + 1)
    assert huge.status_code == 413 and huge.json()["error"]["code"] == "payload_too_large"
    chunk = b"\xff\xd8\xff" + b"\0" * settings.chunk_bytes
    big = _put(world.portal, world.auth["officer1"], sha, chunk, 0, len(chunk) + 10)
    assert big.status_code == 413 and big.json()["error"]["code"] == "payload_too_large"
    assert _stored(world.portal, sha) is None


def test_complete_blob_dedupes_once_the_bytes_are_proven(world: World) -> None:
    """A complete blob answers 201 at once to a chunk that proves its bytes; a short matching start uploads on."""
    data = _unique_jpeg()
    sha = hashlib.sha256(data).hexdigest()
    assert _put(world.portal, world.auth["officer1"], sha, data, 0, len(data)).status_code == 201
    again = _put(world.portal, world.auth["officer2"], sha, data, 0, len(data))
    assert again.status_code == 201 and again.json() == {"state": "complete"}
    short = _put(world.portal, world.auth["lead_a"], sha, data[:10], 0, len(data))
    assert short.status_code == 200 and short.json() == {"offset": 10}
    assert _put(world.portal, world.auth["lead_a"], sha, data[10:], 10, len(data)).status_code == 201


@pytest.mark.parametrize("name", ["abc", "A" * 64, "g" * 64, "0" * 63, "0" * 65, "..%2F" + "0" * 60])
def test_names_not_64_lowercase_hex_are_404(world: World, name: str) -> None:
    """Every blob address with a name that is not 64 lowercase hex answers 404."""
    headers = world.auth["officer1"]
    for method, path in (("GET", f"/blobs/{name}"), ("GET", f"/blobs/{name}/upload"), ("PUT", f"/blobs/{name}")):
        response = world.portal.call(method, path, headers={**headers, "Content-Range": "bytes 0-2/3"}, content=b"\xff\xd8\xff" if method == "PUT" else None)
        assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"


def test_missing_refuses_bad_hashes(world: World) -> None:
    """POST /blobs/missing with a malformed hash answers 422 naming it."""
    response = world.portal.call("POST", "/blobs/missing", headers=world.auth["officer1"], json={"hashes": ["zz"]})
    assert response.status_code == 422 and "hashes.0" in response.json()["error"]["details"]["fields"]


def test_bad_content_range_is_invalid_request(world: World) -> None:
    """A missing or malformed Content-Range, or a body of another length, answers 422 invalid_request."""
    sha = hashlib.sha256(uuid.uuid4().bytes).hexdigest()
    headers = world.auth["officer1"]
    for extra in ({}, {"Content-Range": "bytes=0-2"}, {"Content-Range": "bytes 0-9/10"}):
        response = world.portal.call("PUT", f"/blobs/{sha}", headers={**headers, **extra}, content=b"\xff\xd8\xff")
        assert response.status_code == 422 and response.json()["error"]["code"] == "invalid_request"
    assert _stored(world.portal, sha) is None


def test_download_only_in_scope(world: World) -> None:
    """A blob is downloadable by its uploader, by who sees a referencing visit, and by nobody else (404)."""
    data = _unique_jpeg()
    sha = hashlib.sha256(data).hexdigest()
    _put(world.portal, world.auth["officer1"], sha, data, 0, len(data))
    for who in ("officer2", "lead_a", "officer_b", "lead_b"):
        assert world.portal.call("GET", f"/blobs/{sha}", headers=world.auth[who]).status_code == 404
    photo = {"id": str(uuid.uuid4()), "sha256": sha, "content_type": "image/jpeg", "bytes": len(data), "width": 80, "height": 60, "caption": ""}
    [result] = world.portal.push(world.auth["officer1"], [world.visit_op("officer1", "case1", photos=[photo])])
    assert result["status"] == "applied"
    assert world.portal.call("GET", f"/blobs/{sha}", headers=world.auth["lead_a"]).content == data
    for who in ("officer2", "officer_b", "lead_b"):
        response = world.portal.call("GET", f"/blobs/{sha}", headers=world.auth[who])
        assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
    assert world.portal.call("GET", f"/blobs/{sha}", headers=world.portal.admin).status_code == 200


def test_concurrent_chunks_never_interleave(pg_portal: Portal, world: World) -> None:
    """Two callers racing the same blob each keep their own upload; both complete, the blob is whole."""
    import threading

    data = _unique_jpeg() * 3
    sha = hashlib.sha256(data).hexdigest()
    size = 200
    statuses: list[int] = []

    def device(who: str) -> None:
        offset = 0
        while offset < len(data):
            response = _put(pg_portal, world.auth[who], sha, data[offset:offset + size], offset, len(data))
            statuses.append(response.status_code)
            if response.status_code == 409:
                offset = response.json()["error"]["details"]["offset"]
            elif response.status_code == 201:
                return
            else:
                offset = response.json()["offset"]

    threads = [threading.Thread(target=device, args=(who,)) for who in ("officer1", "officer2")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert set(statuses) <= {200, 201, 409}
    assert pg_portal.call("GET", f"/blobs/{sha}", headers=world.auth["officer1"]).content == data


def test_abandoned_partial_uploads_are_discarded(world: World) -> None:
    """A partial upload untouched past partial_blob_days is removed with its bytes; a fresh one stays."""
    from datetime import timedelta

    from sqlalchemy import update

    from portal.blobstore import FileBlobStore
    from portal.services.blobs import discard_stale_partials

    old, fresh = _unique_jpeg(), _unique_jpeg()
    old_sha, fresh_sha = hashlib.sha256(old).hexdigest(), hashlib.sha256(fresh).hexdigest()
    _put(world.portal, world.auth["officer1"], old_sha, old[:40], 0, len(old))
    _put(world.portal, world.auth["officer1"], fresh_sha, fresh[:40], 0, len(fresh))
    with world.portal.db.plain() as session:
        session.execute(update(BlobPartialRow).where(BlobPartialRow.sha256 == old_sha).values(updated_at=BlobPartialRow.updated_at - timedelta(days=8)))
    store = FileBlobStore(world.portal.settings.blob_dir)
    with world.portal.db.plain() as session:
        assert discard_stale_partials(session, store, 7) >= 1
    assert _partial(world.portal, old_sha, world.ids["officer1"]) is None
    assert not list(world.portal.settings.blob_dir.rglob(f"{old_sha}*"))
    assert _partial(world.portal, fresh_sha, world.ids["officer1"]).offset == 40
