"""Hazard reports from the field on PostgreSQL and SQLite: the op opens a case with its own clock for the reporter's team."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest

from portal.services.hazard_reports import aware_at, case_type_for
from sync.protocol import format_timestamp, parse_timestamp, utc_now
from tests.portal.conftest import World


def _report(world: World, prop: str = "prop1", **data: Any) -> dict[str, Any]:
    body = {"property_id": world.ids[prop], "from_case_id": world.ids["case1"], "hazards": ["Damp and mould growth"],
            "description": "Black mould behind the wardrobe in the child's bedroom", "observed_at": format_timestamp(utc_now())}
    body.update(data)
    return {"op_id": str(uuid.uuid4()), "entity": "hazard_report", "id": str(uuid.uuid4()), "kind": "create", "base_version": 0, "data": body}


def _pulled_case(world: World, who: str, case_id: str) -> dict[str, Any] | None:
    changes, _ = world.portal.pull_all(world.auth[who])
    found = [c for c in changes if c["entity"] == "case" and c["id"] == case_id and not c["deleted"]]
    return found[-1] if found else None


def test_report_opens_a_case_for_the_team(any_world: World) -> None:
    """Applied with the case's version and seq; an unassigned officer-sourced case of the team, pulled by the reporter and the team's leads only."""
    world = any_world
    observed = utc_now() - timedelta(hours=3)
    op = _report(world, observed_at=format_timestamp(observed))
    result = world.portal.push(world.auth["officer1"], [op])[0]
    assert result["status"] == "applied" and result["version"] == 1 and result["seq"] > 0
    change = _pulled_case(world, "officer1", op["id"])
    assert change is not None and change["seq"] == result["seq"]
    case = change["data"]
    assert case["source"] == "officer" and case["assigned_officer_id"] is None and case["team_id"] == world.ids["team_a"]
    assert case["status"] == "open" and case["case_type"] == "damp_mould" and case["priority"] == "urgent"
    assert case["reported_hazards"] == ["Damp and mould growth"] and case["property_id"] == world.ids["prop1"]
    assert abs(parse_timestamp(case["aware_at"]) - observed) < timedelta(seconds=1)
    assert case["awaab"] is True and [c["stage"] for c in case["clocks"]] == ["investigate"]
    assert case["description"].startswith("Black mould")
    assert _pulled_case(world, "lead_a", op["id"]) is not None
    assert _pulled_case(world, "officer2", op["id"]) is None and _pulled_case(world, "lead_b", op["id"]) is None
    replay = world.portal.push(world.auth["officer1"], [op])[0]
    assert replay["status"] == "duplicate" and replay["seq"] == result["seq"]


def test_emergency_report_and_repair_type(any_world: World) -> None:
    """An emergency report about a fire hazard is a repair case due 24 hours from when the portal received it."""
    world = any_world
    op = _report(world, hazards=["Fire"], priority="emergency", observed_at="2020-01-01T00:00:00Z")
    before = utc_now()
    assert world.portal.push(world.auth["officer1"], [op])[0]["status"] == "applied"
    case = _pulled_case(world, "lead_a", op["id"])["data"]  # type: ignore[index]
    assert case["case_type"] == "repair" and case["priority"] == "emergency"
    aware = parse_timestamp(case["aware_at"])  # an old observation does not move awareness back
    assert before - timedelta(seconds=1) <= aware <= utc_now()
    assert parse_timestamp(case["clocks"][0]["due_at"]) == aware + timedelta(hours=24)


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"property_id": "prop2"}, "not_found"),                      # not the caller's property
        ({"hazards": ["Ghosts"]}, "invalid_request"),
        ({"hazards": []}, "invalid_request"),
        ({"priority": "soon"}, "invalid_request"),
        ({"photo_ids": [str(uuid.uuid4())]}, "invalid_request"),      # photos need their visit
        ({"observed_at": "yesterday"}, "invalid_request"),
    ],
)
def test_bad_reports_are_rejected(any_world: World, change: dict[str, Any], code: str) -> None:
    """Each bad report is rejected with a code, and creates nothing."""
    world = any_world
    data = dict(change)
    if data.get("property_id") == "prop2":
        data["property_id"] = world.ids["prop2"]
        data.pop("from_case_id", None)
    op = _report(world, **data)
    if change.get("property_id"):
        op["data"].pop("from_case_id")
    result = world.portal.push(world.auth["officer1"], [op])[0]
    assert result["status"] == "rejected" and result["error"]["code"] == code, result
    assert _pulled_case(world, "lead_a", op["id"]) is None


def test_report_names_photos_of_its_visit(any_world: World) -> None:
    """A report from a submitted visit may only name that visit's photos; a visit not yet on the portal is accepted."""
    world = any_world
    visit = world.visit_op("officer1", "case1")
    assert world.portal.push(world.auth["officer1"], [visit])[0]["status"] == "applied"
    stranger = world.portal.push(world.auth["officer1"], [_report(world, visit_id=visit["id"], photo_ids=[str(uuid.uuid4())])])[0]
    assert stranger["status"] == "rejected" and "photo_ids" in stranger["error"]["details"]["fields"]
    ahead = world.portal.push(world.auth["officer1"], [_report(world, visit_id=str(uuid.uuid4()))])[0]
    assert ahead["status"] == "applied"
    other = world.portal.push(world.auth["officer_b"], [_report(world, "prop2", from_case_id=world.ids["case_b"], visit_id=visit["id"])])[0]
    assert other["status"] == "rejected" and other["error"]["code"] == "not_found"


def test_reused_case_id_and_admins(any_world: World) -> None:
    """A report with an existing case's id is rejected; an admin has no properties to report on."""
    world = any_world
    op = _report(world)
    op["id"] = world.ids["case1"]
    assert world.portal.push(world.auth["officer1"], [op])[0]["error"]["code"] == "invalid_request"
    assert world.portal.push(world.portal.admin, [_report(world)])[0]["error"]["code"] == "not_found"


@pytest.mark.parametrize(
    ("observed", "expected"),
    [
        ("2026-12-01T09:00:00Z", "2026-12-01T09:00:00Z"),   # 3 hours before receipt
        ("2026-11-30T12:00:00Z", "2026-11-30T12:00:00Z"),   # exactly 24 hours before
        ("2026-11-30T11:59:59Z", "2026-12-01T12:00:00Z"),   # older: receipt
        ("2026-12-01T13:00:00Z", "2026-12-01T12:00:00Z"),   # a laptop clock ahead: receipt
    ],
)
def test_aware_at_rule(observed: str, expected: str) -> None:
    """aware_at is the receipt unless the hazard was observed earlier and within 24 hours."""
    received = parse_timestamp("2026-12-01T12:00:00Z")
    assert format_timestamp(aware_at(parse_timestamp(observed), received)) == expected


def test_case_type_rule() -> None:
    """Damp and mould among the hazards makes a damp_mould case, anything else a repair."""
    assert case_type_for(["Excess cold", "Damp and mould growth"]) == "damp_mould"
    assert case_type_for(["Falls on stairs"]) == "repair"


def test_reporter_pulls_in_pages_and_gets_the_tombstone(any_world: World) -> None:
    """Page by page the reporter gets the case once; once closed and purged it leaves their laptop as a tombstone."""
    from portal.services.records import purge_closed_cases

    world = any_world
    stranger = world.portal.push(world.auth["officer2"], [_report(world, from_case_id=None)])[0]
    assert stranger["error"]["code"] == "not_found"  # officer2 has no case at prop1
    _, cursor = world.portal.pull_all(world.auth["officer1"])
    mine = _report(world)
    assert world.portal.push(world.auth["officer1"], [mine])[0]["status"] == "applied"
    changes, cursor = world.portal.pull_all(world.auth["officer1"], cursor, limit=1)
    assert [c["id"] for c in changes if c["entity"] == "case"] == [mine["id"]]
    closed = world.portal.call("PATCH", f"/admin/cases/{mine['id']}", headers=world.portal.admin, json={"status": "closed"})
    assert closed.status_code == 200
    with world.portal.db.write() as session:
        purge_closed_cases(session, -1)
    changes, _ = world.portal.pull_all(world.auth["officer1"], cursor, limit=1)
    assert ("case", mine["id"], True) in {(c["entity"], c["id"], c["deleted"]) for c in changes}
