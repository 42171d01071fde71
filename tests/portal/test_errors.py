"""Bad requests get the error envelope with the documented status, and store nothing."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from portal.models import TeamRow
from tests.portal.conftest import Portal, World


def _error(response: object, status: int, code: str) -> dict:
    assert response.status_code == status, response.text  # type: ignore[attr-defined]
    body = response.json()  # type: ignore[attr-defined]
    assert set(body) >= {"error"} and set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code and body["error"]["message"]
    return body["error"]


def _teams(portal: Portal) -> int:
    with portal.db.plain() as session:
        return int(session.scalar(select(func.count()).select_from(TeamRow)))


def test_unknown_route_is_404_envelope(pg_portal: Portal) -> None:
    """An unknown address answers 404 not_found in the envelope."""
    _error(pg_portal.client.get("/api/v1/nothing/here"), 404, "not_found")


def test_wrong_method_is_405_envelope(pg_portal: Portal) -> None:
    """A known address with the wrong method answers 405 in the envelope."""
    _error(pg_portal.client.delete("/api/v1/sync/meta"), 405, "method_not_allowed")


def test_malformed_json_is_invalid_request_and_stores_nothing(pg_portal: Portal) -> None:
    """A body that is not JSON answers 422 invalid_request."""
    before = _teams(pg_portal)
    response = pg_portal.call("POST", "/admin/teams", headers={**pg_portal.admin, "Content-Type": "application/json"}, content=b'{"name": ')
    _error(response, 422, "invalid_request")
    assert _teams(pg_portal) == before


def test_validation_errors_name_each_bad_field(pg_portal: Portal) -> None:
    """Wrong types, missing fields and unknown fields are each named in details.fields."""
    body = {"uprn": 123, "address_lines": [], "town": "X", "property_type": "castle", "bedrooms": "two", "colour": "red"}
    error = _error(pg_portal.call("POST", "/admin/properties", headers=pg_portal.admin, json=body), 422, "invalid_request")
    assert set(error["details"]["fields"]) == {"uprn", "address_lines", "postcode", "property_type", "bedrooms", "colour"}


def test_login_with_unknown_field_is_refused(pg_portal: Portal) -> None:
    """Request bodies refuse unknown fields."""
    body = {"username": "a", "password": "b", "device_id": "c", "admin": True}
    error = _error(pg_portal.call("POST", "/auth/login", json=body), 422, "invalid_request")
    assert "admin" in error["details"]["fields"]


def test_wrong_content_type_is_415(pg_portal: Portal) -> None:
    """A JSON endpoint given form data answers 415 unsupported_media and stores nothing."""
    before = _teams(pg_portal)
    response = pg_portal.call("POST", "/admin/teams", headers={**pg_portal.admin, "Content-Type": "text/plain"}, content=json.dumps({"name": "x"}))
    _error(response, 415, "unsupported_media")
    assert _teams(pg_portal) == before


@pytest.mark.parametrize("path", ["/admin/teams", "/auth/login"])
def test_oversized_body_is_413(pg_portal: Portal, path: str) -> None:
    """A body over the limit answers 413 payload_too_large before anything runs."""
    before = _teams(pg_portal)
    big = json.dumps({"name": "x" * (pg_portal.settings.max_body_bytes + 10)})
    response = pg_portal.call("POST", path, headers={**pg_portal.admin, "Content-Type": "application/json"}, content=big)
    _error(response, 413, "payload_too_large")
    assert _teams(pg_portal) == before


def test_query_parameters_are_validated(world: World) -> None:
    """A pull limit outside 1..1000 or a negative cursor answers 422 naming the parameter."""
    for query, name in (("limit=0", "limit"), ("limit=1001", "limit"), ("cursor=-1", "cursor"), ("cursor=abc", "cursor")):
        error = _error(world.portal.call("GET", f"/sync/pull?{query}", headers=world.auth["officer1"]), 422, "invalid_request")
        assert name in error["details"]["fields"]
