"""Schemathesis against a live loopback portal on PostgreSQL, as officer, lead and admin.

Every operation of the served OpenAPI schema is called with generated requests, valid
and invalid, under each role; every answer must be no 5xx and conform to the schema
(status code, content type, headers, body), and invalid data must be refused. Bounded
and seeded: a few examples per operation and mode (``FIELDAPP_FUZZ_EXAMPLES`` raises
it for a deeper run), Hypothesis derandomised, so the run takes about a minute and is
the same every time.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

schemathesis = pytest.importorskip("schemathesis")

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis.errors import Unsatisfiable  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.generation import GenerationMode  # noqa: E402
from schemathesis.specs.openapi.checks import (  # noqa: E402
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import fresh_pg_database  # noqa: E402

_EXAMPLES = 8
#: Examples of an admin operation for the other roles: each is refused 403 whatever the body.
_REFUSED_EXAMPLES = 3
_CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
           response_schema_conformance]
#: Operations that end the caller's session run last, so the rest is fuzzed signed in.
_SESSION_ENDING = ("/auth/logout", "/auth/logout-all", "/auth/password")


@pytest.fixture(scope="module")
def fuzz_portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A seeded portal of this module alone, on its own PostgreSQL database."""
    from portal.seed import seed
    from portal.server import start_background

    with fresh_pg_database("fieldapp_fz") as url:
        accounts = seed(url, 12).accounts
        with start_background(url, tmp_path_factory.mktemp("fuzz") / "blobs") as portal:
            portal.accounts = accounts
            # Every role signs in before any fuzzing: generated sign-ins soon throttle this address.
            portal.tokens = {role: _token(portal, role) for role in ("officer", "lead", "admin")}
            yield portal


def _token(portal: Any, role: str) -> str:
    account = next(a for a in portal.accounts if a.role == role)
    response = requests.post(f"{portal.url}/api/v1/auth/login", timeout=30,
                             json={"username": account.username, "password": account.password, "device_id": f"fuzz-{role}"})
    assert response.status_code == 200, response.text
    return str(response.json()["token"])


def _operations(schema: Any) -> list[Any]:
    operations = [result.ok() for result in schema.get_all_operations()]
    return sorted(operations, key=lambda op: (op.path.endswith(_SESSION_ENDING), op.path, op.method))


def _examples(operation: Any, role: str, examples: int) -> int:
    if role != "admin" and "/admin/" in operation.path:
        return min(examples, _REFUSED_EXAMPLES)
    return examples


def _fuzz(operation: Any, mode: GenerationMode, examples: int) -> str | None:
    """Run one operation in one mode; the first failure as text, or None."""
    checks = _CHECKS + ([negative_data_rejection] if mode is GenerationMode.NEGATIVE else [])
    failure: list[str] = []

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=examples, deadline=None, derandomize=True, database=None, print_blob=False,
              suppress_health_check=list(HealthCheck))
    def run(case: Any) -> None:
        case.call_and_validate(checks=checks, timeout=30)

    try:
        run()
    except Unsatisfiable:
        return None  # no invalid request exists (an operation without parameters or body)
    except Exception as exc:  # noqa: BLE001 - each operation's failure is collected, then all reported
        failure.append(f"{operation.method.upper()} {operation.path} ({mode.value}): {exc}")
    return failure[0] if failure else None


@pytest.mark.parametrize("role", ["officer", "lead", "admin"])
def test_every_answer_conforms_to_the_schema(fuzz_portal: Any, role: str, tmp_path: Path) -> None:
    """No 500 and no answer that contradicts the served schema, for each operation as this role."""
    schema = schemathesis.openapi.from_url(f"{fuzz_portal.url}/api/v1/openapi.json")
    schema.config.base_url = fuzz_portal.url  # type: ignore[attr-defined]
    schema.config.update(headers={"Authorization": f"Bearer {fuzz_portal.tokens[role]}"})
    examples = int(os.environ.get("FIELDAPP_FUZZ_EXAMPLES", _EXAMPLES))
    failures = [
        failure
        for operation in _operations(schema)
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
        if (failure := _fuzz(operation, mode, _examples(operation, role, examples))) is not None
    ]
    assert not failures, "\n\n".join(failures)
