"""Hostile input never causes a 500: NUL text, integers beyond 64 bits, text past the limits, reused op_ids."""

from __future__ import annotations

import json

import pytest

from fieldapp.limits import CAPTION_MAX_CHARS, COMMENT_MAX_CHARS, NOTES_MAX_CHARS, TEXT_ANSWER_MAX_CHARS
from tests.portal.conftest import Portal, World

BIG = 2**63


def test_nul_in_unauthenticated_login_is_422(any_portal: Portal) -> None:
    """A NUL in the login's username or password is 422 invalid_request on both backends, not a database error."""
    for body in ({"username": "a\x00b", "password": "x", "device_id": "d"}, {"username": "a", "password": "p\x00", "device_id": "d"}):
        response = any_portal.call("POST", "/auth/login", json=body)
        assert response.status_code == 422, response.text
        assert response.json()["error"]["code"] == "invalid_request"


def test_nul_in_admin_records_and_addresses_is_422(any_world: World) -> None:
    """NUL in an admin body, a free-form list, a path or a query string is 422, never 500."""
    portal = any_world.portal
    assert portal.call("POST", "/admin/teams", headers=portal.admin, json={"name": "T\x00"}).status_code == 422
    bad_resident = {"property_id": any_world.ids["prop1"], "full_name": "Ann", "warnings": ["dog\x00"]}
    assert portal.call("POST", "/admin/residents", headers=portal.admin, json=bad_resident).status_code == 422
    assert portal.call("PATCH", "/admin/cases/ab%00cd", headers=portal.admin, json={"summary": "x"}).status_code == 422
    assert portal.call("GET", "/admin/visits?status=sub%00mitted", headers=portal.admin).status_code == 422
    assert portal.call("PATCH", "/admin/cases/not-a-case", headers=portal.admin, json={"summary": "x"}).status_code == 404


@pytest.mark.parametrize("query", [f"/admin/visits?since={BIG}", f"/admin/visits?since={BIG * 4}", "/admin/visits?limit=99999999999999999999"])
def test_admin_integers_beyond_64_bits_are_422(any_portal: Portal, query: str) -> None:
    """`GET /admin/visits?since=2^63` (and beyond, and huge limits) is 422 invalid_request."""
    response = any_portal.call("GET", query, headers=any_portal.admin)
    assert response.status_code == 422 and response.json()["error"]["code"] == "invalid_request"


def test_pull_cursor_beyond_64_bits_is_422(any_world: World) -> None:
    """A pull cursor of 2^63 is 422 invalid_request."""
    response = any_world.portal.call("GET", f"/sync/pull?cursor={BIG}", headers=any_world.auth["officer1"])
    assert response.status_code == 422 and response.json()["error"]["code"] == "invalid_request"


def test_admin_body_integers_beyond_64_bits_are_422(any_world: World) -> None:
    """A body integer of 2^63 (bedrooms) or a non-finite number is 422, not a database error."""
    portal = any_world.portal
    prop = {"uprn": "1", "address_lines": ["1 Road"], "town": "T", "postcode": "HM1 2AB", "property_type": "house", "bedrooms": BIG}
    assert portal.call("POST", "/admin/properties", headers=portal.admin, json=prop).status_code == 422
    raw = json.dumps({"name": "x", "version": 1, "case_types": [], "sections": [{"id": "s", "title": "S", "questions": [
        {"id": "q", "label": "Q", "kind": "number", "min": float("nan")}]}]})
    response = portal.call("POST", "/admin/templates", headers={**portal.admin, "Content-Type": "application/json"}, content=raw)
    assert response.status_code == 422


def test_nul_and_big_integers_inside_an_op_reject_that_op_alone(any_world: World) -> None:
    """NUL in notes or an answer, or a 2^63 integer, rejects the op invalid_answers; the next op still applies."""
    ops = [
        any_world.visit_op("officer1", "case1", notes="bad\x00notes"),
        any_world.visit_op("officer1", "case1", answers={"mould": True, "rh": BIG}),
        any_world.visit_op("officer1", "case1", base_version=0, template_version=BIG),
        any_world.visit_op("officer1", "case1"),
    ]
    results = any_world.portal.push(any_world.auth["officer1"], ops)
    assert [r["status"] for r in results] == ["rejected", "rejected", "rejected", "applied"]
    assert {r["error"]["code"] for r in results[:3]} == {"invalid_answers"}
    assert "notes" in results[0]["error"]["details"]["questions"]


def test_text_past_the_limits_is_rejected(any_world: World) -> None:
    """Notes, a text answer or a review comment past the shared limits are rejected, each naming the field."""
    template = {"name": "Text", "version": 1, "case_types": ["damp_mould"], "sections": [{"id": "s", "title": "S", "questions": [
        {"id": "says", "label": "What the tenant says", "kind": "text"}]}]}
    template_id = any_world.portal.admin_post("templates", template)["id"]
    notes = any_world.visit_op("officer1", "case1", notes="x" * (NOTES_MAX_CHARS + 1))
    answer = any_world.visit_op("officer1", "case1", template_id=template_id, answers={"says": "y" * (TEXT_ANSWER_MAX_CHARS + 1)})
    fits = any_world.visit_op("officer1", "case1", notes="x" * NOTES_MAX_CHARS)
    results = any_world.portal.push(any_world.auth["officer1"], [notes, answer, fits])
    assert [r["status"] for r in results] == ["rejected", "rejected", "applied"]
    assert "notes" in results[0]["error"]["details"]["fields"]
    assert "says" in results[1]["error"]["details"]["questions"]
    comment = any_world.decide_op(fits["id"], "return", "z" * (COMMENT_MAX_CHARS + 1))
    [decided] = any_world.portal.push(any_world.auth["lead_a"], [comment])
    assert decided["status"] == "rejected" and "comment" in decided["error"]["details"]["fields"]
    assert CAPTION_MAX_CHARS < NOTES_MAX_CHARS


def test_reused_op_id_with_other_content_is_rejected(any_world: World) -> None:
    """The same op_id with different content is rejected op_id_reused; the same content stays duplicate."""
    first = any_world.visit_op("officer1", "case1", notes="first")
    assert any_world.portal.push(any_world.auth["officer1"], [first])[0]["status"] == "applied"
    assert any_world.portal.push(any_world.auth["officer1"], [first])[0]["status"] == "duplicate"
    changed = {**first, "data": {**first["data"], "notes": "second"}}
    [result] = any_world.portal.push(any_world.auth["officer1"], [changed])
    assert result["status"] == "rejected" and result["error"]["code"] == "op_id_reused"
    decide = any_world.decide_op(first["id"], "return", "Add photos")
    assert any_world.portal.push(any_world.auth["lead_a"], [decide])[0]["status"] == "applied"
    assert any_world.portal.push(any_world.auth["lead_a"], [decide])[0]["status"] == "duplicate"
    other = {**decide, "data": {**decide["data"], "comment": "Something else"}}
    assert any_world.portal.push(any_world.auth["lead_a"], [other])[0]["error"]["code"] == "op_id_reused"


def test_unknown_query_parameters_are_refused(any_world: World) -> None:
    """A query parameter the address does not take is 422 naming it, like an unknown body field."""
    response = any_world.portal.call("GET", "/sync/pull?cursor=0&curser=5", headers=any_world.auth["officer1"])
    assert response.status_code == 422 and "curser" in response.json()["error"]["details"]["fields"]
    assert any_world.portal.call("GET", "/sync/pull?cursor=0&limit=10", headers=any_world.auth["officer1"]).status_code == 200
