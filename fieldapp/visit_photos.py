"""A visit's photo rows: which visit and question a photo may go on, adding, changing and removing them.

Only an editable visit's photos change, and only on a question of its form. A photo on a
photo question is also in that question's answer (`fieldapp.visits.link_photo_answer`),
so the two never disagree. Every change counts as an edit of the visit (`touch`).
The files themselves are `fieldapp.photos`'; the facade writes and removes them around
these functions, which work inside the caller's session.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from fieldapp.clock import as_utc
from fieldapp.errors import NotFoundError, ValidationError
from fieldapp.models import BlobRow, PhotoRow, VisitRow
from fieldapp.records import visit_photos
from fieldapp.visits import get_visit, link_photo_answer, new_id, questions_of, require_editable, template_of, touch

if TYPE_CHECKING:  # Pillow is loaded only when a photo is handled
    from fieldapp.photos import PreparedPhoto


def target(session: Session, visit_id: str, question_id: str | None) -> VisitRow:
    """The visit a new photo goes on, if it may be edited and ``question_id`` is one of its form's."""
    row = get_visit(session, visit_id)
    require_editable(row)
    check_question(session, row, question_id)
    return row


def check_question(session: Session, row: VisitRow, question_id: str | None) -> None:
    """ValidationError unless ``question_id`` (when given) is a question of the visit's form."""
    if question_id and question_id not in questions_of(template_of(session, row)):
        raise ValidationError(f"Question {question_id!r} is not part of this visit's form.",
                              {"question_id": "Choose a question of this form."})


def editable_photo(session: Session, photo_id: str) -> tuple[PhotoRow, VisitRow]:
    """The photo and its visit, if the visit may be edited."""
    photo = session.get(PhotoRow, photo_id)
    if photo is None:
        raise NotFoundError(f"Photo {photo_id} is not on this laptop.")
    row = get_visit(session, photo.visit_id)
    require_editable(row)
    return photo, row


def add(session: Session, row: VisitRow, prepared: PreparedPhoto, caption: str, question_id: str | None) -> PhotoRow:
    """A prepared photo as the visit's last photo (its blob not yet on the portal)."""
    last = session.execute(select(func.coalesce(func.max(PhotoRow.position), -1))
                           .where(PhotoRow.visit_id == row.id)).scalar_one()
    photo = PhotoRow(id=new_id(), visit_id=row.id, position=int(last) + 1, sha256=prepared.sha256,
                     content_type=prepared.content_type, bytes=prepared.size, width=prepared.width,
                     height=prepared.height, caption=caption, question_id=question_id or None,
                     taken_at=as_utc(prepared.taken_at) if prepared.taken_at else None)
    session.add(photo)
    if session.get(BlobRow, prepared.sha256) is None:
        session.add(BlobRow(sha256=prepared.sha256, uploaded=False))
    session.flush()
    link_photo_answer(session, row, photo.id, photo.question_id)
    touch(row)
    return photo


def add_annotated(session: Session, source_photo_id: str, prepared: PreparedPhoto) -> PhotoRow:
    """An annotated copy as a new photo of its source's visit, on the same question, linked to the source."""
    from fieldapp.photos_annotate import annotated_caption

    source, row = editable_photo(session, source_photo_id)
    number = [p.id for p in visit_photos(session, row.id)].index(source.id) + 1
    photo = add(session, row, prepared, annotated_caption(number, source.caption), source.question_id)
    photo.source_photo_id = source.id
    source.annotation_draft = None   # the marks are in the copy now
    return photo


def change(session: Session, photo_id: str, *, caption: str | None, question_id: str | None) -> PhotoRow:
    """A new caption, or another question ("" detaches the photo from any question)."""
    photo, row = editable_photo(session, photo_id)
    if caption is not None:
        photo.caption = caption
    if question_id is not None:
        check_question(session, row, question_id)
        link_photo_answer(session, row, photo.id, question_id or None)
        photo.question_id = question_id or None
    touch(row)
    session.flush()
    return photo


def remove(session: Session, photo_id: str) -> str:
    """Take a photo off its visit; returns its hash (the file goes unless another photo uses it)."""
    photo, row = editable_photo(session, photo_id)
    link_photo_answer(session, row, photo.id, None)
    sha256 = photo.sha256
    session.delete(photo)
    # Its annotated copies stay (the officer's work), no longer linked to a photo that is gone.
    session.execute(update(PhotoRow).where(PhotoRow.source_photo_id == photo_id).values(source_photo_id=None))
    touch(row)
    return sha256
