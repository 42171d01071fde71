"""The case list puts closed cases last, with the cases that have no due date.

Their list lines were ordered by their old due dates, so a closed case sat above the
overdue ones; this revision moves the lines already built (the app builds new ones so).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 01:10:00
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

# Frozen copy of the stored form of fieldapp.domain.NO_DUE_DATE as this revision writes it.
_LAST = "9999-12-31 23:59:59.999999"


def upgrade() -> None:
    op.execute(f"UPDATE case_index SET due_sort = '{_LAST}' WHERE status = 'closed'")


def downgrade() -> None:
    op.execute("UPDATE case_index SET due_sort = coalesce(due_at, '9999-12-31') WHERE status = 'closed'")
