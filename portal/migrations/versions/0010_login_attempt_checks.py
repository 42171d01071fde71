"""login attempts: checked and overlapped marks

A success counts against its key while a guess reserved before it was still being
checked (a burst of simultaneous guesses), so each attempt now records when its
password has been checked. Attempts already on record are a day old at most and are
taken as checked.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 00:50:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('login_attempts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('checked', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('overlapped', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.execute(sa.text("UPDATE login_attempts SET checked = true"))


def downgrade() -> None:
    with op.batch_alter_table('login_attempts', schema=None) as batch_op:
        batch_op.drop_column('overlapped')
        batch_op.drop_column('checked')
