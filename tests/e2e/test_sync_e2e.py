"""Sync end to end: a real FieldStore, a real portal on 127.0.0.1 (SQLite and PostgreSQL), real HTTP."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from fieldapp import FieldStore
from fieldapp.errors import NotFoundError
from fieldapp.types import ProblemAction, VisitState
from portal.blobstore import FileBlobStore
from portal.models import BlobRow
from portal.seed import seed
from portal.server import start_background
from portal.services import housekeeping
from portal.services.sequence import utcnow
from sync.client import PortalClient
from sync.engine import SyncEngine
from sync.errors import PortalUnreachable
from sync.retry import RetryPolicy

from faultproxy import FaultPlan, FaultProxy
from sync_support import (
    admin_visits,
    as_recorded,
    blob_hashes_ok,
    local_visit_ids,
    open_signed_in,
    portal_scope,
    record_visit,
    sync,
)


@pytest.fixture(params=["sqlite", pytest.param("pg", marks=pytest.mark.postgres)])
def portal(request: Any) -> Any:
    """The shared seeded portal, on SQLite and on PostgreSQL."""
    return request.getfixturevalue(f"portal_{request.param}")


def account(portal: Any, role: str, team_index: int = 0, index: int = 0) -> Any:
    teams = sorted({a.team for a in portal.accounts if a.team})
    return [a for a in portal.accounts if a.role == role and (role == "admin" or a.team == teams[team_index])][index]


def first_cases(store: Any, count: int) -> list[str]:
    cases = [c.id for c in store.cases() if store.templates_for(c.id)]
    assert len(cases) >= count, "the seeded portal gives this officer too few cases"
    return cases[:count]


def start_draft(folder: Path) -> str:
    """Start a visit (a draft) on the first case of the laptop store in ``folder``; that case's reference."""
    laptop = FieldStore.open(folder)
    try:
        case_id = first_cases(laptop, 1)[0]
        laptop.start_visit(case_id, laptop.templates_for(case_id)[0].id)
        return laptop.case(case_id).reference
    finally:
        laptop.close()


def test_offline_visits_with_photos_reach_the_portal_exactly_once(portal: Any, tmp_path: Path) -> None:
    """Visits recorded offline with photos sync once; the portal holds each once, with photo bytes intact."""
    officer = account(portal, "officer", index=1)
    store, client = open_signed_in(tmp_path / "laptop", portal.url, officer)
    try:
        first = sync(store, client)
        assert first.ok and first.pulled > 0
        visits = [record_visit(store, case_id, tmp_path, photos=2, seed=n)
                  for n, case_id in enumerate(first_cases(store, 3))]
        assert store.pending().visits == 3 and store.pending().photos == 6

        report = sync(store, client)

        assert report.ok, report.message
        assert (report.applied, report.blobs_uploaded) == (3, 6)
        assert store.pending().empty and store.problems() == []
        on_portal = [v for v in admin_visits(portal.url, account(portal, "admin")) if v["id"] in {x.id for x in visits}]
        assert sorted(v["id"] for v in on_portal) == sorted(v.id for v in visits)
        assert {v["status"] for v in on_portal} == {"submitted"}
        hashes = {p["sha256"] for v in on_portal for p in v["photos"]}
        assert hashes == {p.sha256 for v in visits for p in v.photos} and len(hashes) == 6
        assert blob_hashes_ok(portal.url, officer, hashes)
        assert all(store.visit(v.id).state == VisitState.SUBMITTED for v in visits)
        scope = portal_scope(portal.url, officer)
        assert {c.id for c in store.cases()} == set(scope["case"])
        assert local_visit_ids(store) == set(scope.get("visit", {}))
        again = SyncEngine(store, client)
        before = client.request_count
        assert again.run().ok and client.request_count - before == 1   # nothing to do: one request
    finally:
        store.close()


def _housekeeping_removes(portal: Any, hashes: list[str]) -> None:
    """The portal's housekeeping removes these unreferenced photos, as once their grace period has passed."""
    days = portal.settings.unreferenced_blob_days + 1
    with portal.db.plain(writes=True) as session:
        session.execute(update(BlobRow).where(BlobRow.sha256.in_(hashes)).values(updated_at=utcnow() - timedelta(days=days)))
    report = housekeeping.run(portal.db, FileBlobStore(portal.settings.blob_dir), portal.settings)
    assert report.unreferenced_blobs >= len(hashes)


def test_photos_the_portal_lost_are_uploaded_again_and_the_visit_accepted(portal: Any, tmp_path: Path) -> None:
    """A sync uploads a visit's photos but its push never arrives; the portal's housekeeping then removes the
    unreferenced photos. The next sync's push is rejected blob_missing (the laptop believes them uploaded):
    the engine uploads them again and pushes the visit again, and nothing the officer recorded changes."""
    officer = account(portal, "officer", index=1)
    pushes_lost = FaultPlan(drop_before=1.0, drop_after=0.0, mid_upload=0.0, delay=0.0, unavailable=0.0,
                            paths=("/api/v1/sync/push",))
    with FaultProxy(portal.url, seed=7, plan=pushes_lost) as proxy:
        store, client = open_signed_in(tmp_path / "laptop", proxy.url, officer)
        client.retry = RetryPolicy(attempts=2, base_delay=0.01, max_delay=0.05)
        try:
            sync(store, client)
            visit = record_visit(store, first_cases(store, 1)[0], tmp_path, photos=2, seed=701)
            recorded = as_recorded(store, visit.id)
            hashes = sorted(p.sha256 for p in visit.photos)
            with pytest.raises(PortalUnreachable):
                sync(store, client)
            assert store.blobs_to_upload() == [] and len(store.outbox(limit=10)) == 1
            assert client.blobs_missing(hashes) == []
            _housekeeping_removes(portal, hashes)
            assert sorted(client.blobs_missing(hashes)) == hashes      # the portal has lost them
            proxy.enabled = False

            report = sync(store, client)

            assert (report.blobs_uploaded, report.applied, report.rejected) == (2, 1, 0), report.message
            assert report.ok, report.message  # the lost photos were a retry, not a refusal
            assert store.outbox(limit=10) == [] and store.pending().empty and store.problems() == []
            assert store.visit(visit.id).state == VisitState.SUBMITTED
            assert as_recorded(store, visit.id) == recorded
            [exported] = [v for v in admin_visits(portal.url, account(portal, "admin")) if v["id"] == visit.id]
            assert exported["status"] == "submitted" and exported["notes"] == visit.notes
            assert sorted(p["sha256"] for p in exported["photos"]) == hashes
            assert blob_hashes_ok(portal.url, officer, hashes)
            assert all(client.download_blob(h) == Path(store.photo_file(h) or "").read_bytes() for h in hashes)
        finally:
            store.close()


def test_return_resubmit_and_approve_round_trip(portal: Any, tmp_path: Path) -> None:
    """Lead returns with a comment, officer sees it, edits and resubmits, lead approves, officer sees approved."""
    officer = account(portal, "officer", index=0)
    lead = account(portal, "lead")
    o_store, o_client = open_signed_in(tmp_path / "officer", portal.url, officer)
    l_store, l_client = open_signed_in(tmp_path / "lead", portal.url, lead)
    try:
        sync(o_store, o_client)
        visit = record_visit(o_store, first_cases(o_store, 1)[0], tmp_path, photos=1, seed=101)
        assert sync(o_store, o_client).ok

        assert sync(l_store, l_client).ok
        assert visit.id in {item.visit_id for item in l_store.review_queue()}
        l_store.decide(visit.id, "return", "Please add the humidity reading.")
        assert sync(l_store, l_client).ok

        assert sync(o_store, o_client).ok
        returned = o_store.visit(visit.id)
        assert returned.state == VisitState.RETURNED and returned.review.comment == "Please add the humidity reading."
        o_store.update_visit(visit.id, notes="Humidity 71% in the bedroom.")
        o_store.submit_visit(visit.id)
        assert sync(o_store, o_client).ok

        assert sync(l_store, l_client).ok
        item = next(i for i in l_store.review_queue() if i.visit_id == visit.id)
        assert item.resubmitted
        l_store.decide(visit.id, "approve")
        assert sync(l_store, l_client).ok

        assert sync(o_store, o_client).ok
        assert o_store.visit(visit.id).state == VisitState.APPROVED
        exported = [v for v in admin_visits(portal.url, account(portal, "admin")) if v["id"] == visit.id]
        assert len(exported) == 1 and exported[0]["status"] == "approved"
        assert exported[0]["notes"] == "Humidity 71% in the bedroom."
    finally:
        o_store.close()
        l_store.close()


def test_conflicts_become_problems_and_never_block_the_queue(portal: Any, tmp_path: Path) -> None:
    """Two laptops of one lead decide the same visit: the second decision is a conflict problem,
    and an officer's edit that meets an approved visit becomes a visit_locked problem resolved by an amendment."""
    officer = account(portal, "officer", index=2)
    lead = account(portal, "lead")
    o1, c1 = open_signed_in(tmp_path / "officer1", portal.url, officer)
    o2, c2 = open_signed_in(tmp_path / "officer2", portal.url, officer)
    la, ca = open_signed_in(tmp_path / "leadA", portal.url, lead)
    lb, cb = open_signed_in(tmp_path / "leadB", portal.url, lead)
    stores = (o1, o2, la, lb)
    try:
        sync(o1, c1)
        cases = first_cases(o1, 2)
        visit = record_visit(o1, cases[0], tmp_path, photos=1, seed=201)
        other = record_visit(o1, cases[1], tmp_path, photos=0, seed=202)
        assert sync(o1, c1).ok
        assert sync(la, ca).ok and sync(lb, cb).ok
        la.decide(visit.id, "return", "Missing photo of the kitchen.")
        assert sync(la, ca).ok

        lb.decide(visit.id, "approve")               # lead's other laptop has not seen the return
        lb.decide(other.id, "approve")               # ... and an unrelated decision queued behind it
        report = sync(lb, cb)
        assert (report.conflicts, report.applied, report.ok) == (1, 1, False)
        [problem] = lb.problems()
        assert problem.kind == "conflict" and problem.entity == "review" and problem.message

        # Officer laptop 1 resubmits, lead approves; laptop 2 still has the returned copy and edits it.
        assert sync(o1, c1).ok and sync(o2, c2).ok
        o1.update_visit(visit.id, notes="Kitchen photographed.")
        o1.submit_visit(visit.id)
        assert sync(o1, c1).ok
        assert sync(la, ca).ok
        la.decide(visit.id, "approve")
        assert sync(la, ca).ok

        o2.update_visit(visit.id, notes="An edit made on the other laptop.")
        o2.submit_visit(visit.id)
        report = sync(o2, c2)
        assert report.conflicts == 1 and not report.ok
        [locked] = o2.problems()
        assert locked.kind == "visit_locked" and ProblemAction.AMEND in locked.actions
        amendment = o2.resolve_problem(locked.id, ProblemAction.AMEND)
        assert amendment is not None and amendment.amends == visit.id
        assert amendment.notes == "An edit made on the other laptop."
        o2.submit_visit(amendment.id)
        assert sync(o2, c2).ok
        exported = {v["id"]: v for v in admin_visits(portal.url, account(portal, "admin"))}
        assert exported[visit.id]["status"] == "approved" and exported[visit.id]["notes"] == "Kitchen photographed."
        assert exported[amendment.id]["amends"] == visit.id
    finally:
        for store in stores:
            store.close()


def test_reassigned_cases_leave_the_laptop_unless_unsent_work_needs_them(tmp_path: Path) -> None:
    """Cases reassigned away leave the laptop after sync, except one a draft still needs."""
    url = f"sqlite:///{tmp_path / 'own.db'}"
    accounts = seed(url, 30).accounts
    with start_background(url, tmp_path / "blobs") as own:
        own.accounts = accounts
        officer, colleague = account(own, "officer", index=0), account(own, "officer", index=1)
        admin = account(own, "admin")
        store, client = open_signed_in(tmp_path / "laptop", own.url, officer)
        try:
            sync(store, client)
            sent_case, draft_case = first_cases(store, 2)
            record_visit(store, sent_case, tmp_path, photos=1, seed=301)
            assert sync(store, client).ok
            draft = store.start_visit(draft_case, store.templates_for(draft_case)[0].id)
            colleague_id = next(iter(portal_scope(own.url, colleague)["user"]))
            admin_client = PortalClient(own.url)
            admin_client.login(admin.username, admin.password, "e2e-admin")
            for case_id in (sent_case, draft_case):
                response = admin_client._session.patch(
                    f"{own.url}/api/v1/admin/cases/{case_id}", json={"assigned_officer_id": colleague_id},
                    headers={"Authorization": f"Bearer {admin_client.token}"}, timeout=(5, 30))
                assert response.status_code == 200, response.text

            assert sync(store, client).ok

            local = {c.id for c in store.cases()}
            # The list shows what is in scope, plus the reassigned case the draft still needs
            # (so the draft stays reachable).
            assert local == set(portal_scope(own.url, officer)["case"]) | {draft_case}
            assert sent_case not in local
            with pytest.raises(NotFoundError):
                store.case(sent_case)                                      # gone: nothing unsent needs it
            assert store.case(draft_case).id == draft_case                 # kept: the draft needs it
            assert store.visit(draft.id).state == VisitState.DRAFT
        finally:
            store.close()


def test_headless_cli_syncs_and_reports_exit_status(portal_sqlite: Any, tmp_path: Path) -> None:
    """`fieldapp sync` prints progress and a summary, exits 0 on success and 3 on a wrong password."""
    officer = account(portal_sqlite, "officer", index=1)
    # The real entry point: `fieldapp sync ...` through app.cli.main and the subcommand registry.
    command = [sys.executable, "-c", "import sys; from app.cli import main; sys.exit(main())", "sync",
               "--data-dir", str(tmp_path / "cli"),
               "--portal", portal_sqlite.url, "--username", officer.username, "--password-stdin"]
    done = subprocess.run(command, input=officer.password + "\n", capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "[pull]" in done.stdout and "changes received" in done.stdout
    reference = start_draft(tmp_path / "cli")
    again = subprocess.run(command, input=officer.password + "\n", capture_output=True, text=True, timeout=120)
    assert again.returncode == 0 and "1 draft visit(s)" in again.stdout and reference in again.stdout
    wrong = subprocess.run(command, input="not-the-password\n", capture_output=True, text=True, timeout=120)
    assert wrong.returncode == 3 and "password" in wrong.stderr.lower()
    plain = subprocess.run(command[:6] + ["--portal", "http://portal.example.org", "--username", "x",
                                          "--password-stdin"], input="pw\n", capture_output=True, text=True,
                           timeout=120)
    assert plain.returncode == 2 and "https://" in plain.stderr


#: Run at the exit of a `fieldapp sync` process: the packages it loaded, and how many objects it froze.
_LEAN_PROBE = """
import atexit, gc, json, sys

atexit.register(lambda: print("PROBE " + json.dumps({"modules": sorted({m.split(".")[0] for m in sys.modules}),
                                                      "frozen": gc.get_freeze_count()})))
from app.cli import main
sys.exit(main())
"""


def _probed(done: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    """What `_LEAN_PROBE` printed at the exit of a `fieldapp sync` process that succeeded."""
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(next(line for line in done.stdout.splitlines() if line.startswith("PROBE "))[len("PROBE "):])


def test_a_no_op_sync_process_loads_only_what_it_needs(portal_sqlite: Any, tmp_path: Path) -> None:
    """A `fieldapp sync` with nothing to send loads no Qt, Pillow, reportlab, alembic or portal code, nor SQLAlchemy
    (`fieldapp.lazy_store`), and the libraries' import-time objects are frozen out of the collector's walks
    (`app.cli.quick_imports`)."""
    officer = account(portal_sqlite, "officer", index=1)
    command = [sys.executable, "-c", _LEAN_PROBE, "sync", "--data-dir", str(tmp_path / "cli"),
               "--portal", portal_sqlite.url, "--username", officer.username, "--password-stdin"]
    first = subprocess.run(command, input=officer.password + "\n", capture_output=True, text=True, timeout=120)
    assert "sqlalchemy" in _probed(first)["modules"]    # a new laptop: migrates and pulls everything
    again = subprocess.run(command, input=officer.password + "\n", capture_output=True, text=True, timeout=120)
    probe = _probed(again)
    assert "Nothing new to send or receive." in again.stdout and "2 HTTP requests to the portal." in again.stdout  # sign-in, pull
    heavy = {"PySide6", "PIL", "reportlab", "alembic", "portal", "fastapi", "starlette", "uvicorn", "psycopg", "jinja2",
             "sqlalchemy"}
    assert heavy.isdisjoint(probe["modules"]), heavy & set(probe["modules"])
    assert probe["frozen"] > 10_000   # pydantic's and requests' objects: frozen once imported
    # Mid-day the officer has drafts: the sync names their cases, still from the file alone.
    reference = start_draft(tmp_path / "cli")
    drafted = subprocess.run(command, input=officer.password + "\n", capture_output=True, text=True, timeout=120)
    assert f"1 draft visit(s) on this laptop are not submitted, so were not sent (cases {reference})" in drafted.stdout
    assert heavy.isdisjoint(_probed(drafted)["modules"]), heavy & set(_probed(drafted)["modules"])


def test_a_sync_process_that_starts_light_still_pushes_and_pulls_everything(portal_sqlite: Any, tmp_path: Path) -> None:
    """Queued work is never skipped by the light start of `fieldapp sync`, and a page with changes is applied:
    both open the full store."""
    officer = account(portal_sqlite, "officer", index=1)
    laptop, other = tmp_path / "laptop", tmp_path / "other"
    store, client = open_signed_in(laptop, portal_sqlite.url, officer)
    try:
        sync(store, client)
        queued = record_visit(store, first_cases(store, 1)[0], tmp_path, photos=1, seed=601)
    finally:
        client.close()
        store.close()
    command = [sys.executable, "-c", _LEAN_PROBE, "sync", "--data-dir", str(laptop),
               "--portal", portal_sqlite.url, "--username", officer.username, "--password-stdin"]
    password = officer.password + "\n"
    pushed = subprocess.run(command, input=password, capture_output=True, text=True, timeout=120)
    assert "sqlalchemy" in _probed(pushed)["modules"] and "1 photo uploaded" in pushed.stdout, pushed.stdout
    # The same officer's second laptop sends a visit: the first laptop's next pull has it.
    store, client = open_signed_in(other, portal_sqlite.url, officer)
    try:
        sync(store, client)
        elsewhere = record_visit(store, first_cases(store, 2)[1], tmp_path, photos=0, seed=602)
        assert sync(store, client).ok
    finally:
        client.close()
        store.close()
    pulled = subprocess.run(command, input=password, capture_output=True, text=True, timeout=120)
    assert "sqlalchemy" in _probed(pulled)["modules"] and "changes received" in pulled.stdout, pulled.stdout
    quiet = subprocess.run(command, input=password, capture_output=True, text=True, timeout=120)
    assert "sqlalchemy" not in _probed(quiet)["modules"] and "Nothing new to send or receive." in quiet.stdout
    store = FieldStore.open(laptop)
    try:
        assert store.pending().empty
        assert store.visit(queued.id).state == VisitState.SUBMITTED and store.visit(elsewhere.id).answers
    finally:
        store.close()
    exported = [v["id"] for v in admin_visits(portal_sqlite.url, account(portal_sqlite, "admin"))]
    assert exported.count(queued.id) == 1 and exported.count(elsewhere.id) == 1


def test_photo_bytes_are_verified_against_their_names(portal_sqlite: Any, tmp_path: Path) -> None:
    """A blob uploaded by the client hashes to its name when downloaded back."""
    officer = account(portal_sqlite, "officer", index=1)
    store, client = open_signed_in(tmp_path / "laptop", portal_sqlite.url, officer)
    try:
        sync(store, client)
        visit = record_visit(store, first_cases(store, 1)[0], tmp_path, photos=1, seed=401, photo_size=(1600, 1200))
        assert sync(store, client).ok
        name = visit.photos[0].sha256
        assert hashlib.sha256(client.download_blob(name)).hexdigest() == name
        assert Path(store.photo_file(name)).read_bytes() == client.download_blob(name)
    finally:
        store.close()


def test_work_queued_while_a_sync_runs_is_kept_and_sent_once(portal_sqlite: Any, tmp_path: Path) -> None:
    """A visit submitted while a sync is pulling stays queued or goes in that sync; the next sync sends it once."""
    officer = account(portal_sqlite, "officer", index=1)
    store, client = open_signed_in(tmp_path / "laptop", portal_sqlite.url, officer)
    try:
        sync(store, client)
        early = record_visit(store, first_cases(store, 1)[0], tmp_path, photos=1, seed=501)
        late: list[str] = []

        def submit_during_pull(progress: Any) -> None:
            if progress.phase == "pull" and not late:
                late.append(record_visit(store, first_cases(store, 2)[1], tmp_path, photos=1, seed=502).id)

        SyncEngine(store, client).run(progress=submit_during_pull)
        assert late and store.visit(late[0]).state in (VisitState.QUEUED, VisitState.SUBMITTED)
        assert sync(store, client).ok and store.pending().empty
        exported = [v["id"] for v in admin_visits(portal_sqlite.url, account(portal_sqlite, "admin"))]
        assert exported.count(early.id) == 1 and exported.count(late[0]) == 1
    finally:
        store.close()


def test_resync_required_keeps_unsent_work(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """410 resync_required (cursor older than the tombstone horizon): portal data is fetched again from 0,
    the queued visit is still sent exactly once and the draft survives."""
    from sqlalchemy import create_engine, text
    url = f"sqlite:///{tmp_path / 'own.db'}"
    accounts = seed(url, 30).accounts
    with start_background(url, tmp_path / "blobs") as own:
        own.accounts = accounts
        officer = account(own, "officer", index=0)
        store, client = open_signed_in(tmp_path / "laptop", own.url, officer)
        try:
            sync(store, client)
            cases = first_cases(store, 2)
            queued = record_visit(store, cases[0], tmp_path, photos=1, seed=601)
            draft = store.start_visit(cases[1], store.templates_for(cases[1])[0].id)
            cursor = store.sync_state().cursor
            # The portal purged tombstones past this laptop's cursor (as after 30 days away).
            engine = create_engine(url)
            with engine.begin() as connection:
                connection.execute(text("UPDATE counters SET value = :v WHERE name = 'tombstone_horizon'"),
                                   {"v": cursor + 1})
            engine.dispose()

            with caplog.at_level("WARNING", logger="sync.engine"):
                report = sync(store, client)

            assert "full resync" in caplog.text          # the portal really answered 410
            assert report.ok and report.pulled > 0
            assert store.visit(queued.id).state == VisitState.SUBMITTED
            assert store.visit(draft.id).state == VisitState.DRAFT
            assert {c.id for c in store.cases()} == set(portal_scope(own.url, officer)["case"])
            exported = [v["id"] for v in admin_visits(own.url, account(own, "admin"))]
            assert exported.count(queued.id) == 1
        finally:
            store.close()
