"""The temporary parts of a photo being encoded stay in the store's data folder and are swept when it opens."""

from __future__ import annotations

import io
import os
import sys
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
import photo_samples as samples  # noqa: E402

from fieldapp import FieldStore  # noqa: E402
from fieldapp.photo_files import scratch_dir, stored_files  # noqa: E402
from fieldapp.photos import prepare  # noqa: E402
from store_helpers import Filled  # noqa: E402

HASH = "ab" + "0" * 62


def where_saved(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """The folders of the real files Pillow encodes into from now on, as the system names them (Linux's /proc)."""
    if not Path("/proc/self/fd").is_dir():
        pytest.skip("needs /proc/self/fd to see where an open file lives")
    folders: list[Path] = []
    save = Image.Image.save

    def spying(self: Image.Image, fp: Any, *args: Any, **kwargs: Any) -> None:
        if not isinstance(fp, io.BytesIO):
            # An unnamed (O_TMPFILE) or unlinked file reads "<folder>/#123 (deleted)": its folder is what counts.
            folders.append(Path(os.readlink(f"/proc/self/fd/{fp.fileno()}")).parent)
        save(self, fp, *args, **kwargs)

    monkeypatch.setattr(Image.Image, "save", spying)
    return folders


@pytest.mark.parametrize("unnamed", [True, False], ids=["o_tmpfile", "named"])
def test_encode_parts_live_in_the_stores_scratch_folder(filled: Filled, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                        unnamed: bool) -> None:
    """Both halves of an imported photo are encoded into files inside the store's photo folder, never the system's temp."""
    source = samples.save_photo(tmp_path / "camera.jpg", (1600, 1200))
    system_temp = tmp_path / "system-temp"
    system_temp.mkdir()
    monkeypatch.setattr("tempfile.tempdir", str(system_temp))  # where they once went
    if not unnamed:  # as on systems without O_TMPFILE: a named file, unlinked at once
        monkeypatch.setattr("tempfile._O_TMPFILE_WORKS", False)
    folders = where_saved(monkeypatch)
    filled.store.prepare_photo(source)
    assert len(folders) == 2  # the top half and the bottom half (the thumbnail is made in memory)
    assert set(folders) == {scratch_dir(filled.store.photos_dir)}
    assert list(scratch_dir(filled.store.photos_dir).iterdir()) == []  # nothing left once encoded


def test_leftover_parts_are_swept_when_the_store_opens_and_never_taken_for_photos(tmp_path: Path) -> None:
    """What a power cut left mid-encode is deleted at the next open; the photos beside it stay, and no part is a photo."""
    data = tmp_path / "data"
    FieldStore.open(data).close()
    photos = data / "photos"
    scratch = scratch_dir(photos)
    scratch.mkdir(exist_ok=True)
    leftovers = [scratch / "encoding-k3j2.part", scratch / f"{HASH}.part"]
    for leftover in leftovers:
        leftover.write_bytes(b"\xff\xd8\xff half of a resident's photo")
    kept = photos / HASH[:2] / f"{HASH}.jpg"
    kept.parent.mkdir()
    kept.write_bytes(b"\xff\xd8\xff a stored photo")
    assert [path for path, _ in stored_files(photos)] == [kept]  # the parts are never listed as photos
    FieldStore.open(data).close()
    assert list(scratch.iterdir()) == []
    assert kept.read_bytes() == b"\xff\xd8\xff a stored photo"


def test_without_a_scratch_folder_the_photo_is_encoded_in_memory_to_the_same_bytes(tmp_path: Path) -> None:
    """No scratch folder (or one that cannot be written): the same JPEG, encoded in memory."""
    source = samples.save_photo(tmp_path / "camera.jpg", (1600, 1200))
    in_scratch = prepare(source, scratch=tmp_path / "scratch")
    assert prepare(source).data == in_scratch.data
    blocked = tmp_path / "blocked"
    blocked.write_bytes(b"")  # a file where the folder should be: it cannot be made
    assert prepare(source, scratch=blocked / "scratch").data == in_scratch.data
