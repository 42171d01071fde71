"""The served portal has an OpenAPI schema that names every answer it gives, error envelopes included."""

from __future__ import annotations

from tests.portal.conftest import Portal


def test_schema_is_served_with_error_answers(sqlite_portal: Portal) -> None:
    """/api/v1/openapi.json lists each route with its success model and the errors it can answer."""
    response = sqlite_portal.client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    paths = schema["paths"]
    login = paths["/api/v1/auth/login"]["post"]["responses"]
    assert {"200", "401", "413", "415", "422", "429"} <= set(login)
    assert login["422"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ErrorResponse"}
    put = paths["/api/v1/blobs/{sha256}"]["put"]
    assert {"200", "201", "401", "404", "409", "413", "415", "422", "429"} <= set(put["responses"])
    assert "application/octet-stream" in put["requestBody"]["content"]
    assert {"401", "403"} <= set(paths["/api/v1/admin/teams"]["post"]["responses"])
    assert "410" in paths["/api/v1/sync/pull"]["get"]["responses"]
    assert "HTTPValidationError" not in schema["components"]["schemas"]
    assert set(paths["/api/v1/blobs/{sha256}"]["get"]["responses"]["200"]["content"]) == {"image/jpeg", "image/png"}


def test_undecodable_body_is_422_not_400(sqlite_portal: Portal) -> None:
    """A body that is not UTF-8 is 422 invalid_request like any body that is not JSON."""
    response = sqlite_portal.call("POST", "/auth/login", headers={"Content-Type": "application/json"}, content=b"\xff\xfe\x00bad")
    assert response.status_code == 422 and response.json()["error"]["code"] == "invalid_request"
