"""The tenant's written summary on the laptop: the letter made offline, and the summary_issued op queued."""

from __future__ import annotations

import io
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from pypdf import PdfReader

import factories as f
from fieldapp.errors import ValidationError
from fieldapp.letter import LetterPhotoError, NoAssessmentError
from fieldapp.photo_files import photo_path
from store_helpers import Filled, make_jpeg

ASSESSMENT = {"finding": "significant", "hazards": ["Damp and mould growth"],
              "reasons": "Mould over the cot in the back bedroom.", "household_factors": ["a baby"],
              "make_safe_done": False, "safety_work": "Treat the mould and repair the gutter.",
              "supplementary_work": None, "alternative_accommodation": False}


def _text(pdf: bytes) -> str:
    return re.sub(r"\s+", " ", " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages))


def _submitted(filled: Filled) -> str:
    visit = filled.complete(assessment=ASSESSMENT)
    return filled.store.submit_visit(visit.id).id


def test_the_officer_makes_the_letter_offline_before_leaving(filled: Filled, tmp_path: Path) -> None:
    """A completed visit with its assessment gives the letter at once, with the law's times while offline."""
    visit = filled.complete(assessment=ASSESSMENT)
    filled.store.add_photo(visit.id, make_jpeg(tmp_path / "wall.jpg"), caption="Mould by the window")
    text = _text(filled.store.tenant_letter(visit.id))
    for part in ("Amira Haskins", "Zoë Brennan-O'Neil", "12 Long Lane", "DM-2025-00001", "Olivia",
                 "significant hazard", "Treat the mould and repair the gutter",
                 "Within 5 working days of the inspection", "Mould by the window", "emergency repairs line"):
        assert part in text, part


def test_without_an_assessment_the_letter_says_to_record_it(filled: Filled) -> None:
    """A visit with no assessment: NoAssessmentError, naming what to record."""
    visit = filled.complete()
    with pytest.raises(NoAssessmentError, match="record the assessment"):
        filled.store.tenant_letter(visit.id)


def test_a_photo_file_gone_from_the_laptop_is_named(filled: Filled, tmp_path: Path) -> None:
    """The photo's file is missing: LetterPhotoError with the caption and 'Sync', and no PDF."""
    visit = filled.complete(assessment=ASSESSMENT)
    photo = filled.store.add_photo(visit.id, make_jpeg(tmp_path / "p.jpg"), caption="Bathroom ceiling")
    photo_path(filled.store.photos_dir, photo.sha256, photo.content_type).unlink()
    with pytest.raises(LetterPhotoError, match="Bathroom ceiling.*Sync"):
        filled.store.tenant_letter(visit.id)


def test_recording_the_summary_queues_the_op_after_the_submit(filled: Filled) -> None:
    """summary_issued follows the queued submit, on the version the submit will create (1)."""
    visit_id = _submitted(filled)
    visit = filled.store.record_summary_issued(visit_id, "hand")
    assert visit.summary_issued is not None and visit.summary_issued.method == "hand"
    assert not visit.summary_issued.sent and visit.summary_issued.by_id == filled.world.officer_id
    submit, summary = filled.store.outbox()
    assert (submit.kind, summary.kind) == ("submit", "summary_issued")
    assert summary.id == visit_id and summary.base_version == 1
    assert set(summary.data) == {"method", "issued_at"} and summary.data["method"] == "hand"
    pending = filled.store.pending()
    assert (pending.visits, pending.summaries) == (1, 1)
    with pytest.raises(ValidationError, match="already recorded"):
        filled.store.record_summary_issued(visit_id, "post")


def test_a_draft_or_a_future_time_cannot_be_recorded(filled: Filled) -> None:
    """A draft is not on the portal yet; a time ahead of now is a mistake; an unknown method is refused."""
    draft = filled.complete(assessment=ASSESSMENT)
    with pytest.raises(ValidationError, match="Submit the visit first"):
        filled.store.record_summary_issued(draft.id, "hand")
    visit_id = filled.store.submit_visit(draft.id).id
    with pytest.raises(ValidationError, match="future"):
        filled.store.record_summary_issued(visit_id, "post", datetime.now(timezone.utc) + timedelta(days=1))
    with pytest.raises(ValidationError, match="hand, post, email"):
        filled.store.record_summary_issued(visit_id, "pigeon")
    assert [op.kind for op in filled.store.outbox()] == ["submit"]


def _push(filled: Filled, *results: dict[str, object]) -> None:
    ops = filled.store.outbox()
    filled.store.record_results(ops, [f.pushed(op, **r) for op, r in zip(ops, results, strict=False)])


def test_once_applied_the_summary_shows_as_sent(filled: Filled) -> None:
    """Both ops applied: the outbox is empty and the visit's summary is sent at the portal's version."""
    visit_id = _submitted(filled)
    filled.store.record_summary_issued(visit_id, "email")
    _push(filled, {"status": "applied", "version": 1, "seq": 10}, {"status": "applied", "version": 2, "seq": 11})
    visit = filled.store.visit(visit_id)
    assert filled.store.outbox() == [] and visit.server_version == 2
    assert visit.summary_issued is not None and visit.summary_issued.sent


def test_a_version_conflict_is_sent_again_and_an_earlier_record_stands(filled: Filled) -> None:
    """Conflict on an older version: re-queued on the portal's; a record already there is taken as it is."""
    visit_id = _submitted(filled)
    filled.store.record_summary_issued(visit_id, "hand")
    _push(filled, {"status": "applied", "version": 1, "seq": 10})
    [op] = filled.store.outbox()
    filled.store.record_results([op], [f.pushed(op, "conflict", current={"version": 2})])
    [again] = filled.store.outbox()
    assert again.op_id != op.op_id and again.base_version == 2
    theirs = {"method": "post", "issued_at": "2026-12-02T09:00:00Z", "by_id": filled.world.lead_id}
    filled.store.record_results([again], [f.pushed(again, "conflict", current={"version": 3, "summary_issued": theirs})])
    visit = filled.store.visit(visit_id)
    assert filled.store.outbox() == [] and visit.summary_issued is not None
    assert (visit.summary_issued.method, visit.summary_issued.by_id, visit.summary_issued.sent) == \
        ("post", filled.world.lead_id, True)


def test_a_rejected_record_becomes_a_problem_that_keeps_what_was_recorded(filled: Filled) -> None:
    """Rejected: the problem names method and time, the visit shows the summary as not issued."""
    visit_id = _submitted(filled)
    filled.store.record_summary_issued(visit_id, "hand")
    _push(filled, {"status": "applied", "version": 1, "seq": 10},
          {"status": "rejected", "error": {"code": "invalid_request", "message": "issued_at is in the future."}})
    [problem] = filled.store.problems()
    assert problem.entity == "summary" and "hand" in problem.message and "in the future" in problem.message
    assert problem.details["visit_id"] == visit_id
    assert filled.store.visit(visit_id).summary_issued is None


def test_a_pulled_visit_brings_its_summary_issued(filled: Filled) -> None:
    """The portal's summary_issued (the CRM posted it) is stored with the pulled visit."""
    w = filled.world
    change = f.visit(filled.case_id, w.officer_id, w.template_id,
                     summary_issued={"method": "post", "issued_at": "2026-12-02T09:00:00Z", "by_id": "crm"})
    filled.store.apply_changes([change], 300)
    visit = filled.store.visit(change["id"])
    assert visit.summary_issued is not None and visit.summary_issued.method == "post" and visit.summary_issued.sent
    [listed] = [v for v in filled.store.case(filled.case_id).visits if v.id == change["id"]]
    assert listed.summary_issued == visit.summary_issued
