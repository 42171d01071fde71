"""End to end: an officer reports a hazard offline, syncs, and the officer and a lead of the team see the new case with its clock.

A real seeded portal of this module's own (the new case must not disturb the shared
portals' counts) on loopback over real HTTP, real stores and sync engines, and the
lead's real Deadlines view (pytest-qt, offscreen).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402

from fieldapp import FieldStore  # noqa: E402
from sync.engine import SyncEngine  # noqa: E402
from sync.session import sign_in  # noqa: E402
from ui.context import AppContext  # noqa: E402
from ui.deadlines import DeadlinesWidget  # noqa: E402
from ui.tasks import Op, TaskManager  # noqa: E402

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A seeded SQLite portal for this module alone."""
    from tests.conftest import _seeded_portal

    root = tmp_path_factory.mktemp("portal_reports")
    yield from _seeded_portal(f"sqlite:///{root / 'portal.db'}", root / "blobs")


@pytest.fixture
def stores(tmp_path: Path) -> Iterator[Any]:
    """Opens stores signed in as an account; closes them after the test."""
    opened: list[tuple[FieldStore, Any]] = []

    def open_store(portal: Any, account: Any, name: str) -> tuple[FieldStore, Any]:
        store = FieldStore.open(tmp_path / name)
        client = sign_in(store, portal.url, account.username, account.password)
        opened.append((store, client))
        return store, client

    yield open_store
    for store, client in opened:
        client.close()
        store.close()


def test_a_hazard_reported_offline_becomes_a_case_with_its_clock_for_officer_and_lead(
        qtbot: Any, portal: Any, stores: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Queued with no network, pushed at sync, pulled back as a new case (source officer, under the
    regulations, an investigate clock) by the reporter and, with its clock in Deadlines, by the team's lead."""
    lead_account = next(a for a in portal.accounts if a.role == "lead")
    officer_account = next(a for a in portal.accounts if a.role == "officer" and a.team == lead_account.team)
    officer, officer_client = stores(portal, officer_account, "officer")
    lead, lead_client = stores(portal, lead_account, "lead")
    assert SyncEngine(officer, officer_client).run().ok
    case = officer.case(officer.cases(sort="reference")[0].id)

    # Offline: the report is kept and queued; nothing needs the portal.
    report = officer.report_hazard(case_id=case.id, hazards=["Damp and mould growth"], priority="urgent",
                                   description="Black mould over the baby's cot in the flat next door")
    assert officer.pending().reports == 1
    assert officer.outbox()[0].entity == "hazard_report"

    result = SyncEngine(officer, officer_client).run()
    assert result.ok and result.applied == 1
    assert officer.pending().reports == 0
    assert officer.hazard_reports()[0].state == "sent"
    new_case = officer.case(report.id)
    assert new_case.source == "officer" and new_case.awaab
    assert new_case.property.id == case.property.id and new_case.case_type == "damp_mould"
    assert "Damp and mould growth" in new_case.reported_hazards
    investigate = next(c for c in new_case.clocks if c.stage == "investigate")
    assert investigate.due_at is not None and not investigate.met
    assert report.id in officer.nearest_clocks()

    assert SyncEngine(lead, lead_client).run().ok
    lead_case = lead.case(report.id)
    assert [c.stage for c in lead_case.clocks] == [c.stage for c in new_case.clocks]
    assert report.id in {row.case_id for row in lead.deadlines()}

    # The lead's Deadlines view lists it.
    tasks = TaskManager(network_workers=1)
    monkeypatch.setattr(Op, "manager", tasks)
    try:
        view = DeadlinesWidget(AppContext(store=lead, tasks=tasks, client=lead_client))
        qtbot.addWidget(view)
        view.resize(1280, 720)
        view.show()
        with qtbot.waitSignal(view.sig_loaded, timeout=10000):
            view.refresh()
        row = next(r for r in view.model.rows() if r.case_id == report.id)
        assert row.clock.stage == "investigate" and row.officer_name == "Not assigned"
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        view.grab().save(str(ARTIFACTS / "e2e_lead_deadlines_hazard_report.png"))
    finally:
        tasks.shutdown(timeout=10)
