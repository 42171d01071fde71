"""Pull: scope per role, paging, tombstones and grants, the resync horizon, commit-safe cursors."""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text, update

from portal.models import PullChainRow, ScopeChangeRow
from portal.services import scope
from portal.services.pull import purge_tombstones
from portal.services.sequence import horizon, utcnow
from portal.services.records import create_template
from sync.protocol import PullResponse, TemplateData
from tests.portal.conftest import TEMPLATE, Portal, World, build_world, make_portal


def _latest(changes: list[dict]) -> dict[tuple[str, str], dict]:
    """What a client holds after applying the changes in order."""
    state: dict[tuple[str, str], dict] = {}
    for change in changes:
        state[(change["entity"], change["id"])] = change
    return state


def _visible(world: World, who: str) -> set[tuple[str, str]]:
    changes, _ = world.portal.pull_all(world.auth[who])
    return {key for key, change in _latest(changes).items() if not change["deleted"]}


def test_officer_scope(world: World) -> None:
    """An officer sees their case, its property and residents, templates, themselves and their team — not others'."""
    seen = _visible(world, "officer1")
    ids = world.ids
    assert {("case", ids["case1"]), ("property", ids["prop1"]), ("resident", ids["res1"]), ("template", ids["template"]),
            ("user", ids["officer1"]), ("team", ids["team_a"])} <= seen
    for hidden in (("case", ids["case_b"]), ("property", ids["prop2"]), ("resident", ids["res2"]), ("user", ids["officer2"]), ("team", ids["team_b"])):
        assert hidden not in seen


def test_lead_scope(world: World) -> None:
    """A lead sees every case of the team, the team's users and the team members' visits, not another team's."""
    world.case("case_unassigned", None)
    op = world.visit_op("officer1", "case1")
    world.portal.push(world.auth["officer1"], [op])
    seen = _visible(world, "lead_a")
    ids = world.ids
    assert {("case", ids["case1"]), ("case", ids["case_unassigned"]), ("user", ids["officer1"]), ("user", ids["officer2"]),
            ("visit", op["id"])} <= seen
    assert ("case", ids["case_b"]) not in seen and ("user", ids["officer_b"]) not in seen
    assert ("visit", op["id"]) not in _visible(world, "lead_b")
    assert ("visit", op["id"]) not in _visible(world, "officer2")


def test_admin_pulls_no_field_data(world: World) -> None:
    """An admin's pull carries their own user record and the rules every caller pulls, no field data."""
    changes, _ = world.portal.pull_all(world.portal.admin)
    assert {c["entity"] for c in changes} <= {"user", "hazard_vocabulary", "awaab_schedule"}
    assert len([c for c in changes if c["entity"] == "user"]) == 1


def test_pages_ascend_and_never_repeat(world: World) -> None:
    """Small pages come in ascending seq above the cursor, one entry per record, and add up to the whole."""
    world.portal.push(world.auth["officer1"], [world.visit_op("officer1", "case1") for _ in range(4)])
    whole, final = world.portal.pull_all(world.auth["lead_a"], limit=1000)
    cursor, paged = 0, []
    while True:
        page = world.portal.call("GET", f"/sync/pull?cursor={cursor}&limit=3", headers=world.auth["lead_a"]).json()
        seqs = [c["seq"] for c in page["changes"]]
        assert seqs == sorted(seqs) and all(s > cursor for s in seqs) and len(seqs) <= 3
        keys = [(c["entity"], c["id"]) for c in page["changes"]]
        assert len(keys) == len(set(keys))
        paged += page["changes"]
        cursor = page["next_cursor"]
        if not page["has_more"]:
            break
    assert cursor == final
    assert _latest(paged) == _latest(whole)


def test_page_holds_latest_state(world: World) -> None:
    """A record changed twice appears once in a page, with its latest version."""
    op = world.visit_op("officer1", "case1")
    world.portal.push(world.auth["officer1"], [op])
    world.portal.push(world.auth["lead_a"], [world.decide_op(op["id"], "return", "More photos")])
    changes, _ = world.portal.pull_all(world.auth["officer1"])
    visits = [c for c in changes if c["id"] == op["id"]]
    assert len(visits) == 1 and visits[0]["version"] == 2 and visits[0]["data"]["status"] == "returned"


def test_reassignment_tombstones_case_property_and_residents(world: World) -> None:
    """Reassigning a case gives the old officer tombstones (case, property, residents) and the new one everything."""
    _, cursor1 = world.portal.pull_all(world.auth["officer1"])
    _, cursor2 = world.portal.pull_all(world.auth["officer2"])
    response = world.portal.call("PATCH", f"/admin/cases/{world.ids['case1']}", headers=world.portal.admin, json={"assigned_officer_id": world.ids["officer2"]})
    assert response.status_code == 200 and response.json()["version"] == 2
    old, _ = world.portal.pull_all(world.auth["officer1"], cursor1)
    gone = {(c["entity"], c["id"]) for c in old if c["deleted"]}
    assert gone == {("case", world.ids["case1"]), ("property", world.ids["prop1"]), ("resident", world.ids["res1"])}
    assert all(c["data"] is None for c in old if c["deleted"])
    new, _ = world.portal.pull_all(world.auth["officer2"], cursor2)
    got = {(c["entity"], c["id"]) for c in new if not c["deleted"]}
    assert {("case", world.ids["case1"]), ("property", world.ids["prop1"]), ("resident", world.ids["res1"])} <= got
    # The lead still sees the case (same team): no tombstone for them.
    lead, _ = world.portal.pull_all(world.auth["lead_a"])
    assert not any(c["deleted"] for c in lead)


def test_property_stays_while_another_case_references_it(world: World) -> None:
    """Losing one case keeps its property and residents when another case in scope still references them."""
    world.case("case1_again", "officer1")
    _, cursor = world.portal.pull_all(world.auth["officer1"])
    world.portal.call("PATCH", f"/admin/cases/{world.ids['case1']}", headers=world.portal.admin, json={"assigned_officer_id": world.ids["officer2"]})
    changes, _ = world.portal.pull_all(world.auth["officer1"], cursor)
    assert {(c["entity"], c["id"]) for c in changes if c["deleted"]} == {("case", world.ids["case1"])}


def test_own_visits_stay_after_reassignment(world: World) -> None:
    """An officer's own visit stays in their scope after the case moves on."""
    op = world.visit_op("officer1", "case1")
    world.portal.push(world.auth["officer1"], [op])
    world.portal.call("PATCH", f"/admin/cases/{world.ids['case1']}", headers=world.portal.admin, json={"assigned_officer_id": world.ids["officer2"]})
    assert ("visit", op["id"]) in _visible(world, "officer1")


def test_team_move_tombstones_for_old_lead(world: World) -> None:
    """Moving a case to another team tombstones it for the old team's lead and gives it to the new lead."""
    _, cursor = world.portal.pull_all(world.auth["lead_a"])
    world.portal.call("PATCH", f"/admin/cases/{world.ids['case1']}", headers=world.portal.admin,
                      json={"team_id": world.ids["team_b"], "assigned_officer_id": world.ids["officer_b"]})
    changes, _ = world.portal.pull_all(world.auth["lead_a"], cursor)
    assert ("case", world.ids["case1"]) in {(c["entity"], c["id"]) for c in changes if c["deleted"]}
    assert {("case", world.ids["case1"]), ("property", world.ids["prop1"])} <= _visible(world, "lead_b")


def test_cursor_below_horizon_is_410(world: World) -> None:
    """After old tombstones are purged, a cursor older than them answers 410 resync_required; 0 still works."""
    _, cursor = world.portal.pull_all(world.auth["officer1"])
    world.portal.call("PATCH", f"/admin/cases/{world.ids['case1']}", headers=world.portal.admin, json={"assigned_officer_id": world.ids["officer2"]})
    _, newest = world.portal.pull_all(world.auth["officer1"], cursor)
    with world.portal.db.write() as session:
        session.execute(update(ScopeChangeRow).where(ScopeChangeRow.user_id == world.ids["officer1"]).values(created_at=ScopeChangeRow.created_at - timedelta(days=31)))
        assert purge_tombstones(session, 30) >= 3
    stale = world.portal.call("GET", f"/sync/pull?cursor={cursor}", headers=world.auth["officer1"])
    assert stale.status_code == 410 and stale.json()["error"]["code"] == "resync_required"
    assert world.portal.call("GET", f"/sync/pull?cursor={newest}", headers=world.auth["officer1"]).status_code == 200
    assert world.portal.call("GET", "/sync/pull?cursor=0", headers=world.auth["officer1"]).status_code == 200


def _wait_until_blocked(portal: Portal) -> None:
    """Wait until a PostgreSQL backend of ours is waiting on a lock."""
    import time

    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with portal.db.engine.connect() as connection:
            waiting = connection.execute(
                text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()")
            ).scalar_one()
        if waiting:
            return
        threading.Event().wait(0.02)
    raise AssertionError("the second writer never blocked on the counter")


def test_slow_writer_is_never_skipped(pg_portal: Portal, world: World) -> None:
    """A writer that takes its seq and commits late is still pulled: later writers wait on the counter row."""
    _, cursor = pg_portal.pull_all(world.auth["officer1"])
    holding, release, results = threading.Event(), threading.Event(), {}

    def slow() -> None:
        with pg_portal.db.write() as session:
            template = create_template(session, TemplateData.model_validate({**TEMPLATE, "name": "slow"}))
            results["slow"], results["slow_seq"] = template.id, template.seq
            session.flush()
            holding.set()
            release.wait(10)

    def fast() -> None:
        with pg_portal.db.write() as session:
            results["fast"] = create_template(session, TemplateData.model_validate({**TEMPLATE, "name": "fast"})).id

    slow_thread = threading.Thread(target=slow)
    slow_thread.start()
    assert holding.wait(10)
    fast_thread = threading.Thread(target=fast)
    fast_thread.start()
    _wait_until_blocked(pg_portal)
    # Neither is visible yet, and the cursor does not move past the slow writer's seq.
    page = pg_portal.call("GET", f"/sync/pull?cursor={cursor}", headers=world.auth["officer1"]).json()
    assert not [c for c in page["changes"] if c["entity"] == "template"]
    assert page["next_cursor"] < results["slow_seq"]
    release.set()
    slow_thread.join(10)
    fast_thread.join(10)
    changes, _ = pg_portal.pull_all(world.auth["officer1"], page["next_cursor"])
    assert {results["slow"], results["fast"]} <= {c["id"] for c in changes}


def test_concurrent_pushes_and_pulls_skip_nothing(any_world: World) -> None:
    """Eight threads submitting while another pulls in small pages: the puller ends with every visit (both backends)."""
    world = any_world
    errors: list[BaseException] = []
    submitted: list[str] = []

    def writer() -> None:
        try:
            for _ in range(5):
                op = world.visit_op("officer1", "case1")
                [result] = world.portal.push(world.auth["officer1"], [op])
                assert result["status"] == "applied"
                submitted.append(op["id"])
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)

    seen: set[str] = set()
    _, cursor = world.portal.pull_all(world.auth["lead_a"])
    threads = [threading.Thread(target=writer) for _ in range(8)]
    for thread in threads:
        thread.start()

    def all_done() -> bool:
        return not any(t.is_alive() for t in threads)

    while True:
        finished = all_done()
        page = world.portal.call("GET", f"/sync/pull?cursor={cursor}&limit=2", headers=world.auth["lead_a"]).json()
        seen |= {c["id"] for c in page["changes"] if c["entity"] == "visit"}
        cursor = page["next_cursor"]
        if finished and not page["has_more"]:
            break
    assert not errors
    assert len(submitted) == 40 and set(submitted) <= seen


def test_meta_shape(world: World) -> None:
    """GET /sync/meta announces protocol 1, revision 2 and the limits."""
    meta = world.portal.call("GET", "/sync/meta", headers=world.auth["officer1"]).json()
    assert set(meta) == {"protocol", "revision", "server_time", "max_push_ops", "max_push_bytes", "max_blob_bytes", "chunk_bytes", "tombstone_days"}
    assert meta["protocol"] == 1 and meta["revision"] == 2 and meta["server_time"].endswith("Z")


@pytest.mark.parametrize("who", ["officer1", "lead_a"])
def test_sqlite_scope_matches(sqlite_portal: Portal, who: str) -> None:
    """On SQLite too an officer or lead sees their case and never the other team's."""
    from tests.portal.conftest import build_world

    world = build_world(sqlite_portal)
    seen = _visible(world, who)
    assert ("case", world.ids["case1"]) in seen and ("case", world.ids["case_b"]) not in seen
    assert uuid.UUID(world.ids["case1"])


def test_closed_case_is_purged_from_devices(world: World) -> None:
    """A case closed past the retention is purged: officer and lead pull tombstones; reopening brings it back."""
    from portal.models import CaseRow
    from portal.services.records import purge_closed_cases

    _, cursor = world.portal.pull_all(world.auth["officer1"])
    _, lead_cursor = world.portal.pull_all(world.auth["lead_a"])
    closed = world.portal.call("PATCH", f"/admin/cases/{world.ids['case1']}", headers=world.portal.admin, json={"status": "closed"})
    assert closed.status_code == 200
    with world.portal.db.write() as session:
        assert purge_closed_cases(session, 14) == 0  # closed just now: kept on devices for now
        session.execute(update(CaseRow).where(CaseRow.id == world.ids["case1"]).values(closed_at=CaseRow.closed_at - timedelta(days=15)))
    with world.portal.db.write() as session:
        assert purge_closed_cases(session, 14) == 1
    changes, cursor = world.portal.pull_all(world.auth["officer1"], cursor)
    gone = {(c["entity"], c["id"]) for c in changes if c["deleted"]}
    assert gone == {("case", world.ids["case1"]), ("property", world.ids["prop1"]), ("resident", world.ids["res1"])}
    lead, _ = world.portal.pull_all(world.auth["lead_a"], lead_cursor)
    assert ("case", world.ids["case1"]) in {(c["entity"], c["id"]) for c in lead if c["deleted"]}
    [result] = world.portal.push(world.auth["officer1"], [world.visit_op("officer1", "case1")])
    assert result["error"]["code"] == "not_found"
    world.portal.call("PATCH", f"/admin/cases/{world.ids['case1']}", headers=world.portal.admin, json={"status": "open"})
    back, _ = world.portal.pull_all(world.auth["officer1"], cursor)
    assert {("case", world.ids["case1"]), ("property", world.ids["prop1"]), ("resident", world.ids["res1"])} <= {(c["entity"], c["id"]) for c in back if not c["deleted"]}


def test_up_to_date_pull_is_empty_until_a_tombstone_arrives(any_world: World) -> None:
    """A pull at the newest cursor is empty and keeps the cursor; a tombstone written after it is still delivered."""
    world = any_world
    _, cursor = world.portal.pull_all(world.auth["officer1"])
    page = world.portal.call("GET", f"/sync/pull?cursor={cursor}", headers=world.auth["officer1"]).json()
    assert page == {"changes": [], "next_cursor": cursor, "has_more": False}
    world.portal.call("PATCH", f"/admin/cases/{world.ids['case1']}", headers=world.portal.admin, json={"assigned_officer_id": world.ids["officer2"]})
    page = world.portal.call("GET", f"/sync/pull?cursor={cursor}", headers=world.auth["officer1"]).json()
    assert ("case", world.ids["case1"]) in {(c["entity"], c["id"]) for c in page["changes"] if c["deleted"]}
    assert page["next_cursor"] > cursor


def test_lead_case_in_two_sources_comes_once(any_world: World) -> None:
    """A team case assigned to the lead (matching both of a lead's case conditions) is one entry, paged one by one."""
    world = any_world
    _, cursor = world.portal.pull_all(world.auth["lead_a"])  # not 0: the session's portal may have a horizon
    world.case("lead_case", "lead_a")
    world.case("team_case", "officer2")
    seen = []
    while True:
        page = world.portal.call("GET", f"/sync/pull?cursor={cursor}&limit=1", headers=world.auth["lead_a"]).json()
        seen += [(c["entity"], c["id"]) for c in page["changes"]]
        cursor = page["next_cursor"]
        if not page["has_more"]:
            break
    assert seen.count(("case", world.ids["lead_case"])) == 1 and seen.count(("case", world.ids["team_case"])) == 1


def test_walked_and_gathered_scope_agree(any_world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """Large-scope pulls (tables walked in seq order) carry exactly what small-scope pulls (gathered from cases) do."""
    world = any_world
    people = ("officer1", "officer2", "lead_a", "officer_b", "lead_b")
    # Small pages from a recent cursor (from 0 they could fall below the session portal's horizon).
    starts = {who: world.portal.pull_all(world.auth[who])[1] for who in people}
    world.case("case2", "officer1", prop="prop2", residents=[])  # res2 only through living at prop2
    world.case("lead_case", "lead_a")
    world.portal.push(world.auth["officer1"], [world.visit_op("officer1", "case1")])
    for who in people:
        for cursor, limit in ((0, 1000), (starts[who], 2)):
            gathered = world.portal.pull_all(world.auth[who], cursor, limit)
            with monkeypatch.context() as patch:
                patch.setattr(scope, "FEW_CASES", 0)
                walked = world.portal.pull_all(world.auth[who], cursor, limit)
            assert walked == gathered, (who, cursor, limit)
    assert ("resident", world.ids["res2"]) in _visible(world, "officer1")


@pytest.mark.parametrize("limit", [1, 2, 5])
def test_first_sync_in_pages_with_scope_changes_between_them_ends_as_one_page(world: World, limit: int) -> None:
    """A laptop paging a first sync while cases move in and out of its scope ends holding what one pull gives.

    Between its first and second page: a case leaves (its property and residents with it) and
    another arrives at a property the laptop has not seen yet; tombstones and grants must land right
    however the pages fall.
    """
    world.case("case2", "officer1", prop="prop2", residents=["res2"])
    world.portal.push(world.auth["officer1"], [world.visit_op("officer1", "case1")])
    # From the session portal's horizon, below which this world has nothing (a later page from 0 could fall under it).
    with world.portal.db.read() as session:
        start = horizon(session)
    first = world.portal.call("GET", f"/sync/pull?cursor={start}&limit={limit}", headers=world.auth["officer1"]).json()
    assert first["has_more"]
    world.portal.call("PATCH", f"/admin/cases/{world.ids['case1']}", headers=world.portal.admin,
                      json={"assigned_officer_id": world.ids["officer2"]})
    world.portal.call("PATCH", f"/admin/cases/{world.ids['case2']}", headers=world.portal.admin,
                      json={"assigned_officer_id": world.ids["officer2"]})
    world.case("case3", "officer1", prop="prop2", residents=["res2"])
    rest, _ = world.portal.pull_all(world.auth["officer1"], first["next_cursor"], limit)
    held = {key: change for key, change in _latest(first["changes"] + rest).items() if not change["deleted"]}
    fresh, _ = world.portal.pull_all(world.auth["officer1"], start, 1000)
    assert held == {key: change for key, change in _latest(fresh).items() if not change["deleted"]}
    assert ("case", world.ids["case1"]) not in held and ("case", world.ids["case3"]) in held
    assert ("property", world.ids["prop2"]) in held and ("property", world.ids["prop1"]) not in held


def test_pull_body_is_exactly_the_protocol_model(world: World) -> None:
    """The page the route encodes itself is what PullResponse would have sent: same fields, same JSON."""
    world.portal.push(world.auth["officer1"], [world.visit_op("officer1", "case1")])
    response = world.portal.call("GET", "/sync/pull?cursor=0&limit=1000", headers=world.auth["lead_a"])
    assert response.status_code == 200 and response.headers["content-type"] == "application/json"
    body = response.json()
    assert {c["entity"] for c in body["changes"]} >= {"case", "property", "resident", "visit", "user", "team", "template"}
    assert PullResponse.model_validate(body).model_dump(mode="json") == body


@pytest.fixture
def purged_world(database_url: str, tmp_path: Path) -> World:
    """A world on a portal of its own (each backend) that has purged tombstones past all of its records."""
    world = build_world(make_portal(database_url, tmp_path / "blobs"))
    for n in range(3):
        world.case(f"extra{n}", "officer1")
    world.portal.call("PATCH", f"/admin/cases/{world.ids['extra0']}", headers=world.portal.admin,
                      json={"assigned_officer_id": world.ids["officer2"]})  # a tombstone for officer1
    with world.portal.db.write() as session:
        session.execute(update(ScopeChangeRow).values(created_at=utcnow() - timedelta(days=31)))
        assert purge_tombstones(session, 30) >= 1
        assert horizon(session) > 1
    return world


def _pages(world: World, who: str, cursor: int, limit: int) -> list[Any]:
    """Status and body of each page from ``cursor`` until the last page or a refusal."""
    answers = []
    while True:
        response = world.portal.call("GET", f"/sync/pull?cursor={cursor}&limit={limit}", headers=world.auth[who])
        answers.append((response.status_code, response.json()))
        if response.status_code != 200 or not response.json()["has_more"]:
            return answers
        cursor = response.json()["next_cursor"]


def test_a_first_sync_in_small_pages_goes_on_below_the_horizon(purged_world: World) -> None:
    """A new laptop on a portal that purged tombstones: every page of its pull from 0 is served (was 410 at page 2)."""
    world = purged_world
    with world.portal.db.read() as session:
        limit_of_horizon = horizon(session)
    pages = _pages(world, "officer1", 0, 1)
    assert [status for status, _ in pages] == [200] * len(pages) and len(pages) > 3
    assert any(body["next_cursor"] < limit_of_horizon for _, body in pages[:-1])  # the case that used to fail
    whole, _ = world.portal.pull_all(world.auth["officer1"], 0, 1000)
    assert _latest([c for _, body in pages for c in body["changes"]]) == _latest(whole)
    # An ordinary catch-up of several pages (not from 0) notes nothing.
    with world.portal.db.read() as session:
        noted = session.scalar(select(func.count()).select_from(PullChainRow))
    world.case("later1", "officer1")
    world.case("later2", "officer1")
    catch_up = _pages(world, "officer1", pages[-1][1]["next_cursor"], 1)
    assert [status for status, _ in catch_up] == [200] * len(catch_up) and len(catch_up) > 1
    with world.portal.db.read() as session:
        assert session.scalar(select(func.count()).select_from(PullChainRow)) == noted > 0


def test_chain_cursors_are_the_callers_own_and_expire(purged_world: World) -> None:
    """A mid-pull cursor below the horizon serves only its own user, only for tombstone_days, and is purged after."""
    world = purged_world
    first = world.portal.call("GET", "/sync/pull?cursor=0&limit=1", headers=world.auth["officer1"]).json()
    cursor = first["next_cursor"]
    with world.portal.db.read() as session:
        assert cursor < horizon(session)
    other = world.portal.call("GET", f"/sync/pull?cursor={cursor}&limit=1", headers=world.auth["lead_a"])
    assert other.status_code == 410 and other.json()["error"]["code"] == "resync_required"
    assert world.portal.call("GET", f"/sync/pull?cursor={cursor}&limit=1", headers=world.auth["officer1"]).status_code == 200
    with world.portal.db.write() as session:
        session.execute(update(PullChainRow).values(started_at=utcnow() - timedelta(days=30, minutes=1)))
    expired = world.portal.call("GET", f"/sync/pull?cursor={cursor}&limit=1", headers=world.auth["officer1"])
    assert expired.status_code == 410
    with world.portal.db.write() as session:
        purge_tombstones(session, 30)
        assert session.scalar(select(func.count()).select_from(PullChainRow)) == 0
