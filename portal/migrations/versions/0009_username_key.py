"""username keys: usernames compare the same way (Unicode case folding) on PostgreSQL and SQLite

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 22:20:00.000000
"""

from __future__ import annotations

import unicodedata

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def _key(username: str) -> str:
    # The rule of portal.services.usernames.username_key, frozen here as of this revision.
    return unicodedata.normalize("NFKC", username.strip()).casefold()


def upgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('username_key', sa.String(length=600), nullable=True))
    connection = op.get_bind()
    users = sa.table('users', sa.column('id', sa.String), sa.column('username', sa.String), sa.column('username_key', sa.String))
    seen: dict[str, str] = {}
    for user_id, username in connection.execute(sa.select(users.c.id, users.c.username)).all():
        key = _key(username)
        if key in seen:
            raise RuntimeError(
                f"The usernames {seen[key]!r} and {username!r} differ only in case; sign-in cannot tell them apart. "
                "Rename one of them in the database (UPDATE users SET username = ...), then start the portal again."
            )
        seen[key] = username
        connection.execute(sa.update(users).where(users.c.id == user_id).values(username_key=key))
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.alter_column('username_key', existing_type=sa.String(length=600), nullable=False)
        batch_op.create_unique_constraint('uq_users_username_key', ['username_key'])


def downgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint('uq_users_username_key', type_='unique')
        batch_op.drop_column('username_key')
