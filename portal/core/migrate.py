"""Schema migrations, run programmatically when the portal starts or seeds.

Several portal processes may start at once against one PostgreSQL database: the
upgrade runs under a PostgreSQL advisory lock, so one migrates and the others wait.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, insert, select, text
from sqlalchemy.orm import Session

from portal.core.db import HORIZON_COUNTER, SEQ_COUNTER
from portal.models import CounterRow

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
# An arbitrary constant that names "fieldapp portal schema migration" among advisory locks.
_ADVISORY_KEY = 7_305_113_001


def alembic_config() -> Config:
    """The Alembic configuration of the portal's migrations."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def _store_shipped(connection: Connection) -> None:
    # Imported here: the services build on the models this module migrates.
    from portal.services.shipped import ensure_shipped

    with Session(bind=connection) as session:
        ensure_shipped(session)
        session.commit()


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest revision and make sure the counters exist."""
    config = alembic_config()
    with engine.connect() as connection:
        postgres = connection.dialect.name == "postgresql"
        if postgres:
            connection.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _ADVISORY_KEY})
            connection.commit()
        try:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
            connection.commit()
            for name in (SEQ_COUNTER, HORIZON_COUNTER):
                if connection.execute(select(CounterRow.name).where(CounterRow.name == name)).first() is None:
                    connection.execute(insert(CounterRow).values(name=name, value=0))
            connection.commit()
            _store_shipped(connection)
        finally:
            if postgres:
                connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _ADVISORY_KEY})
                connection.commit()
