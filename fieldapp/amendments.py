"""A visit after the lead: what changed since it was returned, and the draft that amends an approved one."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from fieldapp.domain import is_blank
from fieldapp.errors import NotFoundError, ValidationError
from fieldapp.models import PhotoRow, VisitHistoryRow, VisitRow
from fieldapp.types import VisitChanges, VisitState
from fieldapp.visits import get_visit, new_draft, new_id, template_of


def visit_changes(session: Session, visit_id: str) -> VisitChanges | None:
    """What changed since the visit was last returned (None if it never was)."""
    row = get_visit(session, visit_id)
    returned = session.scalar(
        select(VisitHistoryRow).where(VisitHistoryRow.visit_id == visit_id, VisitHistoryRow.status == "returned")
        .order_by(VisitHistoryRow.version.desc()).limit(1))
    if returned is None:
        return None
    before = returned.document
    old = {k: v for k, v in (before.get("answers") or {}).items() if not is_blank(v)}
    new = {k: v for k, v in row.answers.items() if not is_blank(v)}
    old_photos = [p["id"] for p in before.get("photos") or []]
    new_photos = [p.id for p in session.scalars(select(PhotoRow).where(PhotoRow.visit_id == visit_id))]
    old_hazards = [dict(h, location=h.get("location", ""), notes=h.get("notes", "")) for h in before.get("hazards") or []]
    return VisitChanges(
        answers_added=tuple(sorted(set(new) - set(old))),
        answers_changed=tuple(sorted(k for k in set(new) & set(old) if new[k] != old[k])),
        answers_removed=tuple(sorted(set(old) - set(new))),
        photos_added=tuple(p for p in new_photos if p not in old_photos),
        photos_removed=tuple(p for p in old_photos if p not in new_photos),
        notes_changed=(before.get("notes") or "") != row.notes,
        hazards_changed=old_hazards != row.hazards,
        returned_comment=(before.get("review") or {}).get("comment") or "")


def amend(session: Session, source: VisitRow, officer_id: str) -> VisitRow:
    """A new draft amending an approved visit: its answers, notes, hazards, assessment and photos carried over."""
    if not source.own or source.state != VisitState.APPROVED:
        raise ValidationError("Only your own approved visits can be amended; edit a draft or returned "
                              "visit directly.")
    template = template_of(session, source)
    if template is None:
        raise NotFoundError("The form of that visit is not on this laptop. Sync, then try again.")
    draft = new_draft(session, case_id=source.case_id, officer_id=officer_id, template=template, amends=source.id)
    session.flush()
    # Same files (content-addressed), new photo ids; photo answers follow the new ids.
    renamed: dict[str, str] = {}
    for photo in session.scalars(select(PhotoRow).where(PhotoRow.visit_id == source.id).order_by(PhotoRow.position)):
        renamed[photo.id] = new_id()
        session.add(PhotoRow(id=renamed[photo.id], visit_id=draft.id, position=photo.position,
                             sha256=photo.sha256, content_type=photo.content_type, bytes=photo.bytes,
                             width=photo.width, height=photo.height, caption=photo.caption,
                             question_id=photo.question_id, taken_at=photo.taken_at))
    draft.answers = {k: _with_photo_ids_renamed(v, renamed) for k, v in source.answers.items()}
    draft.notes = source.notes
    draft.hazards = [dict(h) for h in source.hazards]
    draft.outcome = source.outcome
    draft.assessment = dict(source.assessment) if source.assessment is not None else None
    draft.vocabulary = source.vocabulary  # an amendment corrects the record in its own vocabulary
    session.flush()
    return draft


def _with_photo_ids_renamed(value: Any, renamed: Mapping[str, str]) -> Any:
    """An answer with the old visit's photo ids replaced by the amendment's, at any depth of lists
    (a photo answer is a list of ids; in a repeated section, a list of such lists, one per room)."""
    if not isinstance(value, list):
        return value   # photo ids only ever sit in lists; a text answer is never rewritten
    return [renamed.get(item, item) if isinstance(item, str) else _with_photo_ids_renamed(item, renamed)
            for item in value]
