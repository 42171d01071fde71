"""After sign-out the laptop's personal data can be removed, but never while anything is unsent."""

from __future__ import annotations

from pathlib import Path

import pytest

from fieldapp.db import DB_FILENAME
from fieldapp.errors import ValidationError
from store_helpers import filled_store, make_jpeg


def test_removal_is_refused_while_a_draft_or_queued_visit_exists(tmp_path: Path) -> None:
    """A draft, then a queued visit, each refuse the removal with a sentence naming it; nothing is removed."""
    filled = filled_store(tmp_path)
    try:
        visit = filled.complete()
        with pytest.raises(ValidationError, match="draft"):
            filled.store.remove_personal_data()
        filled.store.submit_visit(visit.id)
        with pytest.raises(ValidationError, match="waiting to be sent"):
            filled.store.remove_personal_data()
        assert filled.store.visit(visit.id).answers and filled.store.cases()
    finally:
        filled.store.close()


def test_removal_clears_cases_people_photos_and_backups(tmp_path: Path) -> None:
    """With nothing unsent, cases, residents, photos, thumbnails and backups are gone, and no name is left in the file."""
    filled = filled_store(tmp_path)
    store = filled.store
    try:
        visit = filled.draft()
        photo = store.add_photo(visit.id, make_jpeg(tmp_path / "p.jpg"))
        store.discard_draft(visit.id)
        (store.data_dir / f"{DB_FILENAME}.bak-0001").write_bytes(b"old")
        name = store.case(filled.case_id).residents[0].full_name
        assert store.pending().empty
        store.remove_personal_data()
        assert store.cases() == [] and store.current_user() is None
        assert not list((store.data_dir / "photos").rglob("*.*")) and not list(store.data_dir.glob("*.bak-*"))
        assert photo.sha256
    finally:
        store.close()
    raw = b"".join(p.read_bytes() for p in store.data_dir.glob(f"{DB_FILENAME}*"))
    assert name.encode() not in raw
