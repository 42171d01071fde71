"""Revision 2 blob rules: possession, per-caller uploads, the Pillow check, the upload quota, housekeeping."""

from __future__ import annotations

import hashlib
import io
import struct
import uuid
import zlib
from datetime import timedelta

from PIL import Image
from sqlalchemy import update

from portal.blobstore import FileBlobStore
from portal.models import BlobPartialRow, BlobRow, BlobUploaderRow
from portal.services import housekeeping
from portal.services.sequence import utcnow
from tests.portal.conftest import World, jpeg_bytes


def _put(world: World, who: str, sha: str, data: bytes, start: int, total: int) -> object:
    end = start + len(data) - 1
    headers = {**world.auth[who], "Content-Range": f"bytes {start}-{end}/{total}", "Content-Type": "application/octet-stream"}
    return world.portal.call("PUT", f"/blobs/{sha}", headers=headers, content=data)


def _upload(world: World, who: str, data: bytes) -> str:
    sha = hashlib.sha256(data).hexdigest()
    response = _put(world, who, sha, data, 0, len(data))
    assert response.status_code == 201, response.text
    return sha


def _photo(sha: str, data: bytes, size: tuple[int, int] = (80, 60)) -> dict:
    return {"id": str(uuid.uuid4()), "sha256": sha, "content_type": "image/jpeg", "bytes": len(data), "width": size[0], "height": size[1], "caption": ""}


def _jpeg() -> bytes:
    return jpeg_bytes(size=(80, 60), colour=tuple(uuid.uuid4().bytes[:3]))  # type: ignore[arg-type]


def test_a_visit_may_reference_only_a_blob_the_caller_holds(any_world: World) -> None:
    """officer2 knowing officer1's hash cannot reference it (blob_missing) nor download it; officer1 can."""
    data = _jpeg()
    sha = _upload(any_world, "officer1", data)
    any_world.case("case2", "officer2")
    [stolen] = any_world.portal.push(any_world.auth["officer2"], [any_world.visit_op("officer2", "case2", photos=[_photo(sha, data)])])
    assert stolen["status"] == "rejected" and stolen["error"]["code"] == "blob_missing" and stolen["error"]["details"]["hashes"] == [sha]
    assert any_world.portal.call("GET", f"/blobs/{sha}", headers=any_world.auth["officer2"]).status_code == 404
    [own] = any_world.portal.push(any_world.auth["officer1"], [any_world.visit_op("officer1", "case1", photos=[_photo(sha, data)])])
    assert own["status"] == "applied"


def test_a_lead_who_sees_the_visit_may_reference_its_blob(any_world: World) -> None:
    """A lead seeing a team visit that references a blob may reference it in their own visit (an amendment)."""
    data = _jpeg()
    sha = _upload(any_world, "officer1", data)
    first = any_world.visit_op("officer1", "case1", photos=[_photo(sha, data)])
    assert any_world.portal.push(any_world.auth["officer1"], [first])[0]["status"] == "applied"
    assert any_world.portal.call("POST", "/blobs/missing", headers=any_world.auth["lead_a"], json={"hashes": [sha]}).json() == {"missing": []}
    any_world.case("lead_case", "lead_a")
    amendment = any_world.visit_op("lead_a", "lead_case", photos=[_photo(sha, data)])
    assert any_world.portal.push(any_world.auth["lead_a"], [amendment])[0]["status"] == "applied"


def test_missing_and_upload_state_do_not_leak_others_blobs(any_world: World) -> None:
    """To a caller who never uploaded it, a complete blob of someone else is missing and absent."""
    data = _jpeg()
    sha = _upload(any_world, "officer1", data)
    headers = any_world.auth["officer_b"]
    assert any_world.portal.call("POST", "/blobs/missing", headers=headers, json={"hashes": [sha]}).json() == {"missing": [sha]}
    assert any_world.portal.call("GET", f"/blobs/{sha}/upload", headers=headers).json() == {"state": "absent", "offset": 0}
    mine = any_world.auth["officer1"]
    assert any_world.portal.call("POST", "/blobs/missing", headers=mine, json={"hashes": [sha]}).json() == {"missing": []}
    assert any_world.portal.call("GET", f"/blobs/{sha}/upload", headers=mine).json() == {"state": "complete", "offset": len(data)}


def test_put_to_a_complete_blob_must_match_its_bytes(any_world: World) -> None:
    """Equal bytes answer 201 and make the caller an uploader; other bytes of the same size are 422 hash_mismatch."""
    data = _jpeg()
    sha = _upload(any_world, "officer1", data)
    forged = data[:-2] + bytes([data[-2] ^ 1, data[-1]])
    refused = _put(any_world, "officer_b", sha, forged, 0, len(forged))
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "hash_mismatch"
    assert _put(any_world, "officer_b", sha, data, 0, len(data)).status_code == 201
    with any_world.portal.db.plain() as session:
        assert session.get(BlobUploaderRow, (sha, any_world.ids["officer_b"])) is not None


def test_another_callers_put_starts_their_own_upload(any_world: World) -> None:
    """officer2's PUT at offset 0 of officer1's partial never touches it; officer1 resumes where they were."""
    data = _jpeg()
    sha = hashlib.sha256(data).hexdigest()
    assert _put(any_world, "officer1", sha, data[:100], 0, len(data)).json() == {"offset": 100}
    spoiler = _put(any_world, "officer2", sha, b"\xff\xd8\xff" + b"x" * 47, 0, len(data))
    assert spoiler.status_code == 200 and spoiler.json() == {"offset": 50}
    later = _put(any_world, "officer2", sha, data[50:60], 100, len(data))
    assert later.status_code == 409 and later.json()["error"]["details"]["offset"] == 50
    assert any_world.portal.call("GET", f"/blobs/{sha}/upload", headers=any_world.auth["officer1"]).json() == {"state": "partial", "offset": 100}
    assert _put(any_world, "officer1", sha, data[100:], 100, len(data)).status_code == 201
    assert any_world.portal.call("GET", f"/blobs/{sha}", headers=any_world.auth["officer1"]).content == data


def _png_claiming(width: int, height: int) -> bytes:
    """A PNG whose header claims ``width`` x ``height`` but whose data holds almost nothing."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def test_uploads_are_decoded_before_they_complete(any_world: World) -> None:
    """HTML behind a JPEG prefix, a truncated JPEG and a 20000x20000 PNG are refused and leave nothing stored."""
    whole = jpeg_bytes(size=(400, 300))
    cases = {
        "html": (b"\xff\xd8\xff\xe0" + b"<html><script>alert(1)</script></html>" * 10, 415),
        "truncated": (whole[: len(whole) // 2], 415),
        "bomb": (_png_claiming(20000, 20000), 422),
    }
    for name, (data, status) in cases.items():
        sha = hashlib.sha256(data).hexdigest()
        response = _put(any_world, "officer1", sha, data, 0, len(data))
        assert response.status_code == status, (name, response.text)
        assert response.json()["error"]["code"] == ("unsupported_media" if status == 415 else "image_too_large")
        assert "laptop" in response.json()["error"]["message"]
        with any_world.portal.db.plain() as session:
            assert session.get(BlobRow, sha) is None and session.get(BlobPartialRow, (sha, any_world.ids["officer1"])) is None
        assert not list(any_world.portal.settings.blob_dir.rglob(f"{sha}*"))


def test_unfinished_uploads_are_limited_per_user(any_world: World) -> None:
    """30 partial uploads under invented hashes in a burst: past the quota they are refused 429 with a message."""
    statuses = []
    for _ in range(30):
        sha = hashlib.sha256(uuid.uuid4().bytes).hexdigest()
        statuses.append(_put(any_world, "officer2", sha, b"\xff\xd8\xff" + b"\0" * 7, 0, 1000))
    quota = any_world.portal.settings.max_partial_uploads
    assert [r.status_code for r in statuses[:quota]] == [200] * quota
    refused = statuses[quota]
    assert refused.status_code == 429 and refused.json()["error"]["code"] == "too_many_uploads"
    assert "unfinished" in refused.json()["error"]["message"] and refused.headers["Retry-After"]
    with any_world.portal.db.plain() as session:
        session.execute(update(BlobPartialRow).where(BlobPartialRow.user_id == any_world.ids["officer2"])
                        .values(updated_at=utcnow() - timedelta(hours=1)))
    # Once the old ones are idle, a new upload makes room by dropping the stalest.
    data = _jpeg()
    assert _upload(any_world, "officer2", data)


def test_housekeeping_removes_only_stale_and_unreferenced(any_world: World) -> None:
    """Old unreferenced blobs and stale partials go; referenced ones and fresh uploads stay, bytes included."""
    portal = any_world.portal
    referenced, orphan, fresh = _jpeg(), _jpeg(), _jpeg()
    ref_sha, orphan_sha, fresh_sha = (_upload(any_world, "officer1", d) for d in (referenced, orphan, fresh))
    assert portal.push(any_world.auth["officer1"], [any_world.visit_op("officer1", "case1", photos=[_photo(ref_sha, referenced)])])[0]["status"] == "applied"
    stale = hashlib.sha256(uuid.uuid4().bytes).hexdigest()
    _put(any_world, "officer1", stale, b"\xff\xd8\xff" + b"\0" * 7, 0, 1000)
    days = portal.settings.unreferenced_blob_days + 1
    with portal.db.plain() as session:
        session.execute(update(BlobRow).where(BlobRow.sha256.in_([ref_sha, orphan_sha])).values(updated_at=utcnow() - timedelta(days=days)))
        session.execute(update(BlobPartialRow).where(BlobPartialRow.sha256 == stale).values(updated_at=utcnow() - timedelta(days=days)))
    store = FileBlobStore(portal.settings.blob_dir)
    report = housekeeping.run(portal.db, store, portal.settings)
    assert report.unreferenced_blobs >= 1 and report.partial_uploads >= 1
    with portal.db.plain() as session:
        assert session.get(BlobRow, orphan_sha) is None and session.get(BlobPartialRow, (stale, any_world.ids["officer1"])) is None
        assert session.get(BlobRow, ref_sha) is not None and session.get(BlobRow, fresh_sha) is not None
    assert not store.exists(orphan_sha) and store.exists(ref_sha) and store.exists(fresh_sha)
    assert portal.call("GET", f"/blobs/{ref_sha}", headers=any_world.auth["lead_a"]).content == referenced
    assert Image.open(io.BytesIO(fresh)).size == (80, 60)
