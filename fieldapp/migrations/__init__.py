"""Alembic migrations of the local store, run by `fieldapp.db.upgrade_to` (no alembic.ini needed)."""
