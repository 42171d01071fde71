"""`LazyStore`: a no-op sync's questions answered from the file; anything more goes to the full `FieldStore`."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

import factories as f
from fieldapp import FieldStore
from fieldapp.clock import as_utc
from fieldapp.db import DB_FILENAME, HEAD_REVISION, alembic_config, current_revision, upgrade_to
from fieldapp.lazy_store import LazyStore
from fieldapp.types import VisitState
from store_helpers import Filled, make_jpeg, officer_info

PORTAL = "https://portal.example.gov.uk"   # where filled_store signs in


def _sql(folder: Path, sql: str, parameters: tuple[object, ...] = ()) -> object:
    """Run one statement on the store's file, committed; its first row."""
    conn = sqlite3.connect(folder / DB_FILENAME)
    try:
        with conn:
            return conn.execute(sql, parameters).fetchone()
    finally:
        conn.close()


def test_a_store_with_nothing_to_send_is_answered_without_the_full_store(filled: Filled) -> None:
    """State, outbox, photos to upload and drafts come from the file; the full store stays closed."""
    lazy = LazyStore.open(filled.store.data_dir)
    try:
        assert lazy.sync_state() == filled.store.sync_state()
        assert lazy.sync_state().user == officer_info(filled.world)
        assert lazy.outbox() == [] and lazy.outbox(limit=1) == [] and lazy.blobs_to_upload() == []
        assert lazy.drafts() == [] and lazy.data_dir == filled.store.data_dir
        assert not lazy.is_open_in_full
    finally:
        lazy.close()


@pytest.mark.parametrize("moment", [datetime(2026, 3, 1, 9, 30, 5, 123456, tzinfo=timezone(timedelta(hours=1))),
                                    datetime(2026, 3, 1, 9, 30, 5, tzinfo=timezone.utc)])
def test_the_time_of_a_sync_is_written_as_the_full_store_writes_it(filled: Filled, moment: datetime) -> None:
    """mark_synced through the file leaves the very text the ORM writes, and both read it back alike."""
    folder = filled.store.data_dir
    filled.store.mark_synced(moment)
    by_the_store = _sql(folder, "SELECT last_sync_at FROM sync_state")
    _sql(folder, "UPDATE sync_state SET last_sync_at = NULL")
    lazy = LazyStore.open(folder)
    try:
        lazy.mark_synced(moment)
        assert _sql(folder, "SELECT last_sync_at FROM sync_state") == by_the_store
        assert lazy.sync_state().last_sync_at == filled.store.sync_state().last_sync_at == as_utc(moment)
        assert not lazy.is_open_in_full
    finally:
        lazy.close()


def test_queued_work_is_handed_to_the_full_store(filled: Filled, tmp_path: Path) -> None:
    """A submitted visit waits in the outbox: the lazy store opens the full one and gives its ops and photos."""
    visit = filled.complete()
    filled.store.add_photo(visit.id, make_jpeg(tmp_path / "wall.jpg"))
    filled.store.submit_visit(visit.id)
    lazy = LazyStore.open(filled.store.data_dir)
    try:
        assert not lazy.is_open_in_full
        ops = lazy.outbox(limit=1)
        assert ops == filled.store.outbox(limit=1) and ops and lazy.is_open_in_full
        assert lazy.blobs_to_upload() == filled.store.blobs_to_upload() != []
        assert lazy.pending() == filled.store.pending()
    finally:
        lazy.close()


def test_a_pulled_change_is_applied_by_the_full_store(filled: Filled) -> None:
    """A page with changes opens the full store, which applies it with its cursor."""
    lazy = LazyStore.open(filled.store.data_dir)
    try:
        lazy.apply_changes([f.team("Renamed Team", id=filled.world.team_id, version=9)], 150)
        assert lazy.is_open_in_full
        assert lazy.sync_state().cursor == filled.store.sync_state().cursor == 150
    finally:
        lazy.close()


def test_signing_in_again_as_the_same_user_changes_nothing_and_a_change_goes_to_the_store(filled: Filled) -> None:
    """The same user of the same portal: nothing to write. A new display name is recorded by the store's rules."""
    folder = filled.store.data_dir
    user = officer_info(filled.world)
    lazy = LazyStore.open(folder)
    try:
        lazy.sign_in(user, PORTAL)
        assert not lazy.is_open_in_full
        lazy.sign_in(replace(user, display_name="Olivia Okafor"), PORTAL)
        assert lazy.is_open_in_full
        assert filled.store.current_user() == replace(user, display_name="Olivia Okafor")
    finally:
        lazy.close()


@pytest.mark.parametrize("own", [True, False])
@pytest.mark.parametrize("state", list(VisitState))
@pytest.mark.parametrize("local_edits", [True, False])
def test_drafts_are_found_exactly_as_the_store_finds_them(filled: Filled, own: bool, state: VisitState,
                                                          local_edits: bool) -> None:
    """The file's quick look for drafts agrees with `fieldapp.drafts.is_draft` on every kind of visit row."""
    visit = filled.draft(notes="Wet wall")
    _sql(filled.store.data_dir, "UPDATE visits SET own = ?, state = ?, local_edits = ? WHERE id = ?",
         (own, state.value, local_edits, visit.id))
    lazy = LazyStore.open(filled.store.data_dir)
    try:
        expected = filled.store.drafts()
        assert lazy.draft_cases() == [d.case_reference for d in expected]
        assert not lazy.is_open_in_full
        assert lazy.drafts() == expected
        assert lazy.is_open_in_full == bool(expected)
    finally:
        lazy.close()


def test_the_cases_of_drafts_are_named_from_the_file_as_the_full_store_names_them(filled: Filled) -> None:
    """Drafts of two cases, oldest first, one case gone from the laptop (named by its id): the full store stays closed."""
    first = filled.draft()
    second = filled.store.start_visit(filled.world.case_ids[1], filled.world.template_id)
    reference = filled.store.case(first.case_id).reference
    _sql(filled.store.data_dir, "DELETE FROM cases WHERE id = ?", (second.case_id,))
    expected = [d.case_reference or d.case_id for d in filled.store.drafts()]
    assert sorted(expected) == sorted([reference, second.case_id])
    lazy = LazyStore.open(filled.store.data_dir)
    try:
        assert lazy.draft_cases() == expected
        assert not lazy.is_open_in_full
        lazy.full()
        assert lazy.draft_cases() == expected
    finally:
        lazy.close()


def test_a_new_folder_is_made_by_the_full_store(tmp_path: Path) -> None:
    """No database yet: the full store creates and migrates it at once."""
    lazy = LazyStore.open(tmp_path / "new")
    try:
        assert lazy.is_open_in_full and lazy.sync_state().device_id
        assert current_revision(tmp_path / "new" / DB_FILENAME) == HEAD_REVISION
    finally:
        lazy.close()


def test_a_store_at_an_older_revision_is_migrated_on_open(tmp_path: Path) -> None:
    """A file one migration behind (sync state and all) goes through FieldStore.open, so the migration runs."""
    from alembic.script import ScriptDirectory

    previous = ScriptDirectory.from_config(alembic_config()).get_revision(HEAD_REVISION).down_revision
    assert isinstance(previous, str)
    folder = tmp_path / "old"
    folder.mkdir()
    upgrade_to(folder / DB_FILENAME, previous)
    _sql(folder, "INSERT INTO sync_state (id, device_id, cursor) VALUES (1, 'dev-old', 7)")
    lazy = LazyStore.open(folder)
    try:
        assert lazy.is_open_in_full
        assert current_revision(folder / DB_FILENAME) == HEAD_REVISION
        assert lazy.sync_state().device_id == "dev-old" and lazy.sync_state().cursor == 7
    finally:
        lazy.close()


def test_a_file_without_its_sync_state_is_set_up_by_the_full_store(tmp_path: Path) -> None:
    """At the newest revision but no sync state row (an interrupted first open): FieldStore.open makes it."""
    folder = tmp_path / "bare"
    folder.mkdir()
    upgrade_to(folder / DB_FILENAME)
    lazy = LazyStore.open(folder)
    try:
        assert lazy.is_open_in_full and lazy.sync_state().device_id
    finally:
        lazy.close()


def test_a_damaged_file_is_reported_by_the_full_store(tmp_path: Path) -> None:
    """Not a database: the quick look steps aside and the full store raises its own StoreError."""
    from fieldapp.errors import StoreError

    folder = tmp_path / "broken"
    folder.mkdir()
    (folder / DB_FILENAME).write_bytes(b"this is not a database" * 200)
    with pytest.raises(StoreError):
        LazyStore.open(folder)


def test_a_closed_lazy_store_closes_the_full_one(filled: Filled) -> None:
    """close() releases both the quick connection and the full store it opened."""
    from fieldapp.errors import StoreError

    lazy = LazyStore.open(filled.store.data_dir)
    full = lazy.full()
    lazy.close()
    with pytest.raises(StoreError):
        full.sync_state()
    assert isinstance(full, FieldStore)
