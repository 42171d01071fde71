"""pull indexes: a caller's cases and visits in seq order

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 21:10:00.000000
"""

from __future__ import annotations

from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.create_index('ix_cases_officer_seq', ['assigned_officer_id', 'seq'], unique=False)
        batch_op.create_index('ix_cases_team_seq', ['team_id', 'seq'], unique=False)
    with op.batch_alter_table('visits', schema=None) as batch_op:
        batch_op.create_index('ix_visits_officer_seq', ['officer_id', 'seq'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('visits', schema=None) as batch_op:
        batch_op.drop_index('ix_visits_officer_seq')
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index('ix_cases_team_seq')
        batch_op.drop_index('ix_cases_officer_seq')
