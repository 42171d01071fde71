"""Removing the laptop's personal data after signing out, once nothing unsent needs it.

Everything pulled from the portal and everything recorded here goes: cases, residents,
visits, photos and their thumbnails, problems, history, and the backups taken before
migrations. The database is then vacuumed with ``secure_delete`` so the removed rows
are not left readable in free pages. What stays: the device id, the portal address
and the settings (no personal data). Never while work is unsent — queued ops, photos
waiting to upload, drafts, decisions or problems: that is an officer's record.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

from sqlalchemy import delete, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from fieldapp import drafts as draft_rules
from fieldapp import sync_apply
from fieldapp.errors import ValidationError
from fieldapp.models import Base, OutboxRow, SyncStateRow, VisitRow
from fieldapp.types import counted_parts

log = logging.getLogger(__name__)


def unsent_reason(session: Session) -> str | None:
    """Why the data may not be removed yet (a sentence), or None when nothing unsent needs it."""
    queued = session.scalar(select(func.count()).select_from(OutboxRow)) or 0
    drafts = draft_rules.count_drafts(session)
    held = sum(1 for visit in session.scalars(select(VisitRow)) if sync_apply.has_local_work(session, visit))
    if not (queued or drafts or held):
        return None
    # `has_local_work` counts visits with queued ops or drafts too: held visits are named only when nothing else is.
    parts = counted_parts((queued, "item", "waiting to be sent"), (drafts, "draft visit"),
                          (0 if queued or drafts else held, "visit", "with problems to resolve"))
    return (f"This laptop still holds unsent work ({', '.join(parts)}). Sign in and sync, "
            "or finish or discard the drafts, before removing the data.")


def clear_tables(session: Session) -> None:
    """Delete every row but the sync state, which forgets the user and starts again from cursor 0."""
    reason = unsent_reason(session)
    if reason:
        raise ValidationError(reason)
    for table in reversed(Base.metadata.sorted_tables):
        if table.name != SyncStateRow.__tablename__:
            session.execute(delete(table))
    state = session.get(SyncStateRow, 1)
    if state is not None:
        state.cursor, state.last_sync_at = 0, None
        state.user_id = state.username = state.display_name = state.role = state.team_id = None


def scrub_database(engine: Engine) -> None:
    """Rewrite the database so removed rows leave no readable trace (FTS index, free pages, WAL)."""
    # A raw connection: VACUUM cannot run inside the transaction SQLAlchemy would begin
    # (the store's connections run without implicit transactions, fieldapp.db).
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute("PRAGMA secure_delete = ON")
        if cursor.execute("SELECT 1 FROM sqlite_master WHERE name = 'case_fts'").fetchone():
            cursor.execute("INSERT INTO case_fts(case_fts) VALUES ('rebuild')")
        cursor.execute("VACUUM")
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        cursor.execute("PRAGMA secure_delete = OFF")
        cursor.close()
    finally:
        raw.close()


def remove_files(data_dir: Path, photos_dir: Path, db_filename: str) -> None:
    """Delete every photo, thumbnail and database backup in the data folder."""
    if photos_dir.is_dir():
        for entry in photos_dir.iterdir():
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)
    for backup in data_dir.glob(f"{db_filename}.bak-*"):
        backup.unlink(missing_ok=True)
    log.info("Removed this laptop's personal data from %s", data_dir)
