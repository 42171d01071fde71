"""Alembic environment: run with the connection the portal hands over (see portal.core.migrate)."""

from __future__ import annotations

from alembic import context

from portal.models import Base

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
