"""End to end: the tenant's letter made offline at the door, recorded as given, synced; the portal's letter is the same.

A real seeded portal of this module's own on loopback over real HTTP, a real store and
sync engine; the portal's letter comes from GET /api/v1/visits/{id}/summary.pdf.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from pypdf import PdfReader

from fieldapp import FieldStore
from sync.engine import SyncEngine
from sync.session import sign_in
from sync_support import ASSESSMENT, fill, make_photo


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A seeded SQLite portal for this module alone."""
    from tests.conftest import _seeded_portal

    root = tmp_path_factory.mktemp("portal_letters")
    yield from _seeded_portal(f"sqlite:///{root / 'portal.db'}", root / "blobs")


def _text(pdf: bytes) -> str:
    return re.sub(r"\s+", " ", " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages))


def test_the_letter_at_the_door_is_the_portals_letter_and_its_issue_meets_the_clock(
        portal: Any, tmp_path: Path) -> None:
    """Offline: letter made and summary recorded as handed over; after sync the op is applied, the visit
    carries summary_issued, the case's summary clock is met then, and the portal renders the same text."""
    account = next(a for a in portal.accounts if a.role == "officer")
    store = FieldStore.open(tmp_path / "officer")
    client = sign_in(store, portal.url, account.username, account.password)
    try:
        assert SyncEngine(store, client).run().ok
        cases = sorted(store.cases(), key=lambda c: c.case_type != "damp_mould")  # damp and mould first
        case_id = next(c.id for c in cases if store.templates_for(c.id))
        template = store.templates_for(case_id)[0]
        visit = store.start_visit(case_id, template.id)
        photo = store.add_photo(visit.id, make_photo(tmp_path / "wall.jpg", 7, (1600, 1200)), caption="Bedroom wall")
        store.update_visit(visit.id, answers=fill(template, [photo.id]), outcome="completed", assessment=ASSESSMENT)
        visit = store.submit_visit(visit.id)

        # At the door, with no network: the letter, and the record that it was handed over.
        at_the_door = _text(store.tenant_letter(visit.id))
        assert "Bedroom wall" in at_the_door and account.display_name in at_the_door
        store.record_summary_issued(visit.id, "hand")
        assert store.pending().summaries == 1

        report = SyncEngine(store, client).run()
        assert report.ok and report.applied == 2, report
        mine = store.visit(visit.id)
        assert store.outbox() == [] and mine.server_version == 2
        assert mine.summary_issued is not None and mine.summary_issued.sent

        token = requests.post(f"{portal.url}/api/v1/auth/login", json={
            "username": account.username, "password": account.password, "device_id": "e2e-letter"}, timeout=10
        ).json()["token"]
        response = requests.get(f"{portal.url}/api/v1/visits/{visit.id}/summary.pdf",
                                headers={"Authorization": f"Bearer {token}"}, timeout=30)
        assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
        assert response.headers["cache-control"] == "no-store"

        case = store.case(case_id)
        summary_clock = next((c for c in case.clocks if c.stage == "summary"), None)
        if summary_clock is not None:  # the case falls under the regulations: issuing met the clock
            assert summary_clock.met_at == mine.summary_issued.issued_at
        # The same visit, the same records: the laptop's letter and the portal's say the same.
        assert _text(store.tenant_letter(visit.id)) == _text(response.content)
    finally:
        client.close()
        store.close()
