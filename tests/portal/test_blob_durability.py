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
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from PIL import Image

from portal.blobstore import FileBlobStore
from portal.server import free_port, wait_healthy

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


def test_completing_uses_the_hash_kept_while_writing_or_the_file(tmp_path: Path) -> None:
    """The digest of a partial is right whether this process saw every chunk or not (a restart)."""
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


class Served:
    """``fieldapp-portal serve`` in its own process on one database and blob folder."""

    def __init__(self, root: Path) -> None:
        self.env = {**os.environ, "FIELDAPP_PORTAL_KDF_N": "16"}
        self.db = f"sqlite:///{root / 'portal.db'}"
        self.blobs = root / "blobs"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/api/v1"
        self.process: subprocess.Popen[bytes] | None = None
        subprocess.run([sys.executable, "-m", "portal.cli", "add-user", "--database-url", self.db, "--username", "kim",
                        "--role", "officer", "--team", "North", "--password-stdin"],
                       input=b"durable photo passphrase\n", env=self.env, check=True, capture_output=True)

    def start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "portal.cli", "serve", "--database-url", self.db, "--blob-dir", str(self.blobs),
             "--port", str(self.port), "--chunk-size", "64KiB"],
            env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        process = self.process
        wait_healthy(self.url, lambda: process.poll() is None)

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(30)

    def sign_in(self) -> dict[str, str]:
        answer = requests.post(f"{self.url}/auth/login", timeout=30, json={
            "username": "kim", "password": "durable photo passphrase", "device_id": "durability-test"})
        return {"Authorization": f"Bearer {answer.json()['token']}"}

    def put(self, auth: dict[str, str], sha: str, data: bytes, start: int) -> requests.Response:
        body = data[start:start + CHUNK]
        return requests.put(f"{self.url}/blobs/{sha}", data=body, timeout=30, headers={
            **auth, "Content-Range": f"bytes {start}-{start + len(body) - 1}/{len(data)}",
            "Content-Type": "application/octet-stream"})


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    portal = Served(tmp_path)
    try:
        yield portal
    finally:
        if portal.process is not None and portal.process.poll() is None:
            portal.kill()


@pytest.mark.slow
def test_confirmed_offset_and_photo_survive_kill_9_of_the_server(served: Served) -> None:
    """After kill -9 the portal reports the offset it confirmed, the upload resumes there, a finished photo stays."""
    served.start()
    assert requests.get(f"{served.url}/sync/meta", headers=served.sign_in(), timeout=30).json()["chunk_bytes"] == CHUNK
    auth = served.sign_in()
    cut, whole = _photo(1), _photo(2)
    assert len(cut) > 2 * CHUNK and len(whole) > 2 * CHUNK
    cut_sha, whole_sha = hashlib.sha256(cut).hexdigest(), hashlib.sha256(whole).hexdigest()
    for start in range(0, len(whole), CHUNK):
        assert served.put(auth, whole_sha, whole, start).status_code in (200, 201)
    first, second = served.put(auth, cut_sha, cut, 0), served.put(auth, cut_sha, cut, CHUNK)
    assert first.json() == {"offset": CHUNK} and second.json() == {"offset": 2 * CHUNK}
    served.kill()

    served.start()
    auth = served.sign_in()
    state = requests.get(f"{served.url}/blobs/{cut_sha}/upload", headers=auth, timeout=30).json()
    assert state == {"state": "partial", "offset": 2 * CHUNK}
    answers = [served.put(auth, cut_sha, cut, start).status_code for start in range(2 * CHUNK, len(cut), CHUNK)]
    assert answers[-1] == 201 and set(answers[:-1]) <= {200}
    for sha, data in ((cut_sha, cut), (whole_sha, whole)):
        assert requests.get(f"{served.url}/blobs/{sha}", headers=auth, timeout=30).content == data
