"""Photos remember the photo they are an annotated copy of.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 01:00:00

``source_photo_id`` names a photo of the same visit; empty for photos imported from a
file. It stays on the laptop (the protocol's photo entry has no such field: the copy's
caption tells the lead), and is cleared when the source photo is removed.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("photos", schema=None) as batch_op:
        batch_op.add_column(sa.Column("source_photo_id", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("photos", schema=None) as batch_op:
        batch_op.drop_column("source_photo_id")
