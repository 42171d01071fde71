"""A visit as the case page lists it: its counts in the right number, and no dash for an outcome not chosen yet."""

from __future__ import annotations

from datetime import datetime, timezone

from fieldapp.types import VisitState, VisitSummary
from ui.case_detail import visit_line
from ui.format import date_text


def _visit(outcome: str | None, state: VisitState, photos: int, hazards: int, category_1: bool) -> VisitSummary:
    return VisitSummary(id="v1", case_id="c1", case_reference="HBC-AS-000149", officer_id="o1",
                        officer_name="Aisha Khan", started_at=datetime(2026, 12, 2, 6, 52, tzinfo=timezone.utc),
                        outcome=outcome, state=state, photo_count=photos, hazard_count=hazards, category_1=category_1)


def test_a_draft_without_an_outcome_reads_without_empty_dashes_and_one_hazard_is_singular() -> None:
    """The demo's draft read '— Aisha Khan — — — Draft (not submitted)  (3 photos, 1 hazards, Category 1)'."""
    started = date_text(datetime(2026, 12, 2, 6, 52, tzinfo=timezone.utc))
    line = visit_line(_visit(None, VisitState.DRAFT, 3, 1, True))
    assert line.startswith(f"{started} — Aisha Khan — Draft")
    assert "— —" not in line
    assert line.endswith("  (3 photos, 1 hazard, Category 1)")


def test_a_submitted_visit_names_its_outcome() -> None:
    """The outcome sits between the officer and the state; one photo is one photo."""
    line = visit_line(_visit("completed", VisitState.SUBMITTED, 1, 0, False))
    assert " — Aisha Khan — Completed — " in line
    assert line.endswith("  (1 photo, 0 hazards)")
