"""Photo import in two steps: prepare (no database; files staged) and attach (a short transaction), or discard."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from fieldapp import visit_photos
from fieldapp.errors import PhotoError, VisitLockedError
from fieldapp.photo_files import photo_path, thumbnail_path
from fieldapp.photos import prepare
from store_helpers import Filled, make_jpeg


def _files(filled: Filled) -> list[Path]:
    return sorted(p for p in filled.store.photos_dir.rglob("*") if p.is_file())


def test_core_prepare_only_computes(filled: Filled, tmp_path: Path) -> None:
    """fieldapp.photos.prepare encodes and hashes in memory and writes no file anywhere."""
    source = make_jpeg(tmp_path / "wall.jpg", 3)
    before = sorted(tmp_path.rglob("*"))
    prepared = prepare(source)
    assert sorted(tmp_path.rglob("*")) == before
    assert prepared.data[:3] == b"\xff\xd8\xff" and len(prepared.sha256) == 64 and prepared.thumbnail


def test_prepare_stages_files_and_attach_adds_the_row(filled: Filled, tmp_path: Path) -> None:
    """prepare_photo stores the files and touches no visit; attaching adds it to the visit as it was stored."""
    visit = filled.draft()
    prepared = filled.store.prepare_photo(make_jpeg(tmp_path / "wall.jpg", 3))
    assert filled.store.visit(visit.id).photos == ()
    photo = filled.store.attach_photo(visit.id, prepared, caption="Wall")
    assert (photo.sha256, photo.bytes, photo.caption) == (prepared.sha256, prepared.size, "Wall")
    assert photo.path == photo_path(filled.store.photos_dir, prepared.sha256, prepared.content_type)
    assert photo.path.read_bytes() == prepared.data
    assert thumbnail_path(filled.store.photos_dir, prepared.sha256).read_bytes() == prepared.thumbnail
    assert [p.id for p in filled.store.visit(visit.id).photos] == [photo.id]


def test_add_photo_is_prepare_then_attach(filled: Filled, tmp_path: Path) -> None:
    """add_photo stores exactly what prepare and attach store."""
    source = make_jpeg(tmp_path / "a.jpg", 4)
    added = filled.store.add_photo(filled.draft().id, source)
    prepared = filled.store.prepare_photo(source)
    assert (added.sha256, added.bytes, added.width, added.height) == (
        prepared.sha256, prepared.size, prepared.width, prepared.height)


def test_discarded_photo_leaves_no_file_but_a_shared_one_stays(filled: Filled, tmp_path: Path) -> None:
    """Discarding a prepared photo (a cancelled import) removes its files, unless an attached photo uses them."""
    source = make_jpeg(tmp_path / "a.jpg", 8)
    filled.store.discard_prepared(filled.store.prepare_photo(make_jpeg(tmp_path / "b.jpg", 9)))
    assert _files(filled) == []
    kept = filled.store.add_photo(filled.draft().id, source)
    filled.store.discard_prepared(filled.store.prepare_photo(source))
    assert kept.path is not None and kept.path.exists()


def test_files_removed_before_attach_are_written_again(filled: Filled, tmp_path: Path) -> None:
    """If the staged files vanish before the attach (a removal of the same content), attach writes them again."""
    prepared = filled.store.prepare_photo(make_jpeg(tmp_path / "a.jpg", 10))
    for path in _files(filled):
        path.unlink()
    photo = filled.store.attach_photo(filled.draft().id, prepared)
    assert photo.path is not None and photo.path.read_bytes() == prepared.data
    assert thumbnail_path(filled.store.photos_dir, prepared.sha256).exists()


def test_attach_to_a_submitted_visit_is_refused_and_leaves_no_file(filled: Filled, tmp_path: Path) -> None:
    """A photo prepared while its visit was submitted is refused, and nothing is left on disk."""
    visit = filled.complete()
    prepared = filled.store.prepare_photo(make_jpeg(tmp_path / "late.jpg", 5))
    filled.store.submit_visit(visit.id)
    with pytest.raises(VisitLockedError):
        filled.store.attach_photo(visit.id, prepared)
    assert _files(filled) == []


def test_failed_attach_removes_its_files_but_keeps_shared_ones(filled: Filled, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """When the row cannot be added, the files just written go; a file another photo uses stays."""
    source = make_jpeg(tmp_path / "a.jpg", 6)
    kept = filled.store.add_photo(filled.draft().id, source)
    other = filled.store.prepare_photo(make_jpeg(tmp_path / "b.jpg", 7))
    same = filled.store.prepare_photo(source)

    def broken(*_args: Any, **_kwargs: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(visit_photos, "add", broken)
    draft = filled.draft()
    for prepared in (other, same):
        with pytest.raises(OSError):
            filled.store.attach_photo(draft.id, prepared)
    assert not photo_path(filled.store.photos_dir, other.sha256, other.content_type).exists()
    assert not thumbnail_path(filled.store.photos_dir, other.sha256).exists()
    assert kept.path is not None and kept.path.exists()
    assert filled.store.visit(draft.id).photos == ()


def test_prepare_refuses_a_bad_file_by_name(filled: Filled, tmp_path: Path) -> None:
    """Preparing keeps every refusal of the import: a renamed text file is named and nothing is written."""
    bad = tmp_path / "notes.jpg"
    bad.write_text("not a photo")
    with pytest.raises(PhotoError, match="notes.jpg"):
        filled.store.prepare_photo(bad)
    assert _files(filled) == []


def test_orphans_of_an_import_cut_short_are_removed_once_old(filled: Filled, tmp_path: Path) -> None:
    """Staged files never attached (a crash) and stray temporary files go once old; used and fresh files stay."""
    import os
    import time

    kept = filled.store.add_photo(filled.draft().id, make_jpeg(tmp_path / "kept.jpg", 11))
    orphan = filled.store.prepare_photo(make_jpeg(tmp_path / "orphan.jpg", 12))
    fresh = filled.store.prepare_photo(make_jpeg(tmp_path / "fresh.jpg", 13))
    stray = filled.store.photos_dir / orphan.sha256[:2] / ".tmp-abc123.jpg"
    stray.write_bytes(b"half a photo")
    old = time.time() - 7200
    for path in _files(filled):
        if fresh.sha256 not in path.name:
            os.utime(path, (old, old))
    assert filled.store.remove_orphan_photos() == 3  # the orphan, its thumbnail, the temporary file
    left = {p.name for p in _files(filled)}
    assert left == {f"{kept.sha256}.jpg", f"{fresh.sha256}.jpg"}
    assert kept.path is not None and kept.path.exists() and kept.thumbnail_path.exists()
