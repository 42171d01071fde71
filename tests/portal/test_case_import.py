"""The CRM's case import (PROTOCOL.md revision 2, "Integration for the CRM"), on both backends.

JSON and CSV (byte-order mark, Windows line endings, quoted commas), a bad row among
good ones, duplicates inside one file, replays that change nothing (no new version,
nothing to pull), updates by external_ref with the clocks re-derived, scope grants for
the officers and leads the new cases reach, the audit, and external_ref on the single
case endpoints.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.portal.conftest import Portal, World, build_world
from tests.portal.test_audit import _events, _last_id

DAMP = "Damp and mould growth"


@pytest.fixture
def any_world(any_portal: Portal) -> World:
    """A fresh small world on each backend."""
    return build_world(any_portal)


def _row(world: World, ref: str, **extra: Any) -> dict[str, Any]:
    row = {
        "external_ref": ref, "reference": f"R-{uuid.uuid4().hex[:10]}", "case_type": "damp_mould", "priority": "routine",
        "summary": "Black mould in the back bedroom", "opened_at": "2026-03-02T09:00:00Z", "property_id": world.ids["prop1"],
        "resident_ids": [world.ids["res1"]], "assigned_officer_id": world.ids["officer1"], "team_id": world.ids["team_a"],
        "reported_hazards": [DAMP],
    }
    row.update(extra)
    return row


def _import(portal: Portal, body: Any, *, csv: bool = False, expect: int = 200) -> Any:
    if csv:
        response = portal.call("POST", "/admin/cases/import", headers={**portal.admin, "Content-Type": "text/csv"}, content=body)
    else:
        response = portal.call("POST", "/admin/cases/import", headers=portal.admin, json=body)
    assert response.status_code == expect, response.text
    return response.json()


def _case(portal: Portal, world: World, case_id: str) -> dict[str, Any]:
    """The case as its lead pulls it."""
    changes, _ = portal.pull_all(world.auth["lead_a"])
    [case] = [c for c in changes if c["entity"] == "case" and c["id"] == case_id]
    return case


def _ref() -> str:
    return f"CRM-{uuid.uuid4().hex[:10]}"


def test_json_import_creates_then_a_replay_changes_nothing(any_portal: Portal, any_world: World) -> None:
    """Created with the single endpoint's rules (source crm, clocks, due_at); the replay bumps no version and leaves nothing to pull."""
    rows = [_row(any_world, _ref()), _row(any_world, _ref(), priority="emergency", aware_at="2026-03-02T08:00:00Z")]
    results = _import(any_portal, rows)["results"]
    assert [r["status"] for r in results] == ["created", "created"] and [r["row"] for r in results] == [1, 2]
    routine = _case(any_portal, any_world, results[0]["id"])
    assert routine["version"] == 1 and routine["data"]["source"] == "crm" and routine["data"]["awaab"] is True
    assert routine["data"]["external_ref"] == rows[0]["external_ref"]
    [investigate] = routine["data"]["clocks"]
    assert investigate["stage"] == "investigate" and investigate["due_at"] == "2026-03-16T23:59:59Z"
    assert routine["data"]["due_at"] == investigate["due_at"]  # the earliest unmet clock's
    emergency = _case(any_portal, any_world, results[1]["id"])
    assert emergency["data"]["due_at"] == "2026-03-03T08:00:00Z"  # 24 h from aware_at

    _, cursor = any_portal.pull_all(any_world.auth["officer1"])
    _, lead_cursor = any_portal.pull_all(any_world.auth["lead_a"])
    again = _import(any_portal, rows)["results"]
    assert [(r["status"], r["id"]) for r in again] == [("unchanged", results[0]["id"]), ("unchanged", results[1]["id"])]
    assert any_portal.pull_all(any_world.auth["officer1"], cursor)[0] == []
    assert any_portal.pull_all(any_world.auth["lead_a"], lead_cursor)[0] == []
    assert _case(any_portal, any_world, results[0]["id"])["version"] == 1


def test_csv_with_bom_windows_lines_quoted_commas_and_a_bad_row(any_portal: Portal, any_world: World) -> None:
    """A spreadsheet's CSV: the good rows are created, the bad one says what to correct, and the replay is unchanged."""
    ids = any_world.ids
    good, bad, other = _ref(), _ref(), _ref()
    header = "external_ref,reference,case_type,priority,summary,description,opened_at,property_id,resident_ids,assigned_officer_id,team_id,reported_hazards"
    lines = [
        header,
        f'{good},R-{good},damp_mould,urgent,"Mould, bathroom and hall","She said: ""it is back""",2026-03-02T09:00:00Z,{ids["prop1"]},{ids["res1"]},{ids["officer1"]},{ids["team_a"]},{DAMP}',
        f'{bad},R-{bad},damp_mould,whenever,Leak,,2026-03-02T09:00:00Z,{uuid.uuid4()},,,{ids["team_a"]},Not a hazard',
        "",
        f'{other},R-{other},repair,routine,"Door, front",,2026-03-02T09:00:00Z,{ids["prop2"]},"[""{ids["res2"]}""]",,{ids["team_a"]},',
    ]
    body = ("\ufeff" + "\r\n".join(lines) + "\r\n").encode()
    results = _import(any_portal, body, csv=True)["results"]
    assert [r["status"] for r in results] == ["created", "rejected", "created"] and [r["row"] for r in results] == [1, 2, 3]
    error = results[1]["error"]
    assert set(error["fields"]) == {"priority"}  # the model's rules first; the references are checked once it is a case
    assert "priority" in error["message"] and "'emergency'" in error["message"]
    first = _case(any_portal, any_world, results[0]["id"])["data"]
    assert first["summary"] == "Mould, bathroom and hall" and first["description"] == 'She said: "it is back"'
    assert first["resident_ids"] == [ids["res1"]] and first["reported_hazards"] == [DAMP] and first["priority"] == "urgent"
    third = _case(any_portal, any_world, results[2]["id"])["data"]
    assert third["summary"] == "Door, front" and third["resident_ids"] == [ids["res2"]] and third["assigned_officer_id"] is None

    fixed = body.replace(b",whenever,", b",routine,")
    replay = _import(any_portal, fixed, csv=True)["results"]
    assert [r["status"] for r in replay] == ["unchanged", "rejected", "unchanged"]
    assert set(replay[1]["error"]["fields"]) == {"property_id", "reported_hazards"}
    assert "No property has id" in replay[1]["error"]["fields"]["property_id"]


def test_duplicates_inside_one_file_are_rejected_the_second_time(any_portal: Portal, any_world: World) -> None:
    """The same external_ref (or reference) twice in a file: the first row counts, the later one is rejected naming it."""
    ref = _ref()
    first = _row(any_world, ref)
    results = _import(any_portal, [first, _row(any_world, ref, summary="Other"), _row(any_world, _ref(), reference=first["reference"])])["results"]
    assert [r["status"] for r in results] == ["created", "rejected", "rejected"]
    assert results[1]["error"]["fields"]["external_ref"].startswith("Row 1 of this import has the same external_ref")
    assert results[2]["error"]["fields"]["reference"].startswith("Row 1 of this import has the same reference")


def test_update_by_external_ref_recomputes_clocks_and_keeps_what_the_row_omits(any_portal: Portal, any_world: World) -> None:
    """A changed row updates the case as PATCH would: one new version, re-triaged clocks, omitted fields untouched."""
    ref = _ref()
    row = _row(any_world, ref)
    [created] = _import(any_portal, [row])["results"]
    assert any_portal.call("PATCH", f"/admin/cases/{created['id']}", headers=any_portal.admin, json={"status": "scheduled"}).status_code == 200
    changed = {**row, "priority": "emergency", "aware_at": "2026-03-02T09:00:00Z"}
    [updated] = _import(any_portal, [changed])["results"]
    assert updated == {"row": 1, "status": "updated", "id": created["id"]}
    case = _case(any_portal, any_world, created["id"])
    assert case["version"] == 3 and case["data"]["status"] == "scheduled" and case["data"]["priority"] == "emergency"
    assert case["data"]["due_at"] == "2026-03-03T09:00:00Z"
    assert _import(any_portal, [changed])["results"][0]["status"] == "unchanged"


def test_new_cases_bring_their_property_and_residents_into_scope(any_portal: Portal, any_world: World) -> None:
    """An officer given an imported case at a property new to them pulls it, with its residents; their lead too."""
    ids = any_world.ids
    _, cursor = any_portal.pull_all(any_world.auth["officer2"])
    _, lead_cursor = any_portal.pull_all(any_world.auth["lead_a"])
    rows = [_row(any_world, _ref(), property_id=ids["prop2"], resident_ids=[], assigned_officer_id=ids["officer2"])]
    [result] = _import(any_portal, rows)["results"]
    for who, since in (("officer2", cursor), ("lead_a", lead_cursor)):
        changes, _ = any_portal.pull_all(any_world.auth[who], since)
        got = {(c["entity"], c["id"]) for c in changes}
        assert {("case", result["id"]), ("property", ids["prop2"]), ("resident", ids["res2"])} <= got, who


def test_the_import_is_audited_without_field_values(any_portal: Portal, any_world: World) -> None:
    """One summary event per batch with the counts, and an event per case created or updated."""
    since = _last_id(any_portal)
    row = _row(any_world, _ref())
    results = _import(any_portal, [row, {"external_ref": _ref()}])["results"]
    mine = [e for e in _events(any_portal, since) if e["action"] in ("admin.import", "admin.create")]
    assert [e["action"] for e in mine] == ["admin.create", "admin.import"]
    assert mine[0]["entity_id"] == results[0]["id"] and "external_ref" in mine[0]["details"]["fields"]
    assert mine[1]["details"] == {"via": "api", "rows": 2, "created": 1, "updated": 0, "unchanged": 0, "rejected": 1}
    assert row["summary"] not in str(mine)


@pytest.mark.parametrize(("content_type", "body", "status", "says"), [
    ("application/json", b'{"external_ref": "x"}', 422, "JSON list"),
    ("application/json", b'[{"external_ref": "x"}, 3]', 422, "row 2 is not"),
    ("application/json", b"[{", 422, "not valid JSON"),
    ("text/csv", b"external_ref,colour\r\nx,red\r\n", 422, "Unknown column: 'colour'"),
    ("text/csv", b"reference\r\nx\r\n", 422, "Add an external_ref column"),
    ("text/csv", b"", 422, "empty"),
    ("text/csv", b"external_ref\r\n\xff\r\n", 422, "not UTF-8"),
    ("text/plain", b"external_ref\r\n", 415, "text/csv"),
])
def test_a_file_of_the_wrong_shape_is_refused_whole(sqlite_portal: Portal, content_type: str, body: bytes, status: int, says: str) -> None:
    """What no row can fix is one clear error, not a result per row."""
    response = sqlite_portal.call("POST", "/admin/cases/import", headers={**sqlite_portal.admin, "Content-Type": content_type}, content=body)
    assert response.status_code == status, response.text
    assert says in response.json()["error"]["message"]


def test_a_csv_line_with_an_unquoted_comma_is_rejected_alone(sqlite_portal: Portal) -> None:
    """A line with more cells than the header says to quote its commas."""
    body = b"external_ref,summary\r\nA-1,Mould, bathroom\r\nA-2,x\r\n"
    results = _import(sqlite_portal, body, csv=True)["results"]
    assert results[0]["status"] == "rejected" and "quote cells that hold a comma" in results[0]["error"]["message"]
    assert results[1]["status"] == "rejected" and "missing" in results[1]["error"]["fields"]["reference"]


def test_only_admins_import(world: World) -> None:
    """A lead is refused 403 like on every admin endpoint."""
    response = world.portal.call("POST", "/admin/cases/import", headers=world.auth["lead_a"], json=[])
    assert response.status_code == 403


def test_external_ref_on_the_single_case_endpoints(any_portal: Portal, any_world: World) -> None:
    """POST and PATCH take external_ref; another case's is a 422 naming it; the import then finds the case by it."""
    ref = _ref()
    case_id = any_world.case("with_ref", "officer1", external_ref=ref)
    body = {"reference": f"R-{uuid.uuid4().hex[:8]}", "case_type": "repair", "priority": "routine", "summary": "Tap",
            "opened_at": "2026-03-02T09:00:00Z", "property_id": any_world.ids["prop1"], "team_id": any_world.ids["team_a"], "external_ref": ref}
    taken = any_portal.call("POST", "/admin/cases", headers=any_portal.admin, json=body)
    assert taken.status_code == 422 and "external_ref" in taken.json()["error"]["details"]["fields"]
    other = any_portal.admin_post("cases", {**body, "external_ref": _ref()})
    patched = any_portal.call("PATCH", f"/admin/cases/{other['id']}", headers=any_portal.admin, json={"external_ref": ref})
    assert patched.status_code == 422 and "external_ref" in patched.json()["error"]["details"]["fields"]
    new_ref = _ref()
    renamed = any_portal.call("PATCH", f"/admin/cases/{case_id}", headers=any_portal.admin, json={"external_ref": new_ref})
    assert renamed.status_code == 200 and renamed.json()["external_ref"] == new_ref
    [result] = _import(any_portal, [_row(any_world, new_ref, reference=renamed.json()["reference"], resident_ids=[any_world.ids["res1"]],
                                         summary="Mould in bathroom", reported_hazards=[])])["results"]
    assert result["id"] == case_id and result["status"] == "unchanged"


def test_unstorable_values_reject_their_row_not_the_import(any_portal: Portal, any_world: World) -> None:
    """NUL in text or an integer beyond 64 bits is the row's rejection, never a 500; the good row still goes in."""
    rows = [_row(any_world, _ref(), summary="Mould\u0000"), _row(any_world, _ref(), description=2**70), _row(any_world, _ref())]
    results = _import(any_portal, rows)["results"]
    assert [r["status"] for r in results] == ["rejected", "rejected", "created"]
    assert all(r["error"]["code"] == "invalid_request" for r in results[:2])


def test_what_new_cases_touch_is_what_their_holders_then_see(any_portal: Portal, any_world: World) -> None:
    """The import grants without reading scope again (record_scope_changes(new_cases=True)): check it against the rules."""
    from portal.models import UserRow
    from portal.services.scope import caller_for, touched_by, visible

    ids = any_world.ids
    rows = [_row(any_world, _ref(), property_id=ids["prop2"], resident_ids=[ids["res2"]], assigned_officer_id=ids["officer2"]),
            _row(any_world, _ref(), assigned_officer_id=None)]
    results = _import(any_portal, rows)["results"]
    with any_portal.db.read() as session:
        for who, held in (("officer2", [0]), ("lead_a", [0, 1])):
            caller = caller_for(session.get(UserRow, ids[who]))
            props = {rows[i]["property_id"] for i in held}
            touched = touched_by(session, [results[i]["id"] for i in held], props, [r for i in held for r in rows[i]["resident_ids"]])
            seen = visible(session, caller, touched)
            assert seen == {("case", i) for i in touched.cases} | {("property", i) for i in touched.properties} | {("resident", i) for i in touched.residents}, who
