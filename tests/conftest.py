"""Shared fixtures: a fresh PostgreSQL database per session and seeded background portals.

``pg_url``: a uniquely named database created from the ``postgres`` database and
dropped at the end (several engineers' suites run at once). ``portal_sqlite`` and
``portal_pg``: a ``portal.server.BackgroundPortal`` serving on 127.0.0.1, seeded with
the fictional council; ``.accounts`` lists the demo accounts (``portal.seed.DemoAccount``).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

# Password hashing at production cost would dominate the suite; tests use a tiny scrypt cost.
os.environ.setdefault("FIELDAPP_PORTAL_KDF_N", "16")

PG_ADMIN_DSN = os.environ.get("FIELDAPP_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


def _admin_execute(sql: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as connection:
        connection.execute(sql)


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def create_pg_database(prefix: str = "fieldapp_t") -> str:
    """Create a uniquely named PostgreSQL database; returns its SQLAlchemy URL."""
    name = f"{prefix}_{os.getpid()}_{secrets.token_hex(4)}"
    try:
        _admin_execute(f'CREATE DATABASE "{name}"')
    except Exception as exc:  # noqa: BLE001 - any failure means: no PostgreSQL here
        message = f"PostgreSQL at 127.0.0.1:5432 is not available ({exc}); run `make postgres`."
        if _in_ci():
            pytest.fail(message)  # CI must never pass by skipping the portal's real database
        pytest.skip(message)
    base = PG_ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    return f"{base}/{name}"


def drop_pg_database(url: str) -> None:
    """Drop a database made by ``create_pg_database`` (connections are closed by force)."""
    name = url.rsplit("/", 1)[1]
    _admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def fresh_pg_database(prefix: str = "fieldapp_t") -> Iterator[str]:
    """A database made by ``create_pg_database`` for the ``with`` block, dropped on leaving it."""
    url = create_pg_database(prefix)
    try:
        yield url
    finally:
        drop_pg_database(url)


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for this test session."""
    with fresh_pg_database() as url:
        yield url


def _seeded_portal(database_url: str, blob_dir: Path) -> Iterator[object]:
    from portal.seed import seed
    from portal.server import start_background

    from portal.core.config import PortalSettings

    result = seed(database_url, 60)
    # One portal serves the whole session from one address (127.0.0.1), and several tests
    # type a wrong password on purpose: with the served limits, their failures would add up
    # and throttle later, unrelated tests. The throttle itself is tested on its own portals
    # (tests/portal/test_throttle.py) with the shipped limits.
    settings = PortalSettings.from_env(database_url=database_url, blob_dir=Path(blob_dir),
                                       login_max_failures=1000, login_address_max_failures=1000)
    with start_background(database_url, blob_dir, settings=settings) as portal:
        portal.accounts = result.accounts
        yield portal


@pytest.fixture(scope="session")
def portal_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """A seeded portal on a SQLite file, serving over real HTTP."""
    root = tmp_path_factory.mktemp("portal_sqlite")
    yield from _seeded_portal(f"sqlite:///{root / 'portal.db'}", root / "blobs")


@pytest.fixture(scope="session")
def portal_pg(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """A seeded portal on its own fresh PostgreSQL database, serving over real HTTP."""
    root = tmp_path_factory.mktemp("portal_pg")
    with fresh_pg_database("fieldapp_tp") as url:
        yield from _seeded_portal(url, root / "blobs")
