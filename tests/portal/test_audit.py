"""The audit log (PROTOCOL revision 2): what is recorded, GET /admin/audit, and that it holds no secrets."""

from __future__ import annotations

import hashlib
import json
import uuid
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from tests.portal.conftest import PASSWORD, Portal, World, jpeg_bytes
from tests.portal.test_statutory import ASSESSMENT


def _events(portal: Portal, since: int = 0) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    while True:
        answer = portal.call("GET", f"/admin/audit?since={since}&limit=1000", headers=portal.admin)
        assert answer.status_code == 200, answer.text
        page = answer.json()
        events += page["events"]
        since = page["next_since"]
        if not page["has_more"]:
            return events


def _last_id(portal: Portal) -> int:
    events = _events(portal)
    return events[-1]["id"] if events else 0


def test_audit_page_shape_order_and_paging(any_portal: Portal) -> None:
    """Events come in ascending id with every field the protocol names; since/limit page through them."""
    start = _last_id(any_portal)
    for _ in range(3):
        any_portal.admin_post("teams", {"name": "Audit team"})
    answer = any_portal.call("GET", f"/admin/audit?since={start}&limit=2", headers=any_portal.admin).json()
    assert len(answer["events"]) == 2 and answer["has_more"] is True
    assert answer["next_since"] == answer["events"][-1]["id"]
    first = answer["events"][0]
    assert set(first) == {"id", "at", "actor_id", "action", "entity", "entity_id", "device_id", "address", "details"}
    assert first["at"].endswith("Z") and first["action"] == "admin.create" and first["entity"] == "team"
    rest = any_portal.call("GET", f"/admin/audit?since={answer['next_since']}&limit=2", headers=any_portal.admin).json()
    ids = [e["id"] for e in answer["events"] + rest["events"]]
    assert ids == sorted(ids) and len(set(ids)) == 3 and rest["has_more"] is False


def test_audit_is_admin_only_and_checks_its_parameters(world: World) -> None:
    """Leads and officers get 403; a negative, non-integer or beyond-int64 since and a bad limit are 422."""
    portal = world.portal
    for who in ("lead_a", "officer1"):
        assert portal.call("GET", "/admin/audit", headers=world.auth[who]).status_code == 403
    assert portal.call("GET", "/admin/audit").status_code == 401
    for query in ("since=-1", "since=x", f"since={2**63}", "limit=0", "limit=1001"):
        assert portal.call("GET", f"/admin/audit?{query}", headers=portal.admin).status_code == 422, query


def test_audit_has_no_update_or_delete_endpoint(world: World) -> None:
    """PUT, PATCH and DELETE on the audit log are refused; the events stay as they were."""
    portal = world.portal
    before = _events(portal)
    for method in ("PUT", "PATCH", "DELETE", "POST"):
        assert portal.call(method, "/admin/audit", headers=portal.admin, json={}).status_code == 405
        assert portal.call(method, f"/admin/audit/{before[-1]['id']}", headers=portal.admin, json={}).status_code in (404, 405)
    assert _events(portal)[: len(before)] == before


def test_database_refuses_changing_audit_events(any_portal: Portal) -> None:
    """Even with SQL, audit events cannot be updated or deleted (append-only triggers)."""
    any_portal.admin_post("teams", {"name": "Trigger team"})
    for statement in ("UPDATE audit_events SET action = 'x'", "DELETE FROM audit_events"):
        with pytest.raises(DBAPIError, match="append-only"):
            with any_portal.db.plain(writes=True) as session:
                session.execute(text(statement))
    assert _events(any_portal)


def test_sign_ins_sign_outs_and_account_changes_are_recorded(any_portal: Portal) -> None:
    """A failure, a success, a password change, a logout and an admin's account change each leave an event with device and address."""
    start = _last_id(any_portal)
    name = f"aud-{uuid.uuid4().hex[:8]}"
    user = any_portal.admin_post("users", {"username": name, "display_name": "A", "role": "admin", "password": PASSWORD})
    any_portal.call("POST", "/auth/login", json={"username": name, "password": "wrong wrong wrong", "device_id": "dev-9"})
    headers = any_portal.login(name, device="dev-9")
    any_portal.call("POST", "/auth/password", headers=headers, json={"current_password": PASSWORD, "new_password": "moss lantern quiet"})
    any_portal.call("POST", "/auth/logout", headers=headers)
    any_portal.call("PATCH", f"/admin/users/{user['id']}", headers=any_portal.admin, json={"active": False, "display_name": "Gone"})
    events = [e for e in _events(any_portal, start) if e["entity_id"] == user["id"]]
    actions = [e["action"] for e in events]
    assert actions == ["admin.create", "auth.login_failed", "auth.login", "auth.password_changed", "auth.logout", "account.updated"]
    failed = events[1]
    assert failed["details"] == {"username": name, "reason": "invalid_credentials"} and failed["actor_id"] == user["id"]
    assert {e["device_id"] for e in events[1:5]} == {"dev-9"} and all(e["address"] == "testclient" for e in events)
    assert events[-1]["details"]["fields"] == ["display_name", "active"]


def test_pull_blob_read_op_and_review_are_recorded_without_field_values(world: World) -> None:
    """A pull says how many records of which entities; a photo read, an applied submit and a review decision are events; no values leak."""
    portal = world.portal
    start = _last_id(portal)
    image = jpeg_bytes()
    sha = hashlib.sha256(image).hexdigest()
    officer = world.auth["officer1"]
    put = portal.call("PUT", f"/blobs/{sha}", headers={**officer, "Content-Range": f"bytes 0-{len(image) - 1}/{len(image)}"}, content=image)
    assert put.status_code == 201, put.text
    photo = {"id": str(uuid.uuid4()), "sha256": sha, "content_type": "image/jpeg", "bytes": len(image), "width": 64, "height": 48, "caption": "Mould by window"}
    op = world.visit_op("officer1", "case1", notes="Tenant Grace Evans reports asthma", photos=[photo])
    assert portal.push(officer, [op])[0]["status"] == "applied"
    changes, _ = portal.pull_all(officer)
    assert portal.call("GET", f"/blobs/{sha}", headers=officer).status_code == 200
    decision = world.decide_op(op["id"], "return", "Add the humidity reading for the bedroom")
    assert portal.push(world.auth["lead_a"], [decision])[0]["status"] == "applied"
    events = _events(portal, start)
    mine = [e for e in events if e["actor_id"] == world.ids["officer1"]]
    pulls = [e for e in mine if e["action"] == "sync.pull"]
    counted: dict[str, int] = {}
    for pull in pulls:
        for entity, n in pull["details"]["records"].items():
            counted[entity] = counted.get(entity, 0) + n
    expected: dict[str, int] = {}
    for change in changes:
        expected[change["entity"]] = expected.get(change["entity"], 0) + 1
    assert counted == expected and counted["resident"] >= 1
    assert any(e["action"] == "blob.read" and e["entity_id"] == sha for e in mine)
    applied = [e for e in mine if e["action"] == "op.applied"]
    assert applied[-1]["entity"] == "visit" and applied[-1]["entity_id"] == op["id"] and applied[-1]["details"]["op_id"] == op["op_id"]
    review = [e for e in events if e["action"] == "review.decided"]
    assert review[-1]["actor_id"] == world.ids["lead_a"] and review[-1]["entity_id"] == op["id"] and review[-1]["details"]["decision"] == "return"
    text_of_log = json.dumps(events)
    for secret in ("Grace Evans", "asthma", "Mould by window", "humidity reading", "Dog on premises", PASSWORD,
                   officer["Authorization"].split()[1]):
        assert secret not in text_of_log, secret


def test_admin_changes_are_recorded_with_field_names_only(world: World) -> None:
    """Creating a resident and patching a case record the fields changed, never the values."""
    portal = world.portal
    start = _last_id(portal)
    resident = portal.admin_post("residents", {"property_id": world.ids["prop1"], "full_name": "Wiktoria Zielinska", "phone": "07700 900123", "warnings": ["Oxygen in use"]})
    portal.call("PATCH", f"/admin/cases/{world.ids['case1']}", headers=portal.admin, json={"summary": "Black mould in Wiktoria's bedroom"})
    events = _events(portal, start)
    created = next(e for e in events if e["entity_id"] == resident["id"])
    assert created["action"] == "admin.create" and "full_name" in created["details"]["fields"]
    patched = next(e for e in events if e["entity_id"] == world.ids["case1"])
    assert patched["action"] == "admin.update" and patched["details"]["fields"] == ["summary"]
    log = json.dumps(events)
    assert "Wiktoria" not in log and "07700" not in log and "Oxygen" not in log


def test_letters_and_statutory_rule_changes_are_recorded(world: World) -> None:
    """Reading a tenant's letter, adding a council bank holiday and recording a summary as issued are audit events."""
    portal = world.portal
    start = _last_id(portal)
    op = world.visit_op("officer1", "case1", assessment=ASSESSMENT)
    assert portal.push(world.auth["officer1"], [op])[0]["status"] == "applied"
    letter = portal.call("GET", f"/visits/{op['id']}/summary.pdf", headers=world.auth["officer1"])
    assert letter.status_code == 200, letter.text
    day = f"2031-0{uuid.uuid4().int % 9 + 1}-1{uuid.uuid4().int % 9}"
    holiday = portal.call("POST", "/admin/bank-holidays", headers=portal.admin, json={"date": day, "name": "Council day"})
    assert holiday.status_code in (201, 409), holiday.text
    issued = portal.call("POST", f"/admin/visits/{op['id']}/summary-issued", headers=portal.admin,
                         json={"method": "post", "issued_at": "2026-03-04T10:00:00Z"})
    assert issued.status_code == 200, issued.text
    events = _events(portal, start)
    assert any(e["action"] == "letter.read" and e["entity_id"] == op["id"] and e["actor_id"] == world.ids["officer1"] for e in events)
    if holiday.status_code == 201:
        assert any(e["action"] == "admin.create" and e["entity"] == "bank_holiday" and e["entity_id"] == day for e in events)
    assert any(e["action"] == "admin.update" and e["entity_id"] == op["id"] and e["details"]["fields"] == ["summary_issued"] for e in events)
