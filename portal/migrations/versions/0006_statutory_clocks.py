"""statutory clocks: case clock columns, hazard vocabularies, the Awaab schedule, council holidays

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 21:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('aware_at', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('reported_hazards', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('source', sa.String(length=10), server_default='crm', nullable=False))
        batch_op.add_column(sa.Column('awaab', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('clocks', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('service_due_at', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('investigation', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('reported_by_id', sa.String(length=36), nullable=True))
        batch_op.create_foreign_key('fk_cases_reported_by_id_users', 'users', ['reported_by_id'], ['id'])
        batch_op.create_index('ix_cases_reporter_seq', ['reported_by_id', 'seq'], unique=False)
    # Cases of revision 1 keep their due date as their service date.
    op.execute("UPDATE cases SET service_due_at = due_at")
    op.create_table('hazard_vocabularies',
        sa.Column('key', sa.String(length=60), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('effective_from', sa.String(length=10), nullable=False),
        sa.Column('hazards', sa.JSON(), nullable=False),
        sa.Column('bands', sa.JSON(), nullable=False),
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('seq', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('key'),
    )
    op.create_index('ix_hazard_vocabularies_seq', 'hazard_vocabularies', ['seq'], unique=False)
    op.create_table('awaab_schedules',
        sa.Column('phases', sa.JSON(), nullable=False),
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('seq', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_awaab_schedules_seq', 'awaab_schedules', ['seq'], unique=False)
    op.create_table('council_holidays',
        sa.Column('day', sa.String(length=10), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('day'),
    )


def downgrade() -> None:
    op.drop_table('council_holidays')
    op.drop_index('ix_awaab_schedules_seq', table_name='awaab_schedules')
    op.drop_table('awaab_schedules')
    op.drop_index('ix_hazard_vocabularies_seq', table_name='hazard_vocabularies')
    op.drop_table('hazard_vocabularies')
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index('ix_cases_reporter_seq')
        batch_op.drop_constraint('fk_cases_reported_by_id_users', type_='foreignkey')
        for column in ('reported_by_id', 'investigation', 'service_due_at', 'clocks', 'awaab', 'source', 'reported_hazards', 'aware_at'):
            batch_op.drop_column(column)
