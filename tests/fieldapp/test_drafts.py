"""Drafts are unsent work: counted, listed, kept by purge and resync, and discarded only on purpose."""

from __future__ import annotations

from pathlib import Path

import pytest

import factories as f
from fieldapp.errors import NotFoundError, ValidationError
from fieldapp.types import Hazard, VisitState
from store_helpers import Filled, make_jpeg


def test_pending_counts_drafts_apart_from_queued_work(filled: Filled) -> None:
    """A draft is unsent work: pending() counts it as a draft, not as a queued visit, and is not empty."""
    assert filled.store.pending().empty
    filled.draft(notes="half done")
    pending = filled.store.pending()
    assert pending.drafts == 1 and pending.visits == 0 and pending.queued == 0
    assert not pending.empty


def test_a_returned_visit_with_unsent_corrections_counts_as_a_draft(filled: Filled) -> None:
    """A visit returned by the lead and corrected here, not yet resubmitted, is unsent work too."""
    w = filled.world
    change = f.visit(filled.case_id, w.officer_id, w.template_id, status="returned",
                     review={"decision": "return", "comment": "Photos?", "decided_at": "2025-11-03T10:00:00Z"})
    filled.store.apply_changes([change], 200)
    assert filled.store.pending().drafts == 0     # on the portal as it is here
    filled.store.update_visit(change["id"], notes="added the photo")
    [draft] = filled.store.drafts()
    assert draft.state == VisitState.RETURNED and not draft.discardable
    assert filled.store.pending().drafts == 1


def test_drafts_name_their_case_and_what_they_hold(filled: Filled, tmp_path: Path) -> None:
    """drafts() gives the case reference, when it was started and what would be lost (answers, photos, hazards)."""
    visit = filled.draft(answers={"mould": True, "cause": "Leak"}, notes="n",
                         hazards=[Hazard(hazard="damp_mould", band="C")])
    filled.store.add_photo(visit.id, make_jpeg(tmp_path / "a.jpg", 1))
    other = filled.store.start_visit(filled.world.case_ids[1], filled.world.template_id)
    drafts = {d.visit_id: d for d in filled.store.drafts()}
    first = drafts[visit.id]
    assert first.case_reference == "DM-2025-00001" and first.started_at == visit.started_at
    assert (first.answers, first.photos, first.hazards, first.has_notes) == (2, 1, 1, True)
    assert first.template_name == "Damp and mould inspection" and first.discardable
    assert drafts[other.id].case_reference == "DM-2025-00002" and drafts[other.id].answers == 0
    assert [d.visit_id for d in filled.store.drafts(filled.case_id)] == [visit.id]


def test_submitting_a_draft_moves_it_from_drafts_to_queued(filled: Filled) -> None:
    """Once submitted, the visit is queued work, no longer a draft."""
    visit = filled.complete()
    filled.store.submit_visit(visit.id)
    pending = filled.store.pending()
    assert pending.drafts == 0 and pending.visits == 1 and filled.store.drafts() == []


def test_discard_removes_the_draft_its_photos_and_its_problems(filled: Filled, tmp_path: Path) -> None:
    """Discarding a draft deletes it and its photo files; it is no longer pending or listed under its case."""
    visit = filled.draft(notes="wrong house")
    photo = filled.store.add_photo(visit.id, make_jpeg(tmp_path / "a.jpg", 1))
    assert photo.path is not None and photo.path.exists()
    filled.store.discard_draft(visit.id)
    with pytest.raises(NotFoundError):
        filled.store.visit(visit.id)
    assert not photo.path.exists()
    assert filled.store.pending().empty and filled.store.drafts() == []
    assert filled.store.case(filled.case_id).visits == ()


def test_discard_keeps_photo_files_another_visit_uses(filled: Filled, tmp_path: Path) -> None:
    """A photo file shared with another visit (same picture, content-addressed) stays when one draft goes."""
    picture = make_jpeg(tmp_path / "same.jpg", 7)
    first, second = filled.draft(), filled.draft()
    kept = filled.store.add_photo(first.id, picture)
    filled.store.add_photo(second.id, picture)
    filled.store.discard_draft(second.id)
    assert kept.path is not None and kept.path.exists()
    assert filled.store.visit(first.id).photos[0].path == kept.path


def test_only_a_draft_can_be_discarded(filled: Filled) -> None:
    """A queued visit is refused with a sentence saying why; an unknown id is not found."""
    visit = filled.complete()
    filled.store.submit_visit(visit.id)
    with pytest.raises(ValidationError, match="submitted"):
        filled.store.discard_draft(visit.id)
    assert filled.store.visit(visit.id).state == VisitState.QUEUED
    with pytest.raises(NotFoundError):
        filled.store.discard_draft(f.new_id())


def _leave_scope(filled: Filled) -> list[dict]:
    """Tombstones of the draft's case, property, residents and template, as a pull brings them."""
    w = filled.world
    return [f.tombstone("case", filled.case_id), f.tombstone("property", w.property_id),
            f.tombstone("template", w.template_id), *(f.tombstone("resident", r) for r in w.resident_ids)]


def test_purge_keeps_everything_a_draft_needs(filled: Filled, tmp_path: Path) -> None:
    """After its case, home, people and form leave scope, a draft still opens with all of them and its photo."""
    visit = filled.draft(answers={"cause": "Leak"})
    photo = filled.store.add_photo(visit.id, make_jpeg(tmp_path / "a.jpg", 3))
    filled.store.apply_changes(_leave_scope(filled), 300)
    filled.store.purge_out_of_scope()
    detail = filled.store.case(filled.case_id)
    assert detail.property.postcode == "SE1 4AB" and [r.full_name for r in detail.residents][0] == "Amira Haskins"
    assert "Dog on premises" in detail.warnings
    template = filled.store.visit_template(visit.id)
    assert template is not None and template.version == 1 and template.id == filled.world.template_id
    assert photo.path is not None and photo.path.exists()
    assert filled.store.visit(visit.id).answers == {"cause": "Leak"}


def test_resync_keeps_the_drafts_own_form_version(filled: Filled, tmp_path: Path) -> None:
    """After a 410 reset and a newer version of its form, a draft still uses the version it was started on."""
    w = filled.world
    visit = filled.draft(answers={"rh": 70})
    photo = filled.store.add_photo(visit.id, make_jpeg(tmp_path / "r.jpg", 4))
    filled.store.reset_portal_data()
    assert photo.path is not None and photo.path.exists()
    assert [r.full_name for r in filled.store.case(filled.case_id).residents] == ["Amira Haskins", "Zoë Brennan-O'Neil"]
    assert filled.store.visit_template(visit.id) is not None     # offline, before the pull from 0
    newer = f.template(id=w.template_id, number=2, version=5,
                       questions=[{"id": "other", "label": "Something else", "kind": "text"}])
    filled.store.apply_changes([*w.changes, newer], 400)
    template = filled.store.visit_template(visit.id)
    assert template is not None and template.version == 1
    assert "rh" in {q.id for s in template.sections for q in s.questions}


def test_filing_an_amendment_again_continues_the_open_one(filled: Filled) -> None:
    """Asking to amend an approved visit that already has an amendment draft opens that draft, not a second one."""
    w = filled.world
    approved = f.visit(filled.case_id, w.officer_id, w.template_id, status="approved", answers={"cause": "Leak"})
    filled.store.apply_changes([approved], 200)
    first = filled.store.file_amendment(approved["id"])
    filled.store.update_visit(first.id, notes="the correction")
    again = filled.store.file_amendment(approved["id"])
    assert again.id == first.id and again.notes == "the correction"
    assert [d.visit_id for d in filled.store.drafts()] == [first.id]
    filled.store.discard_draft(first.id)
    assert filled.store.file_amendment(approved["id"]).id != first.id   # none open: a new one
