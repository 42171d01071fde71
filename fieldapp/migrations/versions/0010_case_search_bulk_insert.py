"""New list lines reach the case search in one statement a page, not through a trigger a row.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 06:15:00

The ``case_index_ai`` trigger copied each inserted line's search text into ``case_fts``
one row at a time; at a first sync of 20,000 cases that per-row path cost about three
times what one ``INSERT INTO case_fts … SELECT`` per page costs for the same rows
(measured on this machine). ``fieldapp.search`` now inserts the FTS rows of the lines
it builds itself. The delete and update triggers stay: they keep the index right
whatever removes or changes a line.
"""

from __future__ import annotations

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS case_index_ai")


def downgrade() -> None:
    op.execute("CREATE TRIGGER case_index_ai AFTER INSERT ON case_index BEGIN "
               "INSERT INTO case_fts(rowid, search_text) VALUES (new.id, new.search_text); END")
