"""First schema: portal records, visits, photos, outbox, problems and sync state.

Revision ID: 0001
Revises:
Create Date: 2026-11-25 19:45:29.338996
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("blobs",
    sa.Column("sha256", sa.String(length=64), nullable=False),
    sa.Column("uploaded", sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint("sha256")
    )
    op.create_table("cases",
    sa.Column("id", sa.String(length=64), nullable=False),
    sa.Column("version", sa.Integer(), nullable=False),
    sa.Column("reference", sa.String(length=40), nullable=False),
    sa.Column("case_type", sa.String(length=20), nullable=False),
    sa.Column("status", sa.String(length=20), nullable=False),
    sa.Column("priority", sa.String(length=20), nullable=False),
    sa.Column("summary", sa.Text(), nullable=False),
    sa.Column("description", sa.Text(), nullable=False),
    sa.Column("opened_at", sa.DateTime(), nullable=False),
    sa.Column("due_at", sa.DateTime(), nullable=True),
    sa.Column("property_id", sa.String(length=64), nullable=False),
    sa.Column("assigned_officer_id", sa.String(length=64), nullable=True),
    sa.Column("team_id", sa.String(length=64), nullable=True),
    sa.Column("deleted", sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint("id")
    )
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cases_due_at"), ["due_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_cases_property_id"), ["property_id"], unique=False)

    op.create_table("outbox",
    sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
    sa.Column("op_id", sa.String(length=64), nullable=False),
    sa.Column("entity", sa.String(length=20), nullable=False),
    sa.Column("record_id", sa.String(length=64), nullable=False),
    sa.Column("kind", sa.String(length=20), nullable=False),
    sa.Column("base_version", sa.Integer(), nullable=False),
    sa.Column("data", sa.JSON(), nullable=False),
    sa.Column("size", sa.Integer(), nullable=False),
    sa.Column("created_at", sa.DateTime(), nullable=False),
    sa.Column("attempts", sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint("seq"),
    sa.UniqueConstraint("op_id")
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index("ix_outbox_entity", ["entity"], unique=False)
        batch_op.create_index(batch_op.f("ix_outbox_record_id"), ["record_id"], unique=False)

    op.create_table("problems",
    sa.Column("id", sa.String(length=64), nullable=False),
    sa.Column("kind", sa.String(length=30), nullable=False),
    sa.Column("entity", sa.String(length=20), nullable=False),
    sa.Column("record_id", sa.String(length=64), nullable=False),
    sa.Column("message", sa.Text(), nullable=False),
    sa.Column("actions", sa.JSON(), nullable=False),
    sa.Column("details", sa.JSON(), nullable=False),
    sa.Column("created_at", sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint("id")
    )
    with op.batch_alter_table("problems", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_problems_record_id"), ["record_id"], unique=False)

    op.create_table("properties",
    sa.Column("id", sa.String(length=64), nullable=False),
    sa.Column("version", sa.Integer(), nullable=False),
    sa.Column("uprn", sa.String(length=20), nullable=False),
    sa.Column("address_lines", sa.JSON(), nullable=False),
    sa.Column("town", sa.Text(), nullable=False),
    sa.Column("postcode", sa.String(length=10), nullable=False),
    sa.Column("property_type", sa.String(length=20), nullable=False),
    sa.Column("bedrooms", sa.Integer(), nullable=False),
    sa.Column("deleted", sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint("id")
    )
    op.create_table("residents",
    sa.Column("id", sa.String(length=64), nullable=False),
    sa.Column("version", sa.Integer(), nullable=False),
    sa.Column("property_id", sa.String(length=64), nullable=False),
    sa.Column("full_name", sa.Text(), nullable=False),
    sa.Column("phone", sa.Text(), nullable=True),
    sa.Column("email", sa.Text(), nullable=True),
    sa.Column("vulnerabilities", sa.JSON(), nullable=False),
    sa.Column("warnings", sa.JSON(), nullable=False),
    sa.Column("deleted", sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint("id")
    )
    with op.batch_alter_table("residents", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_residents_property_id"), ["property_id"], unique=False)

    op.create_table("sync_state",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("device_id", sa.String(length=64), nullable=False),
    sa.Column("cursor", sa.Integer(), nullable=False),
    sa.Column("last_sync_at", sa.DateTime(), nullable=True),
    sa.Column("portal_url", sa.Text(), nullable=True),
    sa.Column("user_id", sa.String(length=64), nullable=True),
    sa.Column("username", sa.Text(), nullable=True),
    sa.Column("display_name", sa.Text(), nullable=True),
    sa.Column("role", sa.String(length=20), nullable=True),
    sa.Column("team_id", sa.String(length=64), nullable=True),
    sa.PrimaryKeyConstraint("id")
    )
    op.create_table("teams",
    sa.Column("id", sa.String(length=64), nullable=False),
    sa.Column("version", sa.Integer(), nullable=False),
    sa.Column("name", sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint("id")
    )
    op.create_table("templates",
    sa.Column("id", sa.String(length=64), nullable=False),
    sa.Column("template_version", sa.Integer(), nullable=False),
    sa.Column("version", sa.Integer(), nullable=False),
    sa.Column("name", sa.Text(), nullable=False),
    sa.Column("case_types", sa.JSON(), nullable=False),
    sa.Column("sections", sa.JSON(), nullable=False),
    sa.Column("deleted", sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint("id", "template_version")
    )
    op.create_table("users",
    sa.Column("id", sa.String(length=64), nullable=False),
    sa.Column("version", sa.Integer(), nullable=False),
    sa.Column("username", sa.Text(), nullable=False),
    sa.Column("display_name", sa.Text(), nullable=False),
    sa.Column("role", sa.String(length=20), nullable=False),
    sa.Column("team_id", sa.String(length=64), nullable=True),
    sa.PrimaryKeyConstraint("id")
    )
    op.create_table("visits",
    sa.Column("id", sa.String(length=64), nullable=False),
    sa.Column("case_id", sa.String(length=64), nullable=False),
    sa.Column("officer_id", sa.String(length=64), nullable=False),
    sa.Column("template_id", sa.String(length=64), nullable=False),
    sa.Column("template_version", sa.Integer(), nullable=False),
    sa.Column("started_at", sa.DateTime(), nullable=False),
    sa.Column("completed_at", sa.DateTime(), nullable=True),
    sa.Column("outcome", sa.String(length=20), nullable=True),
    sa.Column("answers", sa.JSON(), nullable=False),
    sa.Column("notes", sa.Text(), nullable=False),
    sa.Column("hazards", sa.JSON(), nullable=False),
    sa.Column("state", sa.String(length=20), nullable=False),
    sa.Column("server_version", sa.Integer(), nullable=False),
    sa.Column("review", sa.JSON(), nullable=True),
    sa.Column("amends", sa.String(length=64), nullable=True),
    sa.Column("own", sa.Boolean(), nullable=False),
    sa.Column("local_edits", sa.Boolean(), nullable=False),
    sa.Column("op_id", sa.String(length=64), nullable=True),
    sa.Column("submitted_at", sa.DateTime(), nullable=True),
    sa.Column("received_at", sa.DateTime(), nullable=True),
    sa.Column("updated_at", sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint("id")
    )
    with op.batch_alter_table("visits", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_visits_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_visits_state"), ["state"], unique=False)

    op.create_table("case_residents",
    sa.Column("case_id", sa.String(length=64), nullable=False),
    sa.Column("resident_id", sa.String(length=64), nullable=False),
    sa.Column("position", sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(["case_id"], ["cases.id"], ondelete="CASCADE"),
    sa.PrimaryKeyConstraint("case_id", "resident_id")
    )
    with op.batch_alter_table("case_residents", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_residents_resident_id"), ["resident_id"], unique=False)

    op.create_table("local_reviews",
    sa.Column("id", sa.String(length=64), nullable=False),
    sa.Column("visit_id", sa.String(length=64), nullable=False),
    sa.Column("visit_version", sa.Integer(), nullable=False),
    sa.Column("decision", sa.String(length=20), nullable=False),
    sa.Column("comment", sa.Text(), nullable=False),
    sa.Column("lead_id", sa.String(length=64), nullable=False),
    sa.Column("decided_at", sa.DateTime(), nullable=False),
    sa.Column("sent", sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(["visit_id"], ["visits.id"], ondelete="CASCADE"),
    sa.PrimaryKeyConstraint("id")
    )
    with op.batch_alter_table("local_reviews", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_local_reviews_visit_id"), ["visit_id"], unique=False)

    op.create_table("photos",
    sa.Column("id", sa.String(length=64), nullable=False),
    sa.Column("visit_id", sa.String(length=64), nullable=False),
    sa.Column("position", sa.Integer(), nullable=False),
    sa.Column("sha256", sa.String(length=64), nullable=False),
    sa.Column("content_type", sa.String(length=40), nullable=False),
    sa.Column("bytes", sa.Integer(), nullable=False),
    sa.Column("width", sa.Integer(), nullable=False),
    sa.Column("height", sa.Integer(), nullable=False),
    sa.Column("caption", sa.Text(), nullable=False),
    sa.Column("question_id", sa.String(length=100), nullable=True),
    sa.Column("taken_at", sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(["visit_id"], ["visits.id"], ondelete="CASCADE"),
    sa.PrimaryKeyConstraint("id")
    )
    with op.batch_alter_table("photos", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_photos_sha256"), ["sha256"], unique=False)
        batch_op.create_index(batch_op.f("ix_photos_visit_id"), ["visit_id"], unique=False)

    op.create_table("visit_history",
    sa.Column("visit_id", sa.String(length=64), nullable=False),
    sa.Column("version", sa.Integer(), nullable=False),
    sa.Column("status", sa.String(length=20), nullable=False),
    sa.Column("document", sa.JSON(), nullable=False),
    sa.Column("received_at", sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(["visit_id"], ["visits.id"], ondelete="CASCADE"),
    sa.PrimaryKeyConstraint("visit_id", "version")
    )


def downgrade() -> None:
    op.drop_table("visit_history")
    op.drop_table("photos")
    op.drop_table("local_reviews")
    op.drop_table("case_residents")
    op.drop_table("visits")
    op.drop_table("users")
    op.drop_table("templates")
    op.drop_table("teams")
    op.drop_table("sync_state")
    op.drop_table("residents")
    op.drop_table("properties")
    op.drop_table("problems")
    op.drop_table("outbox")
    op.drop_table("cases")
    op.drop_table("blobs")
