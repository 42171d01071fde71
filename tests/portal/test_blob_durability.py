"""The blob store's durability promise: what an answer confirms is on disk before the answer goes.

A power cut cannot be simulated here; what can be checked is that every confirming
write syncs the file's bytes (and, for a new or renamed file, its folder) before it
returns, and that a confirmed offset and a confirmed photo survive ``kill -9`` of
``fieldapp-portal serve`` (started with ``--chunk-size``, so an upload takes several PUTs).
"""

from __future__ import annotations

import hashlib
import io
import os
import random
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from PIL import Image

from portal.blobstore import FileBlobStore
from tests.portal.killable import KillablePortal

CHUNK = 64 * 1024


def _photo(seed: int) -> bytes:
    """A JPEG of ~250 KB (noise does not compress), so it takes several 64 KiB chunks."""
    rng = random.Random(seed)
    image = Image.frombytes("RGB", (640, 480), rng.randbytes(640 * 480 * 3))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


@pytest.fixture
def synced(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The paths synced through os.fsync / os.fdatasync, in order."""
    calls: list[str] = []
    for name in ("fsync", "fdatasync"):
        real = getattr(os, name)

        def record(fd: int, real: object = real) -> None:
            calls.append(os.readlink(f"/proc/self/fd/{fd}"))
            real(fd)  # type: ignore[operator]

        monkeypatch.setattr(os, name, record)
    return calls


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="names synced files through /proc")
def test_every_confirming_write_is_synced_with_its_folder(tmp_path: Path, synced: list[str]) -> None:
    """A chunk syncs its file (and the partial folder when it created the file); a whole blob its file and folder."""
    store = FileBlobStore(tmp_path)
    sha, owner = "ab" * 32, "user-1"
    partial = tmp_path / "partial" / f"{sha}.{owner}.part"
    store.write_chunk(sha, owner, 0, b"x" * 100)
    assert synced == [str(partial), str(tmp_path / "partial")]
    synced.clear()
    store.write_chunk(sha, owner, 100, b"y" * 100)
    assert synced == [str(partial)]  # an existing file: its folder entry is already durable
    synced.clear()
    store.promote(sha, owner)
    assert synced == [str(tmp_path / "ab")]  # the rename
    synced.clear()
    whole = "cd" * 32
    store.store_whole(whole, b"z" * 50)
    assert len(synced) == 2 and synced[0].startswith(str(tmp_path / "cd" / whole)) and synced[0].endswith(".tmp")
    assert synced[1] == str(tmp_path / "cd")
    assert (tmp_path / "cd" / f"{whole}.bin").read_bytes() == b"z" * 50
    assert not list((tmp_path / "cd").glob("*.tmp"))


def test_the_digest_of_a_partial_is_of_the_bytes_on_disk(tmp_path: Path) -> None:
    """Right whether this process saw every chunk or not (a restart, another portal process)."""
    data = os.urandom(3000)
    sha, owner = hashlib.sha256(data).hexdigest(), "user-1"
    store = FileBlobStore(tmp_path)
    store.write_chunk(sha, owner, 0, data[:1000])
    store.write_chunk(sha, owner, 1000, data[1000:])
    assert store.partial_digest(sha, owner) == sha
    restarted = FileBlobStore(tmp_path)
    restarted.write_chunk(sha, owner, 2000, data[2000:])  # earlier chunks unseen by this process
    assert restarted.partial_digest(sha, owner) == sha
    store.write_chunk(sha, owner, 1000, b"\0" * 2000)  # a resend from an older offset cuts the rest
    assert store.partial_digest(sha, owner) == hashlib.sha256(data[:1000] + b"\0" * 2000).hexdigest()



def test_an_upload_restarted_by_another_process_is_hashed_as_it_now_is(tmp_path: Path) -> None:
    """Process A saw the first chunk; B discarded the upload and restarted it with other bytes.

    A's next chunk continues B's file: the digest must be of B's bytes, or a corrupt
    first chunk would be taken for the photo whose hash names it.
    """
    data = os.urandom(3000)
    sha, owner = hashlib.sha256(data).hexdigest(), "user-1"
    process_a, process_b = FileBlobStore(tmp_path), FileBlobStore(tmp_path)
    process_a.write_chunk(sha, owner, 0, data[:1000])
    process_b.discard(sha, owner)
    corrupt_first = bytes(b ^ 0xFF for b in data[:1000])
    process_b.write_chunk(sha, owner, 0, corrupt_first)
    process_a.write_chunk(sha, owner, 1000, data[1000:])
    assert process_a.partial_digest(sha, owner) == hashlib.sha256(corrupt_first + data[1000:]).hexdigest() != sha

PASSPHRASE = "durable photo passphrase"


def _put(portal: KillablePortal, auth: dict[str, str], sha: str, data: bytes, start: int) -> requests.Response:
    body = data[start:start + CHUNK]
    return requests.put(f"{portal.url}/blobs/{sha}", data=body, timeout=30, headers={
        **auth, "Content-Range": f"bytes {start}-{start + len(body) - 1}/{len(data)}",
        "Content-Type": "application/octet-stream"})


@pytest.fixture
def served(tmp_path: Path) -> Iterator[KillablePortal]:
    with KillablePortal(f"sqlite:///{tmp_path / 'portal.db'}", tmp_path / "blobs", "--chunk-size", "64KiB") as portal:
        portal.add_user("kim", PASSPHRASE, "--role", "officer", "--team", "North")
        yield portal


@pytest.mark.slow
def test_confirmed_offset_and_photo_survive_kill_9_of_the_server(served: KillablePortal) -> None:
    """After kill -9 the portal reports the offset it confirmed, the upload resumes there, a finished photo stays."""
    served.start()
    assert requests.get(f"{served.url}/sync/meta", headers=served.sign_in("kim", PASSPHRASE, "durability-test"), timeout=30).json()["chunk_bytes"] == CHUNK
    auth = served.sign_in("kim", PASSPHRASE, "durability-test")
    cut, whole = _photo(1), _photo(2)
    assert len(cut) > 2 * CHUNK and len(whole) > 2 * CHUNK
    cut_sha, whole_sha = hashlib.sha256(cut).hexdigest(), hashlib.sha256(whole).hexdigest()
    for start in range(0, len(whole), CHUNK):
        assert _put(served, auth, whole_sha, whole, start).status_code in (200, 201)
    first, second = _put(served, auth, cut_sha, cut, 0), _put(served, auth, cut_sha, cut, CHUNK)
    assert first.json() == {"offset": CHUNK} and second.json() == {"offset": 2 * CHUNK}
    served.kill()

    served.start()
    auth = served.sign_in("kim", PASSPHRASE, "durability-test")
    state = requests.get(f"{served.url}/blobs/{cut_sha}/upload", headers=auth, timeout=30).json()
    assert state == {"state": "partial", "offset": 2 * CHUNK}
    answers = [_put(served, auth, cut_sha, cut, start).status_code for start in range(2 * CHUNK, len(cut), CHUNK)]
    assert answers[-1] == 201 and set(answers[:-1]) <= {200}
    for sha, data in ((cut_sha, cut), (whole_sha, whole)):
        assert requests.get(f"{served.url}/blobs/{sha}", headers=auth, timeout=30).content == data


def test_sqlite_portal_commits_survive_a_power_cut(tmp_path: Path) -> None:
    """The SQLite portal syncs its log on every commit (synchronous=FULL), as PostgreSQL does by default."""
    from sqlalchemy import text

    from portal.core.db import Database

    db = Database(f"sqlite:///{tmp_path / 'portal.db'}")
    with db.engine.connect() as connection:
        assert connection.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
