"""pull_chains: cursors handed out mid-way through a pull from 0 (accepted below the tombstone horizon)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 07:20:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'pull_chains',
        sa.Column('user_id', sa.String(length=36), nullable=False),
        sa.Column('cursor', sa.BigInteger(), nullable=False),
        sa.Column('started_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('user_id', 'cursor'),
    )
    op.create_index('ix_pull_chains_started_at', 'pull_chains', ['started_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_pull_chains_started_at', table_name='pull_chains')
    op.drop_table('pull_chains')
