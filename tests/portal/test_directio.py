"""Writing around the page cache: every byte lands where it should, the aligned middle goes direct, refusal falls back."""

from __future__ import annotations

import errno
import fcntl
import os
from pathlib import Path

import pytest

from portal import directio
from portal.directio import ALIGN, MIN_DIRECT, write_at

pytestmark = pytest.mark.skipif(not getattr(os, "O_DIRECT", 0), reason="no O_DIRECT on this OS")


@pytest.fixture
def direct_flags(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The file status flags set through fcntl, in order (the real fcntl still runs)."""
    seen: list[int] = []
    real = fcntl.fcntl

    def record(fd: int, command: int, arg: int = 0) -> int:
        if command == fcntl.F_SETFL:
            seen.append(arg)
        return real(fd, command, arg)

    monkeypatch.setattr(fcntl, "fcntl", record)
    monkeypatch.setattr(directio, "_direct_works", True)
    return seen


@pytest.mark.parametrize(("offset", "size"), [
    (0, 3 * MIN_DIRECT), (0, 3 * MIN_DIRECT + 123), (17, 3 * MIN_DIRECT), (ALIGN, 5 * MIN_DIRECT + 1),
    (0, 100), (ALIGN - 1, MIN_DIRECT + ALIGN),
])
def test_bytes_land_at_their_offset(tmp_path: Path, direct_flags: list[int], offset: int, size: int) -> None:
    """Unaligned heads and tails around aligned middles, small writes: the file reads back exactly."""
    data = os.urandom(size)
    before = os.urandom(offset)
    path = tmp_path / "blob"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        os.write(fd, before)
        write_at(fd, offset, data)
        flags_after = fcntl.fcntl(fd, fcntl.F_GETFL)
    finally:
        os.close(fd)
    assert path.read_bytes() == before + data
    assert not flags_after & os.O_DIRECT  # the descriptor is left as it was opened
    went_direct = any(flag & os.O_DIRECT for flag in direct_flags)
    assert went_direct == ((size - (-offset % ALIGN)) // ALIGN * ALIGN >= MIN_DIRECT)


def test_a_file_system_refusing_direct_writes_gets_ordinary_ones(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """EINVAL on switching to O_DIRECT: the bytes are written through the cache, and later writes do not try again."""
    monkeypatch.setattr(directio, "_direct_works", True)
    tries: list[int] = []
    real = fcntl.fcntl

    def refuse(fd: int, command: int, arg: int = 0) -> int:
        if command == fcntl.F_SETFL and arg & os.O_DIRECT:
            tries.append(arg)
            raise OSError(errno.EINVAL, "Invalid argument")
        return real(fd, command, arg)

    monkeypatch.setattr(fcntl, "fcntl", refuse)
    data = os.urandom(4 * MIN_DIRECT + 5)
    for name in ("first", "second"):
        fd = os.open(tmp_path / name, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            write_at(fd, 0, data)
        finally:
            os.close(fd)
        assert (tmp_path / name).read_bytes() == data
    assert len(tries) == 1
