"""Admin endpoints: creation shapes, references checked, due dates, reassignment, visit export, role gate."""

from __future__ import annotations

import uuid

import pytest

from tests.portal.conftest import TEMPLATE, Portal, World


def test_created_records_carry_fields_id_and_version(pg_portal: Portal) -> None:
    """Each POST answers 201 with the fields sent plus id and version 1."""
    team = pg_portal.admin_post("teams", {"name": "Estates"})
    assert team["name"] == "Estates" and team["version"] == 1 and uuid.UUID(team["id"])
    user = pg_portal.admin_post("users", {"username": f"u-{uuid.uuid4().hex[:6]}", "display_name": "U", "role": "lead", "team_id": team["id"], "password": "long enough phrase"})
    assert "password" not in user and "password_hash" not in user and user["role"] == "lead"
    prop = pg_portal.admin_post("properties", {"uprn": "100023456789", "address_lines": ["Flat 2", "Ashdown Court"], "town": "Eastbrook", "postcode": "EB2 4QT", "property_type": "flat", "bedrooms": 1})
    assert prop["address_lines"] == ["Flat 2", "Ashdown Court"]
    resident = pg_portal.admin_post("residents", {"property_id": prop["id"], "full_name": "Mei Chen", "vulnerabilities": ["Aged over 75"], "warnings": ["Lone worker: visit in pairs"]})
    assert resident["warnings"] == ["Lone worker: visit in pairs"] and resident["phone"] is None
    template = pg_portal.admin_post("templates", TEMPLATE)
    assert template["version"] == 1 and template["sections"][0]["questions"][0]["id"] == "mould"
    case = pg_portal.admin_post("cases", {"reference": f"C-{uuid.uuid4().hex[:6]}", "case_type": "repair", "priority": "urgent", "summary": "Leak",
                                          "opened_at": "2026-03-06T16:00:00Z", "property_id": prop["id"], "resident_ids": [resident["id"]], "team_id": team["id"]})
    assert case["status"] == "open" and case["due_at"] == "2026-03-13T23:59:59Z" and case["assigned_officer_id"] is None


def test_case_due_at_given_is_kept(pg_portal: Portal, world: World) -> None:
    """A case created with due_at keeps it."""
    case_id = world.case("kept", "officer1", due_at="2026-04-01T12:00:00Z")
    changes, _ = pg_portal.pull_all(world.auth["officer1"])
    [case] = [c for c in changes if c["id"] == case_id]
    assert case["data"]["due_at"] == "2026-04-01T12:00:00Z"


def test_emergency_case_due_in_24_hours(world: World) -> None:
    """An emergency case created without due_at is due 24 hours after it opened."""
    body = {"reference": f"E-{uuid.uuid4().hex[:6]}", "case_type": "damp_mould", "priority": "emergency", "summary": "Ceiling collapse risk",
            "opened_at": "2026-12-24T15:30:00Z", "property_id": world.ids["prop1"], "team_id": world.ids["team_a"]}
    assert world.portal.admin_post("cases", body)["due_at"] == "2026-12-25T15:30:00Z"


def test_bad_references_name_each_field(world: World) -> None:
    """Unknown team, property, resident and officer ids are each named in a 422 invalid_request."""
    missing = str(uuid.uuid4())
    body = {"reference": "X-1", "case_type": "void", "priority": "routine", "summary": "s", "opened_at": "2026-03-02T09:00:00Z",
            "property_id": missing, "resident_ids": [missing], "assigned_officer_id": missing, "team_id": missing}
    response = world.portal.call("POST", "/admin/cases", headers=world.portal.admin, json=body)
    assert response.status_code == 422 and response.json()["error"]["code"] == "invalid_request"
    assert set(response.json()["error"]["details"]["fields"]) == {"property_id", "resident_ids.0", "assigned_officer_id", "team_id"}


def test_bad_timestamp_and_duplicate_username(world: World) -> None:
    """A malformed opened_at is 422 naming it; a taken username is 409 conflict."""
    body = {"reference": "X-2", "case_type": "void", "priority": "routine", "summary": "s", "opened_at": "yesterday",
            "property_id": world.ids["prop1"], "team_id": world.ids["team_a"]}
    response = world.portal.call("POST", "/admin/cases", headers=world.portal.admin, json=body)
    assert response.status_code == 422 and "opened_at" in response.json()["error"]["details"]["fields"]
    name = world.portal.call("GET", "/me", headers=world.auth["officer1"]).json()["username"]
    taken = world.portal.call("POST", "/admin/users", headers=world.portal.admin, json={"username": name, "display_name": "x", "role": "admin", "password": "long enough phrase"})
    assert taken.status_code == 409 and taken.json()["error"]["code"] == "conflict"


def test_template_with_repeated_ids_is_refused(world: World) -> None:
    """A template whose question ids repeat, or whose choice has no options, is 422 naming them."""
    section = {"id": "s", "title": "S", "questions": [{"id": "q", "label": "Q", "kind": "choice"}, {"id": "q", "label": "Q2", "kind": "text"}]}
    response = world.portal.call("POST", "/admin/templates", headers=world.portal.admin, json={**TEMPLATE, "sections": [section]})
    assert response.status_code == 422
    assert set(response.json()["error"]["details"]["fields"]) == {"sections.0.questions.0.options", "sections.0.questions.1.id"}


def test_patch_case(world: World) -> None:
    """PATCH changes only the given fields and bumps the version; unknown cases are 404; bad values 422."""
    response = world.portal.call("PATCH", f"/admin/cases/{world.ids['case1']}", headers=world.portal.admin, json={"status": "scheduled", "priority": "urgent"})
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "scheduled" and body["priority"] == "urgent" and body["version"] == 2 and body["summary"] == "Mould in bathroom"
    assert world.portal.call("PATCH", f"/admin/cases/{uuid.uuid4()}", headers=world.portal.admin, json={"status": "closed"}).status_code == 404
    bad = world.portal.call("PATCH", f"/admin/cases/{world.ids['case1']}", headers=world.portal.admin, json={"status": "lost", "summary": None})
    assert bad.status_code == 422 and set(bad.json()["error"]["details"]["fields"]) >= {"status"}


def test_visit_export_pages_by_seq(world: World) -> None:
    """GET /admin/visits lists visits by ascending seq after since, filtered by status, with next_since and has_more."""
    ops = [world.visit_op("officer1", "case1") for _ in range(3)]
    world.portal.push(world.auth["officer1"], ops)
    world.portal.push(world.auth["lead_a"], [world.decide_op(ops[0]["id"], "approve")])
    since = min(r["seq"] for r in world.portal.push(world.auth["officer1"], ops)) - 1
    first = world.portal.call("GET", f"/admin/visits?since={since}&limit=2", headers=world.portal.admin).json()
    assert first["has_more"] and len(first["visits"]) == 2
    assert [v["seq"] for v in first["visits"]] == sorted(v["seq"] for v in first["visits"])
    rest = world.portal.call("GET", f"/admin/visits?since={first['next_since']}&limit=1000", headers=world.portal.admin).json()
    ours = {v["id"] for v in first["visits"] + rest["visits"]} & {op["id"] for op in ops}
    assert ours == {op["id"] for op in ops} and not rest["has_more"]
    approved = world.portal.call("GET", f"/admin/visits?status=approved&since={since}", headers=world.portal.admin).json()["visits"]
    assert [v["id"] for v in approved] == [ops[0]["id"]] and approved[0]["review"]["decision"] == "approve"
    assert {"id", "version", "seq", "case_id", "officer_id", "answers", "status"} <= set(approved[0])
    bad = world.portal.call("GET", "/admin/visits?status=lost", headers=world.portal.admin)
    assert bad.status_code == 422


ADMIN_CALLS = [
    ("POST", "/admin/teams", {"name": "x"}),
    ("POST", "/admin/users", {"username": "x", "display_name": "x", "role": "admin", "password": "long enough phrase"}),
    ("POST", "/admin/properties", {}),
    ("POST", "/admin/residents", {}),
    ("POST", "/admin/templates", {}),
    ("POST", "/admin/cases", {}),
    ("PATCH", "/admin/cases/00000000-0000-0000-0000-000000000000", {}),
    ("GET", "/admin/visits", None),
]


@pytest.mark.parametrize("method,path,body", ADMIN_CALLS)
@pytest.mark.parametrize("who", ["officer1", "lead_a"])
def test_admin_endpoints_forbid_field_roles(world: World, who: str, method: str, path: str, body: dict | None) -> None:
    """Officers and leads get 403 forbidden from every admin endpoint; no token gets 401."""
    response = world.portal.call(method, path, headers=world.auth[who], json=body)
    assert response.status_code == 403 and response.json()["error"]["code"] == "forbidden"
    anonymous = world.portal.call(method, path, json=body)
    assert anonymous.status_code == 401 and anonymous.json()["error"]["code"] == "unauthenticated"
