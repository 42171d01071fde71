"""In CI a PostgreSQL test that cannot reach the server fails; elsewhere it skips with what to run."""

from __future__ import annotations

import pytest

import tests.conftest as suite

_NOWHERE = "postgresql://postgres@127.0.0.1:1/postgres"


@pytest.mark.parametrize("ci, outcome", [("true", pytest.fail.Exception), ("", pytest.skip.Exception)])
def test_unreachable_postgres(monkeypatch: pytest.MonkeyPatch, ci: str, outcome: type[BaseException]) -> None:
    monkeypatch.setattr(suite, "PG_ADMIN_DSN", _NOWHERE)
    monkeypatch.setenv("CI", ci)
    with pytest.raises(outcome, match="make postgres"):
        suite.create_pg_database()
