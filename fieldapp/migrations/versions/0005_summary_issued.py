"""Visits record when the tenant's written summary was issued (PROTOCOL.md revision 2).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 21:40:00

``summary_issued`` is the portal's ``{"method", "issued_at", "by_id"}``, or the officer's
own record of it while the op that carries it waits to be sent.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("visits", schema=None) as batch_op:
        batch_op.add_column(sa.Column("summary_issued", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("visits", schema=None) as batch_op:
        batch_op.drop_column("summary_issued")
