"""The migrations build exactly the schema the models describe, on both backends.

A model column added without its migration (or the other way round) would work in
tests that create tables from the models and break a council's upgraded portal.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

from portal.core import migrate
from portal.models import Base
from tests.conftest import create_pg_database, drop_pg_database


@pytest.mark.parametrize("backend", ["pg", "sqlite"])
def test_migrated_schema_matches_the_models(backend: str, tmp_path: Path) -> None:
    url = create_pg_database("fieldapp_mig") if backend == "pg" else f"sqlite:///{tmp_path / 'portal.db'}"
    engine = create_engine(url)
    try:
        migrate.upgrade(engine)
        with engine.connect() as connection:
            differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    finally:
        engine.dispose()
        if backend == "pg":
            drop_pg_database(url)
    assert differences == []
