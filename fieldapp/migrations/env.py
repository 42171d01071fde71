"""Alembic environment of the local store.

`fieldapp.db` runs migrations with a connection it has already opened (foreign keys
off, inside its transaction) and passes it in ``config.attributes["connection"]``.
Run by hand (``alembic revision --autogenerate``), a database URL may be given with
``-x url=sqlite:///path`` instead.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine

from fieldapp.models import Base

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    url = context.get_x_argument(as_dictionary=True).get("url")
    if not url:
        raise SystemExit("Give a database: alembic -x url=sqlite:///path/to/fieldapp.db ...")
    with create_engine(url).connect() as conn:
        _run(conn)
