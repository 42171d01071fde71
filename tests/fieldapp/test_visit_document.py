"""The visit document is built once, through the model the portal validates it with (fieldapp.wire)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
import factories as f  # noqa: E402
import photo_samples as samples  # noqa: E402
from store_helpers import Filled, make_jpeg  # noqa: E402

from fieldapp.letter import LetterError  # noqa: E402
from fieldapp.types import Hazard  # noqa: E402
from fieldapp.wire import VisitDocument  # noqa: E402

ASSESSMENT = {"finding": "significant", "hazards": ["Damp and mould growth"], "reasons": "Child with asthma",
              "make_safe_done": False}


def wire_bytes(document: object) -> bytes:
    """The JSON the op carries, key order included (what "byte for byte" compares)."""
    return json.dumps(document, separators=(",", ":")).encode()


def queued_document(filled: Filled) -> dict[str, object]:
    [op] = [op for op in filled.store.outbox() if op.kind == "submit"]
    return dict(op.data)


def test_the_queued_document_is_the_models_validated_round_trip(filled: Filled, tmp_path: Path) -> None:
    """Every kind of entry at once: what is queued validates, and comes back from the model unchanged, byte for byte."""
    visit = filled.complete(answers={"cause": "", "rh": 61.5, "hz": {"hazard": "Damp and mould growth", "band": "D"}},
                            notes="Bathroom ceiling", assessment=ASSESSMENT,
                            hazards=[Hazard("Damp and mould growth", "C", "Bathroom"),
                                     Hazard("Excess cold", "", "Bedroom", "Single glazing")])
    on_question = filled.store.add_photo(visit.id, samples.save_photo(tmp_path / "IMG.jpg", (400, 300)),
                                         caption="Ceiling", question_id="pics")
    plain = filled.store.add_photo(visit.id, make_jpeg(tmp_path / "b.jpg"))
    filled.store.submit_visit(visit.id)
    document = queued_document(filled)
    assert wire_bytes(VisitDocument.model_validate(document).wire()) == wire_bytes(document)
    # What PROTOCOL.md's "Ops" and revision 2 write, in its order: blank answers absent, no band null,
    # every hazard naming the vocabulary, a photo's optional keys only when it has them, no "amends".
    assert list(document) == ["case_id", "officer_id", "template_id", "template_version", "started_at",
                              "completed_at", "outcome", "answers", "notes", "hazards", "photos", "assessment"]
    assert document["answers"] == {"mould": True, "room": "Bathroom", "rh": 61.5, "pics": [on_question.id],
                                   "hz": {"hazard": "Damp and mould growth", "band": "D", "vocabulary": "hhsrs-2006"}}
    assert document["hazards"] == [
        {"hazard": "Damp and mould growth", "band": "C", "location": "Bathroom", "notes": "", "vocabulary": "hhsrs-2006"},
        {"hazard": "Excess cold", "band": None, "location": "Bedroom", "notes": "Single glazing",
         "vocabulary": "hhsrs-2006"}]
    first, second = document["photos"]
    assert (first["id"], second["id"]) == (on_question.id, plain.id)
    assert list(first) == ["id", "sha256", "content_type", "bytes", "width", "height", "caption", "question_id",
                           "taken_at"]
    assert list(second) == ["id", "sha256", "content_type", "bytes", "width", "height", "caption"]
    assert document["assessment"] == ASSESSMENT


def test_an_amendment_names_the_visit_it_amends(filled: Filled) -> None:
    """The amendment's document carries "amends" (after the photos, as the model orders it) and round-trips too."""
    visit = filled.store.submit_visit(filled.complete().id)
    [op] = filled.store.outbox()
    filled.store.record_results([op], [f.pushed(op, "applied", version=1)])
    w = filled.world
    filled.store.apply_changes([f.visit(filled.case_id, w.officer_id, w.template_id, id=visit.id, version=2,
                                        status="approved")], 200)
    amendment = filled.store.file_amendment(visit.id)
    filled.store.update_visit(amendment.id, notes="The extractor fan was broken too")
    filled.store.submit_visit(amendment.id)
    document = queued_document(filled)
    assert document["amends"] == visit.id and list(document)[-1] == "amends"
    assert wire_bytes(VisitDocument.model_validate(document).wire()) == wire_bytes(document)


def test_a_draft_the_portal_would_refuse_still_gives_its_letter_answer(filled: Filled) -> None:
    """The document of a draft is built unvalidated: a letter of a visit with no outcome says so in words."""
    draft = filled.draft(notes="Started, nothing chosen yet")
    with pytest.raises(LetterError, match="not recorded"):
        filled.store.letter_facts(draft.id)
