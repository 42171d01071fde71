"""Opening the store: pragmas, migrations with backup and foreign-key check, device id."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from fieldapp import FieldStore
from fieldapp.db import DB_FILENAME, HEAD_REVISION, alembic_config, make_engine, migrations_dir, upgrade_to
from fieldapp.errors import StoreError
from fieldapp.models import Base
from store_helpers import filled_store, officer_info
from fieldapp.search import CaseFilter


def test_every_connection_gets_the_pragmas(tmp_path: Path) -> None:
    """foreign_keys, WAL, synchronous=FULL and busy_timeout are set on each new connection."""
    store = FieldStore.open(tmp_path)
    try:
        engine = store._engine
        with engine.connect() as first, engine.connect() as second:
            for conn in (first, second):
                assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
                assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
                assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
                assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 1000
    finally:
        store.close()


def test_head_revision_constant_matches_the_scripts() -> None:
    """The cheap up-to-date check compares against the real head of the migration scripts."""
    assert ScriptDirectory.from_config(alembic_config()).get_current_head() == HEAD_REVISION
    assert (migrations_dir() / "env.py").is_file()


def test_migrations_build_exactly_the_model(tmp_path: Path) -> None:
    """The schema the migrations make is the schema the ORM model describes (no drift)."""
    db = tmp_path / DB_FILENAME
    upgrade_to(db)
    engine = make_engine(db)
    with engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    engine.dispose()
    # FTS5 shadow tables are not in the model on purpose.
    diffs = [d for d in diffs if not (d[0] == "remove_table" and d[1].name.startswith("case_fts"))]
    assert diffs == []


def _seed_first_revision(db: Path) -> None:
    """A database at revision 0001 holding a case, its property and residents, a visit with a photo and an op."""
    upgrade_to(db, "0001")
    conn = sqlite3.connect(db)
    with conn:
        conn.execute("INSERT INTO sync_state (id, device_id, cursor, user_id, username, display_name, role) "
                     "VALUES (1, 'dev-1', 42, 'u1', 'olivia', 'Olivia', 'officer')")
        conn.execute("INSERT INTO properties VALUES ('p1', 1, '100', '[\"7 Mill Road\"]', 'Leeds', 'LS6 2AB', "
                     "'house', 3, 0)")
        conn.execute("INSERT INTO residents VALUES ('r1', 1, 'p1', 'Ngozi Okafor', NULL, NULL, '[]', "
                     "'[\"Aggressive dog\"]', 0)")
        conn.execute("INSERT INTO cases VALUES ('c1', 3, 'DM-0001', 'damp_mould', 'open', 'urgent', 'Mould', '', "
                     "'2025-01-01 09:00:00.000000', '2025-02-01 09:00:00.000000', 'p1', 'u1', 't1', 0)")
        conn.execute("INSERT INTO case_residents VALUES ('c1', 'r1', 0)")
        conn.execute("INSERT INTO visits (id, case_id, officer_id, template_id, template_version, started_at, "
                     "answers, notes, hazards, state, server_version, own, local_edits, updated_at) VALUES "
                     "('v1', 'c1', 'u1', 'tp1', 1, '2025-01-05 10:00:00.000000', '{\"mould\": true}', 'Wet wall', "
                     "'[]', 'queued', 0, 1, 0, '2025-01-05 10:00:00.000000')")
        conn.execute("INSERT INTO photos VALUES ('ph1', 'v1', 0, '" + "ab" * 32 + "', 'image/jpeg', 10, 4, 3, 'wall', NULL, NULL)")
        conn.execute("INSERT INTO outbox (op_id, entity, record_id, kind, base_version, data, size, created_at, "
                     "attempts) VALUES ('op1', 'visit', 'v1', 'submit', 0, '{}', 2, '2025-01-05 10:00:00', 0)")
    conn.close()


def test_upgrade_from_the_first_migration_keeps_every_row(tmp_path: Path) -> None:
    """A 0001 database with data is backed up, upgraded, and still holds all of it (now searchable)."""
    db = tmp_path / DB_FILENAME
    _seed_first_revision(db)
    store = FieldStore.open(tmp_path)
    try:
        assert (tmp_path / f"{DB_FILENAME}.bak-0001").is_file()
        state = store.sync_state()
        assert (state.cursor, state.device_id, state.user.username) == (42, "dev-1", "olivia")
        [row] = store.cases(CaseFilter("okafor"))
        assert (row.id, row.address, row.postcode, row.has_warnings) == ("c1", "7 Mill Road, Leeds", "LS6 2AB", True)
        detail = store.case("c1")
        assert detail.warnings == ("Aggressive dog",) and detail.priority == "urgent"
        visit = store.visit("v1")
        assert visit.answers == {"mould": True} and visit.notes == "Wet wall" and visit.photos[0].caption == "wall"
        assert [op.op_id for op in store.outbox()] == ["op1"]
    finally:
        store.close()
    backup = sqlite3.connect(tmp_path / f"{DB_FILENAME}.bak-0001")
    assert backup.execute("SELECT version_num FROM alembic_version").fetchone() == ("0001",)
    backup.close()


def test_no_backup_when_nothing_is_pending(tmp_path: Path) -> None:
    """Reopening an up-to-date store makes no backup copy."""
    FieldStore.open(tmp_path).close()
    FieldStore.open(tmp_path).close()
    assert not list(tmp_path.glob("*.bak-*"))


def test_broken_foreign_keys_after_migrating_restore_the_backup(tmp_path: Path) -> None:
    """If foreign_key_check reports rows, opening fails with StoreError and the file is as before."""
    db = tmp_path / DB_FILENAME
    upgrade_to(db, "0001")
    conn = sqlite3.connect(db)  # foreign keys are off by default in a bare connection
    with conn:
        conn.execute("INSERT INTO photos VALUES ('ph1', 'no-such-visit', 0, 'ab', 'image/jpeg', 1, 1, 1, '', NULL, NULL)")
    conn.close()
    with pytest.raises(StoreError, match="broken link"):
        FieldStore.open(tmp_path)
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT version_num FROM alembic_version").fetchone() == ("0001",)
    assert conn.execute("SELECT count(*) FROM photos").fetchone() == (1,)
    assert conn.execute("SELECT count(*) FROM sqlite_master WHERE name = 'case_index'").fetchone() == (0,)
    conn.close()
    assert (tmp_path / f"{DB_FILENAME}.bak-0001").is_file()


def test_a_database_from_a_newer_app_is_refused(tmp_path: Path) -> None:
    """An unknown revision gives a StoreError that says to install the latest version."""
    FieldStore.open(tmp_path).close()
    conn = sqlite3.connect(tmp_path / DB_FILENAME)
    with conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999'")
    conn.close()
    with pytest.raises(StoreError, match="latest version"):
        FieldStore.open(tmp_path)


def test_a_damaged_file_is_a_store_error(tmp_path: Path) -> None:
    """A file that is not a database gives a StoreError, not a driver traceback."""
    (tmp_path / DB_FILENAME).write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError):
        FieldStore.open(tmp_path)


def test_device_id_is_made_once(tmp_path: Path) -> None:
    """The device id survives reopening and is a fresh UUID per data folder."""
    first = FieldStore.open(tmp_path / "a")
    device = first.sync_state().device_id
    first.close()
    again = FieldStore.open(tmp_path / "a")
    other = FieldStore.open(tmp_path / "b")
    assert again.sync_state().device_id == device != other.sync_state().device_id
    again.close()
    other.close()


def test_closed_store_refuses_work(tmp_path: Path) -> None:
    """After close() a call raises StoreError instead of reopening silently."""
    store = FieldStore.open(tmp_path)
    store.close()
    with pytest.raises(StoreError, match="closed"):
        store.cases()


def test_data_survives_reopening(tmp_path: Path) -> None:
    """A draft saved and the store closed is there, unchanged, after reopening."""
    filled = filled_store(tmp_path)
    visit = filled.draft(answers={"mould": True}, notes="Bathroom ceiling")
    filled.store.close()
    store = FieldStore.open(tmp_path)
    assert store.visit(visit.id).notes == "Bathroom ceiling"
    assert store.current_user() == officer_info(filled.world)
    store.close()
