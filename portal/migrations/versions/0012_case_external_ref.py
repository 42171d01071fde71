"""case external_ref: the CRM's reference of a case, unique (case import is idempotent by it)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 00:50:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('external_ref', sa.String(length=100), nullable=True))
        # Unique where given (NULLs are distinct on both backends): cases the CRM did not send have none.
        batch_op.create_index('ix_cases_external_ref', ['external_ref'], unique=True)


def downgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index('ix_cases_external_ref')
        batch_op.drop_column('external_ref')
