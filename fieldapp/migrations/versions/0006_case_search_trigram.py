"""One case search: the list line gets its folded search text, indexed by an FTS5 trigram table.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 22:00:00

The case list window and the core now search alike, by parts of words ("ill lane"
finds Mill Lane), so ``case_fts`` indexes ``search_text`` (reference, address,
postcode with and without its space, resident names and summary, without case or
accents) with the trigram tokenizer instead of word prefixes. The new column starts
empty: the folding is the app's own Python, so `FieldStore.open` rebuilds the lines
when any lacks its search text (``fieldapp.search.index_is_complete``).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_TRIGGERS = ("case_index_ai", "case_index_ad", "case_index_au")


def _drop_fts() -> None:
    for trigger in _TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    op.execute("DROP TABLE IF EXISTS case_fts")


def _create_fts(columns: str, tokenize: str) -> None:
    new = ", ".join(f"new.{c.strip()}" for c in columns.split(","))
    old = ", ".join(f"old.{c.strip()}" for c in columns.split(","))
    op.execute(f"CREATE VIRTUAL TABLE case_fts USING fts5({columns}, content='case_index', content_rowid='id', "
               f"tokenize='{tokenize}')")
    op.execute(f"CREATE TRIGGER case_index_ai AFTER INSERT ON case_index BEGIN "
               f"INSERT INTO case_fts(rowid, {columns}) VALUES (new.id, {new}); END")
    op.execute(f"CREATE TRIGGER case_index_ad AFTER DELETE ON case_index BEGIN "
               f"INSERT INTO case_fts(case_fts, rowid, {columns}) VALUES ('delete', old.id, {old}); END")
    op.execute(f"CREATE TRIGGER case_index_au AFTER UPDATE ON case_index BEGIN "
               f"INSERT INTO case_fts(case_fts, rowid, {columns}) VALUES ('delete', old.id, {old}); "
               f"INSERT INTO case_fts(rowid, {columns}) VALUES (new.id, {new}); END")


def upgrade() -> None:
    _drop_fts()
    op.add_column("case_index", sa.Column("search_text", sa.Text(), nullable=False, server_default=""))
    # The text is folded already, so the tokenizer compares it as it is.
    _create_fts("search_text", "trigram case_sensitive 1")
    # Every line gets its (empty) FTS row now: the triggers' deletes must find what they delete.
    op.execute("INSERT INTO case_fts(case_fts) VALUES ('rebuild')")


def downgrade() -> None:
    _drop_fts()
    with op.batch_alter_table("case_index", schema=None) as batch_op:
        batch_op.drop_column("search_text")
    # Back to the 0003 word index, filled from the lines (which still hold those fields).
    _create_fts("reference, address, postcode, resident_names", "unicode61 remove_diacritics 2")
    op.execute("INSERT INTO case_fts(case_fts) VALUES ('rebuild')")
