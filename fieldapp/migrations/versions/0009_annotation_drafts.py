"""Photos keep the marks being drawn on them until the annotated copy is saved or discarded.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 01:30:00

``annotation_draft`` holds the marks (`fieldapp.photos_marks.marks_to_data`) as the
officer draws, so a crash or a power cut while annotating loses none of them; it goes
with its photo's row, so purging a visit purges its drafts too. Never sent to the portal.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("photos", schema=None) as batch_op:
        batch_op.add_column(sa.Column("annotation_draft", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("photos", schema=None) as batch_op:
        batch_op.drop_column("annotation_draft")
