"""Statutory clocks (PROTOCOL.md revision 2): case clock fields, assessment, vocabularies, hazard reports.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 21:30:00

Cases already on the laptop get the revision-1 meaning (aware when opened, from the
CRM, no clocks) until the next pull from a revision-2 portal fills them in.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("aware_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("reported_hazards", sa.JSON(), nullable=False, server_default="[]"))
        batch_op.add_column(sa.Column("source", sa.String(length=20), nullable=False, server_default="crm"))
        batch_op.add_column(sa.Column("awaab", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column("clocks", sa.JSON(), nullable=False, server_default="[]"))
    with op.batch_alter_table("visits", schema=None) as batch_op:
        batch_op.add_column(sa.Column("assessment", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("vocabulary", sa.String(length=64), nullable=True))
    op.create_table(
        "hazard_vocabularies",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("effective_from", sa.String(length=40), nullable=False),
        sa.Column("hazards", sa.JSON(), nullable=False),
        sa.Column("bands", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_hazard_vocabularies_key", "hazard_vocabularies", ["key"])
    op.create_table(
        "awaab_schedule",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("phases", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "hazard_reports",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("property_id", sa.String(length=64), nullable=False),
        sa.Column("from_case_id", sa.String(length=64), nullable=True),
        sa.Column("visit_id", sa.String(length=64), nullable=True),
        sa.Column("hazards", sa.JSON(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("observed_at", sa.DateTime(), nullable=False),
        sa.Column("priority", sa.String(length=20), nullable=False),
        sa.Column("photo_ids", sa.JSON(), nullable=False),
        sa.Column("vocabulary", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("op_id", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_hazard_reports_state", "hazard_reports", ["state"])


def downgrade() -> None:
    op.drop_index("ix_hazard_reports_state", table_name="hazard_reports")
    op.drop_table("hazard_reports")
    op.drop_table("awaab_schedule")
    op.drop_index("ix_hazard_vocabularies_key", table_name="hazard_vocabularies")
    op.drop_table("hazard_vocabularies")
    with op.batch_alter_table("visits", schema=None) as batch_op:
        batch_op.drop_column("vocabulary")
        batch_op.drop_column("assessment")
    with op.batch_alter_table("cases", schema=None) as batch_op:
        for column in ("clocks", "awaab", "source", "reported_hazards", "aware_at"):
            batch_op.drop_column(column)
