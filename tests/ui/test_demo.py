"""`fieldapp demo`: an in-process portal on SQLite, seeded, signed in and synced."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from app.cli import main


def test_demo_sets_up_signs_in_and_syncs_twice_on_one_folder(tmp_path: Path, capsys: object) -> None:
    """The demo seeds once, signs in as the chosen role and syncs; a second run reuses the folder."""
    assert main(["demo", "--no-window", "--data-dir", str(tmp_path), "--cases", "20"]) == 0
    assert main(["demo", "--no-window", "--data-dir", str(tmp_path), "--role", "lead"]) == 0
    err = capsys.readouterr().err  # type: ignore[attr-defined]
    assert err.count("Seeding") == 1
    assert "officer" in err and "lead" in err and "First sync" in err
    assert (tmp_path / "portal" / "portal.sqlite3").exists()


def test_demo_officer_and_lead_share_one_demo_council(tmp_path: Path, monkeypatch: Any) -> None:
    """Without --data-dir both roles use one demo folder; the officer has every case type, warnings, overdue
    cases, a returned visit with the lead's comment and a draft; the lead's queue holds visits with photos."""
    from fieldapp import FieldStore
    from app.cli.demo_story import RETURN_COMMENT, VISITS, demo_lead, demo_officer, store_folder
    from fieldapp.types import VisitState
    from portal.seed import _PREFIX, _accounts

    monkeypatch.setenv("FIELDAPP_DEMO_DIR", str(tmp_path / "demo"))
    assert main(["demo", "--no-window", "--cases", "120"]) == 0
    assert main(["demo", "--no-window", "--role", "lead"]) == 0
    accounts = _accounts(1)
    officer = FieldStore.open(store_folder(tmp_path / "demo", demo_officer(accounts)))
    try:
        rows = officer.cases()
        assert {r.case_type for r in rows} == set(_PREFIX)
        assert any(r.has_warnings for r in rows) and any(r.overdue for r in rows)
        visits = [v for r in rows for v in officer.case(r.id).visits]
        returned = [officer.visit(v.id) for v in visits if v.state == VisitState.RETURNED]
        assert len(returned) == 1 and returned[0].review.comment == RETURN_COMMENT
        assert officer.pending().drafts == 1 and officer.pending().visits == 0
    finally:
        officer.close()
    lead = FieldStore.open(store_folder(tmp_path / "demo", demo_lead(accounts)))
    try:
        queue = lead.review_queue()
        assert len(queue) == VISITS - 1 and all(item.photo_count >= 1 for item in queue)
        # Full inspections, made through the real submit checks: answers, hazards, and an assessment where due.
        inspections = [item for item in queue if item.outcome == "completed"]
        assert len(inspections) >= VISITS - 2 and all(item.hazards for item in inspections)
        assert all(len(lead.visit(item.visit_id).answers) >= 5 for item in inspections)
    finally:
        lead.close()


def test_the_officers_demo_opens_again_on_its_kept_folder(tmp_path: Path, capsys: object) -> None:
    """A second `fieldapp demo` on the kept folder signs the officer in again: the demo's draft is theirs.

    Each run served the portal on a new port, so the laptop took it for another portal and refused:
    'Work of Aisha Khan on this laptop is not sent yet. Sign in as aisha.khan, submit or discard…'.
    """
    assert main(["demo", "--no-window", "--data-dir", str(tmp_path), "--cases", "40"]) == 0
    assert main(["demo", "--no-window", "--data-dir", str(tmp_path)]) == 0
    err = capsys.readouterr().err  # type: ignore[attr-defined]
    assert "not sent yet" not in err and err.count("First sync") == 2
