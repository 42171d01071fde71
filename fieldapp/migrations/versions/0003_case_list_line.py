"""Case list line carries every listed field (no join, sort by index): case_index rebuilt, backfilled.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 20:20:00

The list of 20,000 cases sorted by due date must come back in milliseconds: the
line now holds the case's own listed fields too, with ``due_sort`` (due date, or a
far-future value so cases without one sort last) and ``priority_rank`` covered by
an index in the default order. ``case_fts`` is rebuilt with its triggers.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_COLUMNS = "reference, address, postcode, resident_names"
_NEW = "new.reference, new.address, new.postcode, new.resident_names"
_OLD = "old.reference, old.address, old.postcode, old.resident_names"

# Frozen copy of the list line as this revision defines it (the app's copy may move on).
_BACKFILL = """
INSERT INTO case_index (case_id, reference, case_type, status, priority, priority_rank, summary, opened_at,
                        due_at, due_sort, deleted, address, postcode, resident_names, has_warnings)
SELECT c.id, c.reference, c.case_type, c.status, c.priority,
       CASE c.priority WHEN 'emergency' THEN 0 WHEN 'urgent' THEN 1 WHEN 'routine' THEN 2 ELSE 9 END,
       c.summary, c.opened_at, c.due_at, coalesce(c.due_at, '9999-12-31'), c.deleted,
       coalesce((SELECT group_concat(value, ', ') FROM json_each(p.address_lines)) || ', ' || p.town, ''),
       coalesce(p.postcode, ''),
       coalesce((SELECT group_concat(full_name, ', ') FROM (
                   SELECT r.full_name FROM case_residents cr JOIN residents r ON r.id = cr.resident_id
                   WHERE cr.case_id = c.id AND r.deleted = 0 ORDER BY cr.position)), ''),
       EXISTS (SELECT 1 FROM case_residents cr JOIN residents r ON r.id = cr.resident_id
               WHERE cr.case_id = c.id AND r.deleted = 0 AND json_array_length(r.warnings) > 0)
FROM cases c LEFT JOIN properties p ON p.id = c.property_id
"""


def _drop_search() -> None:
    for trigger in ("case_index_ai", "case_index_ad", "case_index_au"):
        op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    op.execute("DROP TABLE IF EXISTS case_fts")
    op.drop_table("case_index")


def upgrade() -> None:
    _drop_search()
    op.create_table(
        "case_index",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("case_id", sa.String(length=64), nullable=False),
        sa.Column("reference", sa.Text(), nullable=False),
        sa.Column("case_type", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("priority", sa.String(length=20), nullable=False),
        sa.Column("priority_rank", sa.Integer(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("opened_at", sa.DateTime(), nullable=False),
        sa.Column("due_at", sa.DateTime(), nullable=True),
        sa.Column("due_sort", sa.Text(), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("address", sa.Text(), nullable=False),
        sa.Column("postcode", sa.Text(), nullable=False),
        sa.Column("resident_names", sa.Text(), nullable=False),
        sa.Column("has_warnings", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("case_id"),
    )
    op.create_index("ix_case_index_due_order", "case_index", ["due_sort", "priority_rank", "reference"])
    op.create_index("ix_case_index_reference", "case_index", ["reference"])
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
    # Back to the 0002 line: rebuilt empty; opening with a 0002 app would need a reindex.
    _drop_search()
