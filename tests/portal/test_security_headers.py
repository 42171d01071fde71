"""Security headers on every answer, and database errors that never log bound values."""

from __future__ import annotations

import logging
import uuid
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert
from sqlalchemy.exc import DBAPIError

from portal.core.config import PortalSettings
from portal.main import create_app
from portal.models import UserRow
from tests.portal.conftest import API, Portal, World


def _assert_secure(headers: dict[str, str] | object) -> None:
    h = {k.lower(): v for k, v in headers.items()}  # type: ignore[attr-defined]
    assert h["x-content-type-options"] == "nosniff"
    assert h["cache-control"] == "no-store"
    assert h["referrer-policy"] == "no-referrer"
    assert h["x-frame-options"] == "DENY" and "frame-ancestors 'none'" in h["content-security-policy"]


def test_every_answer_carries_the_security_headers(world: World) -> None:
    """Login (a token), pull (personal data), errors, 404s and health all carry nosniff, no-store, referrer and framing rules."""
    portal = world.portal
    name = portal.call("GET", "/me", headers=world.auth["officer1"]).json()["username"]
    answers = [
        portal.call("POST", "/auth/login", json={"username": name, "password": "correct horse battery", "device_id": "h"}),
        portal.call("GET", "/sync/pull", headers=world.auth["officer1"]),
        portal.call("GET", "/sync/pull"),
        portal.call("GET", "/no/such/route"),
        portal.client.get("/health"),
    ]
    assert [a.status_code for a in answers] == [200, 200, 401, 404, 200]
    for answer in answers:
        _assert_secure(answer.headers)
        assert "strict-transport-security" not in answer.headers  # plain http: HSTS means nothing there


def test_hsts_over_https_and_from_a_trusted_proxy(pg_portal: Portal, tmp_path: Path) -> None:
    """HSTS is sent on https, and on http only when a trusted proxy says the client used https."""
    https = TestClient(pg_portal.client.app, base_url="https://portal.example")
    assert "max-age=" in https.get("/health").headers["strict-transport-security"]
    spoofed = pg_portal.client.get("/health", headers={"X-Forwarded-Proto": "https"})
    assert "strict-transport-security" not in spoofed.headers
    settings = PortalSettings.from_env(database_url=pg_portal.settings.database_url, blob_dir=tmp_path, trusted_proxies=("10.0.0.0/8",))
    behind = TestClient(create_app(settings, pg_portal.db), client=("10.1.2.3", 40000))
    assert "strict-transport-security" in behind.get("/health", headers={"X-Forwarded-Proto": "https"}).headers


def test_an_unexpected_failure_carries_the_headers_too(pg_portal: Portal, tmp_path: Path) -> None:
    """A 500 (answered outside the middleware stack) still says nosniff and no-store."""
    app = create_app(pg_portal.settings, pg_portal.db)

    @app.get(f"{API}/boom")
    def boom() -> None:
        raise RuntimeError("boom")

    answer = TestClient(app, raise_server_exceptions=False).get(f"{API}/boom")
    assert answer.status_code == 500
    _assert_secure(answer.headers)


@pytest.mark.parametrize("failure", ["duplicate key", "null in a required column"])
def test_a_failing_statement_logs_no_bound_values(any_portal: Portal, caplog: pytest.LogCaptureFixture, failure: str) -> None:
    """The error of a failing INSERT (and the log it goes to) holds none of the row's values: no hash, no name."""
    secret_hash, secret_name = f"scrypt$16$8$1$SECRETSALT{uuid.uuid4().hex}", f"Resident {uuid.uuid4().hex}"
    row = {"id": f"dup-{uuid.uuid4().hex[:8]}", "username": f"x-{uuid.uuid4().hex}", "display_name": secret_name, "role": "officer",
           "password_hash": secret_hash, "version": 1, "seq": 1}
    if failure == "duplicate key":
        with any_portal.db.plain(writes=True) as session:
            session.execute(insert(UserRow).values(**row))
        bad = {**row, "username": f"y-{uuid.uuid4().hex}"}
    else:
        bad = {**row, "role": None}  # PostgreSQL's DETAIL would quote the whole failing row
    with caplog.at_level(logging.DEBUG):
        with pytest.raises(DBAPIError) as raised:
            with any_portal.db.plain(writes=True) as session:
                session.execute(insert(UserRow).values(**bad))
        logging.getLogger("portal.errors").exception("Unexpected failure", exc_info=raised.value)
    text = str(raised.value) + caplog.text
    assert "SECRETSALT" not in text and secret_name not in text
    assert "hidden" in str(raised.value)
