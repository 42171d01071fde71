"""blob partials per uploader, image sizes of complete blobs

Partial uploads move to their own table keyed by blob and uploader (only the caller
who started one may continue it). Partial rows of the old layout are dropped: their
devices start those uploads again, and housekeeping sweeps the old files.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 22:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'blob_partials',
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('user_id', sa.String(length=36), nullable=False),
        sa.Column('offset', sa.BigInteger(), nullable=False),
        sa.Column('total', sa.BigInteger(), nullable=False),
        sa.Column('content_type', sa.String(length=40), nullable=True),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('sha256', 'user_id'),
    )
    with op.batch_alter_table('blob_partials', schema=None) as batch_op:
        batch_op.create_index('ix_blob_partials_user_id', ['user_id'], unique=False)
        batch_op.create_index('ix_blob_partials_updated_at', ['updated_at'], unique=False)
    # Uploaders were recorded with every chunk; only complete bytes make an uploader now.
    op.execute("DELETE FROM blob_uploaders WHERE sha256 IN (SELECT sha256 FROM blobs WHERE state <> 'complete')")
    op.execute("DELETE FROM blobs WHERE state <> 'complete'")
    with op.batch_alter_table('blobs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('width', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('height', sa.Integer(), nullable=True))
        batch_op.create_index('ix_blobs_updated_at', ['updated_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('blobs', schema=None) as batch_op:
        batch_op.drop_index('ix_blobs_updated_at')
        batch_op.drop_column('height')
        batch_op.drop_column('width')
    with op.batch_alter_table('blob_partials', schema=None) as batch_op:
        batch_op.drop_index('ix_blob_partials_updated_at')
        batch_op.drop_index('ix_blob_partials_user_id')
    op.drop_table('blob_partials')
