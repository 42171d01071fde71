"""Writing blob bytes where neither O_DIRECT nor ``os.pwrite`` exists (Windows): every byte still lands."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from portal import directio
from portal.blobstore import FileBlobStore
from portal.directio import MIN_DIRECT, write_at


@pytest.fixture
def windows_like(monkeypatch: pytest.MonkeyPatch) -> None:
    """No O_DIRECT and no pwrite, as on Windows (os.lseek and os.write remain)."""
    monkeypatch.setattr(directio, "_direct_works", False)
    monkeypatch.delattr(os, "pwrite", raising=False)


@pytest.mark.parametrize(("offset", "size"), [(0, 100), (17, 3 * MIN_DIRECT + 5)])
def test_bytes_land_at_their_offset_without_pwrite(tmp_path: Path, windows_like: None, offset: int, size: int) -> None:
    """A write at an offset past existing bytes reads back exactly, through lseek and write."""
    before, data = os.urandom(offset), os.urandom(size)
    fd = os.open(tmp_path / "blob", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        os.write(fd, before)
        write_at(fd, offset, data)
    finally:
        os.close(fd)
    assert (tmp_path / "blob").read_bytes() == before + data


def test_a_chunked_upload_completes_without_pwrite(tmp_path: Path, windows_like: None) -> None:
    """The blob store's chunks and whole blobs are written where the OS has no pwrite."""
    store = FileBlobStore(tmp_path)
    data = os.urandom(2 * MIN_DIRECT + 3)
    store.write_chunk("a" * 64, "user-1", 0, data[:MIN_DIRECT])
    store.write_chunk("a" * 64, "user-1", MIN_DIRECT, data[MIN_DIRECT:])
    with store.open_partial("a" * 64, "user-1") as handle:
        assert handle.read() == data
    store.store_whole("b" * 64, data)
    assert b"".join(store.read("b" * 64)) == data
