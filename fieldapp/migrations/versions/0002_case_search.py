"""Case search: the denormalised case list line and its FTS5 index (with triggers), backfilled.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 19:50:00

Later migrations that rebuild ``case_index`` in batch mode must recreate the triggers.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_COLUMNS = "reference, address, postcode, resident_names"
_NEW = "new.reference, new.address, new.postcode, new.resident_names"
_OLD = "old.reference, old.address, old.postcode, old.resident_names"

# Frozen copy of the list line as this revision defines it (the app's copy may move on).
_BACKFILL = """
INSERT INTO case_index (case_id, reference, address, postcode, resident_names, has_warnings)
SELECT c.id, c.reference,
       coalesce((SELECT group_concat(value, ', ') FROM json_each(p.address_lines)) || ', ' || p.town, ''),
       coalesce(p.postcode, ''),
       coalesce((SELECT group_concat(full_name, ', ') FROM (
                   SELECT r.full_name FROM case_residents cr JOIN residents r ON r.id = cr.resident_id
                   WHERE cr.case_id = c.id AND r.deleted = 0 ORDER BY cr.position)), ''),
       EXISTS (SELECT 1 FROM case_residents cr JOIN residents r ON r.id = cr.resident_id
               WHERE cr.case_id = c.id AND r.deleted = 0 AND json_array_length(r.warnings) > 0)
FROM cases c LEFT JOIN properties p ON p.id = c.property_id
"""


def upgrade() -> None:
    op.create_table(
        "case_index",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("case_id", sa.String(length=64), nullable=False),
        sa.Column("reference", sa.Text(), nullable=False),
        sa.Column("address", sa.Text(), nullable=False),
        sa.Column("postcode", sa.Text(), nullable=False),
        sa.Column("resident_names", sa.Text(), nullable=False),
        sa.Column("has_warnings", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("case_id"),
    )
    op.execute(
        f"CREATE VIRTUAL TABLE case_fts USING fts5({_COLUMNS}, content='case_index', content_rowid='id', "
        "tokenize='unicode61 remove_diacritics 2')")
    op.execute(f"CREATE TRIGGER case_index_ai AFTER INSERT ON case_index BEGIN "
               f"INSERT INTO case_fts(rowid, {_COLUMNS}) VALUES (new.id, {_NEW}); END")
    op.execute(f"CREATE TRIGGER case_index_ad AFTER DELETE ON case_index BEGIN "
               f"INSERT INTO case_fts(case_fts, rowid, {_COLUMNS}) VALUES ('delete', old.id, {_OLD}); END")
    op.execute(f"CREATE TRIGGER case_index_au AFTER UPDATE ON case_index BEGIN "
               f"INSERT INTO case_fts(case_fts, rowid, {_COLUMNS}) VALUES ('delete', old.id, {_OLD}); "
               f"INSERT INTO case_fts(rowid, {_COLUMNS}) VALUES (new.id, {_NEW}); END")
    op.execute(_BACKFILL)


def downgrade() -> None:
    for trigger in ("case_index_ai", "case_index_ad", "case_index_au"):
        op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    op.execute("DROP TABLE IF EXISTS case_fts")
    op.drop_table("case_index")
