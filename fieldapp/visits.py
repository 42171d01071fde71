"""Visit rules of the local store: starting, editing, submitting, the protocol's visit document.

A visit starts from the newest version of a form for its case's type (`start`). A
draft is saved on every edit, invalid values included, and its current problems are
shown to the officer (``Visit.problems``). Submitting (`submit`) freezes the visit and
queues its document (`visit_document`) once it validates completely:

* the outcome is required;
* required questions must be answered only when the outcome is ``completed``. An
  officer who got no access, was refused or rescheduled cannot answer what they
  could not inspect, so for those outcomes only the answers given are checked;
* every answer must fit its question, and every row of the Hazards list must name an
  HHSRS hazard (its band may be empty, PROTOCOL.md revision 2, or A–J).

Every hazard row is stored as typed, however incomplete, and flagged until fixed.

The functions here work inside the caller's session; the facade owns transactions.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from fieldapp.clock import format_optional, format_timestamp, parse_optional, parse_timestamp, utc_now
from fieldapp.domain import Outcome, QuestionKind, hazard_record, is_blank
from fieldapp.domain_forms import drop_hidden, validate_answers
from fieldapp.domain_required import answers_required
from fieldapp.domain_vocabulary import check_hazard_list
from fieldapp.errors import NotFoundError, ValidationError, VisitLockedError
from fieldapp.limits import text_problems
from fieldapp.models import CaseRow, PhotoRow, TemplateRow, VisitRow
from fieldapp.records import visit_photos
from fieldapp.types import Hazard, VisitState, counted, portal_state
from fieldapp.assessment import document_assessment, merge_assessment
from fieldapp.submission import visit_assessment_problems, visit_vocabulary
from fieldapp.vocabulary import current_key, document_vocabulary, vocabularies_data

if TYPE_CHECKING:
    from fieldapp.wire import PhotoEntry

EDITABLE = (VisitState.DRAFT.value, VisitState.RETURNED.value)
_OUTCOMES = tuple(o.value for o in Outcome)


def new_id() -> str:
    """A new record id (UUID string), as the protocol wants for what the laptop creates."""
    return str(uuid.uuid4())


def get_visit(session: Session, visit_id: str) -> VisitRow:
    """The visit row, or NotFoundError."""
    row = session.get(VisitRow, visit_id)
    if row is None:
        raise NotFoundError(f"Visit {visit_id} is not on this laptop. Sync, then try again.")
    return row


def require_editable(row: VisitRow) -> None:
    """VisitLockedError, with what the officer can do instead, unless the visit may be edited."""
    if not row.own:
        raise VisitLockedError("This visit was recorded by another officer: you can review it but not edit it.")
    if row.state in EDITABLE:
        return
    if row.state == VisitState.QUEUED:
        raise VisitLockedError(
            "This visit is submitted and waiting to sync, so it can no longer be edited. "
            "If something is wrong, ask your team lead to return it once it has synced.")
    if row.state == VisitState.SUBMITTED:
        raise VisitLockedError(
            "This visit is with your team lead for review. You can edit it again if they return it.")
    raise VisitLockedError("This visit was approved and is locked. To correct it, file an amendment.")


def template_of(session: Session, row: VisitRow) -> TemplateRow | None:
    """The template version the visit was started from, if it is on this laptop."""
    return session.get(TemplateRow, (row.template_id, row.template_version))


def questions_of(template: TemplateRow | None) -> dict[str, Mapping[str, Any]]:
    """Every question of a template by id."""
    if template is None:
        return {}
    return {q["id"]: q for s in template.sections for q in s.get("questions", [])}


def hazard_list_problems(session: Session, row: VisitRow) -> dict[str, str]:
    """The Hazards list checked by the portal's own rule (`check_hazard_list`) in the visit's vocabulary."""
    return check_hazard_list(row.hazards, vocabularies_data(session), visit_vocabulary(row))


def visit_problems(session: Session, row: VisitRow, *, complete: bool) -> dict[str, str]:
    """The visit's problems: per question id, plus ``outcome``, ``hazards.N`` and ``template``."""
    template = template_of(session, row)
    photos = visit_photos(session, row.id)
    problems: dict[str, str] = {}
    if template is None:
        problems["template"] = ("The form this visit uses is not on this laptop. "
                                "Sync, then try again.")
    else:
        photo_ids = [p.id for p in photos]
        template_data = {"sections": template.sections}
        # A draft may be incomplete; a submit needs what the outcome requires (the portal's rule).
        required = complete and answers_required(row.outcome)
        problems.update(validate_answers(template_data, row.answers, photo_ids, require_complete=required,
                                         vocabularies=vocabularies_data(session),
                                         default_vocabulary=visit_vocabulary(row)))
    problems.update(visit_assessment_problems(session, row, complete=complete))
    problems.update(hazard_list_problems(session, row))
    # Past the portal's limits (shared with it): the officer hears of it here, not at sync.
    for key, message in text_problems(row.notes, list(row.hazards), [p.caption for p in photos]).items():
        problems.setdefault(key, message)
    if row.outcome is not None and row.outcome not in _OUTCOMES:
        problems["outcome"] = "Choose an outcome: completed, no access, refused or rescheduled."
    elif row.outcome is None and complete:
        problems["outcome"] = "Choose the visit's outcome."
    return problems


def current_problems(session: Session, row: VisitRow) -> dict[str, str]:
    """What the officer still has to fix in an editable visit (nothing for a frozen one)."""
    if not row.own or row.state not in EDITABLE:
        return {}
    return visit_problems(session, row, complete=False)


def newest_forms(session: Session) -> dict[str, TemplateRow]:
    """The newest version of each form (template) on this laptop, by id; withdrawn ones left out."""
    newest: dict[str, TemplateRow] = {}
    for row in session.scalars(select(TemplateRow).where(TemplateRow.deleted.is_(False))):
        if row.id not in newest or row.template_version > newest[row.id].template_version:
            newest[row.id] = row
    return newest


def forms_for(session: Session, case_id: str) -> list[TemplateRow]:
    """The newest version of each form for the case's type."""
    case = session.get(CaseRow, case_id)
    if case is None:
        raise NotFoundError(f"Case {case_id} is not on this laptop. Sync, then try again.")
    return [t for t in newest_forms(session).values() if case.case_type in t.case_types]


def start(session: Session, *, case_id: str, template_id: str, officer_id: str) -> VisitRow:
    """A new draft on the case, from the newest version of a form for its case type."""
    case = session.get(CaseRow, case_id)
    if case is None or case.deleted:
        raise NotFoundError("That case is no longer assigned to you. Sync to see your current cases.")
    template = newest_forms(session).get(template_id)
    if template is None:
        raise NotFoundError("That form is not on this laptop. Sync, then try again.")
    if case.case_type not in template.case_types:
        raise ValidationError(f"The form {template.name!r} is not for {case.case_type} cases; "
                              "choose one of the forms offered for this case.")
    return new_draft(session, case_id=case_id, officer_id=officer_id, template=template)


def new_draft(session: Session, *, case_id: str, officer_id: str, template: TemplateRow,
              amends: str | None = None) -> VisitRow:
    """A new draft visit row, added to the session."""
    now = utc_now()
    row = VisitRow(id=new_id(), case_id=case_id, officer_id=officer_id, template_id=template.id,
                   template_version=template.template_version, started_at=now, completed_at=None,
                   outcome=None, answers={}, notes="", hazards=[], state=VisitState.DRAFT.value,
                   server_version=0, review=None, amends=amends, own=True, local_edits=False,
                   op_id=None, submitted_at=None, received_at=None, updated_at=now,
                   assessment=None, vocabulary=current_key(session))
    session.add(row)
    return row


def apply_edit(
    session: Session,
    row: VisitRow,
    *,
    answers: Mapping[str, Any] | None,
    notes: str | None,
    outcome: str | None,
    hazards: Sequence[Hazard] | None,
    assessment: Mapping[str, Any] | None = None,
) -> None:
    """Save an edit to an editable visit (merging answers and the assessment; a None value removes it)."""
    require_editable(row)
    if answers is not None:
        merged = dict(row.answers)
        for question_id, value in answers.items():
            if value is None:
                merged.pop(question_id, None)
            else:
                merged[question_id] = _storable(question_id, value)
        row.answers = merged
    if notes is not None:
        row.notes = notes
    if assessment is not None:
        row.assessment = merge_assessment(row.assessment, assessment)
    if outcome is not None:
        row.outcome = outcome or None  # "" clears the outcome
    if hazards is not None:
        row.hazards = [hazard_entry(hazard_record(h)) for h in hazards]
    touch(row)


def touch(row: VisitRow) -> None:
    """Mark the visit edited now; a returned visit then holds corrections not yet resubmitted."""
    row.updated_at = utc_now()
    if row.state == VisitState.RETURNED:
        row.local_edits = True


def take_portal_state(row: VisitRow, status: object, now: datetime) -> None:
    """The visit takes the state of the portal's version (its ``status``), as changed ``now``.

    One that becomes submitted waits in the review queue from now (``received_at``).
    """
    state = portal_state(status)
    if state == VisitState.SUBMITTED and row.state != VisitState.SUBMITTED:
        row.received_at = now
    row.state = state.value
    row.updated_at = now


def _storable(question_id: str, value: Any) -> Any:
    """The answer as JSON keeps it (tuples become lists), or ValidationError before anything is saved."""
    if isinstance(value, tuple):
        value = list(value)
    try:
        json.dumps(value)
    except (TypeError, ValueError) as exc:
        raise ValidationError(f"The answer to {question_id!r} cannot be saved ({exc}); enter it as text, "
                              "a number, yes/no or a list.", {question_id: "This value cannot be saved."}) from exc
    return value


def link_photo_answer(session: Session, row: VisitRow, photo_id: str, new_question: str | None) -> None:
    """Keep photo-question answers (lists of photo ids) in step with a photo's question."""
    questions = questions_of(template_of(session, row))
    answers = dict(row.answers)
    # A photo belongs to one question at most: take it out of every other photo answer, so
    # an id put into an answer directly (not through `question_id`) never outlives its photo.
    for question_id, value in list(answers.items()):
        is_photo_answer = questions.get(question_id, {}).get("kind") == QuestionKind.PHOTO
        if question_id == new_question or not is_photo_answer or not isinstance(value, list):
            continue
        remaining = [p for p in value if p != photo_id]
        if remaining:
            answers[question_id] = remaining
        else:
            answers.pop(question_id)
    if new_question and questions.get(new_question, {}).get("kind") == QuestionKind.PHOTO:
        current = answers.get(new_question)
        ids = list(current) if isinstance(current, list) else []
        if photo_id not in ids:
            ids.append(photo_id)
        answers[new_question] = ids
    row.answers = answers


def check_submittable(session: Session, row: VisitRow) -> None:
    """ValidationError listing every problem that stops the visit being submitted."""
    require_editable(row)
    problems = visit_problems(session, row, complete=True)
    if problems:
        count = len(problems)
        raise ValidationError(
            f"This visit cannot be submitted yet: {counted(count, 'thing', 'to fix')}.", problems)


def submit(session: Session, row: VisitRow) -> None:
    """Check the visit completely, freeze it and queue its submit op (any earlier one replaced)."""
    # Imported here: the outbox takes its op ids from this module.
    from fieldapp import outbox

    check_submittable(session, row)
    now = utc_now()
    row.completed_at = row.completed_at or now
    row.submitted_at = now
    row.state = VisitState.QUEUED.value
    row.local_edits = False
    outbox.drop_visit_ops(session, row.id)
    op = outbox.enqueue(session, entity="visit", record_id=row.id, kind="submit", base_version=row.server_version,
                        data=visit_document(session, row))
    row.op_id = op.op_id
    # Submitting again answers whatever problem the visit had.
    outbox.clear_problems(session, "visit", row.id)


# ---------------------------------------------------------------- the protocol's visit document


def hazard_entry(hazard: Hazard) -> dict[str, Any]:
    """A row of the Hazards list as stored: no band is ``null``, as the protocol writes it."""
    return {"hazard": hazard.hazard, "band": hazard.band or None, "location": hazard.location, "notes": hazard.notes}


def visit_document(session: Session, row: VisitRow) -> dict[str, Any]:
    """The visit document exactly as PROTOCOL.md describes it and the laptop sends it.

    Built through `fieldapp.wire.VisitDocument`, the model the portal validates it with:
    blank answers and answers to questions hidden by ``show_if`` are absent, every hazard
    (listed or answered) names the visit's vocabulary, optional keys are absent when empty.
    Not validated here: a draft's document (the tenant's letter is made from drafts) may
    hold what a submit refuses, and the submit rules say so in the officer's words.
    """
    from fieldapp.wire import HazardEntry, VisitDocument  # pydantic: loaded when a document is first made

    key = visit_vocabulary(row)
    answers = {k: v for k, v in row.answers.items() if not is_blank(v)}
    template = template_of(session, row)
    if template is not None:
        answers = drop_hidden({"sections": template.sections}, answers)
    fields: dict[str, Any] = {
        "case_id": row.case_id, "officer_id": row.officer_id, "template_id": row.template_id,
        "template_version": row.template_version, "started_at": format_timestamp(row.started_at),
        "completed_at": format_optional(row.completed_at), "outcome": row.outcome,
        "answers": {qid: _named(value, key) for qid, value in answers.items()}, "notes": row.notes,
        "hazards": [HazardEntry.model_construct(**hazard_entry(hazard_record(h)), vocabulary=key) for h in row.hazards],
        "photos": [_photo_entry(p) for p in visit_photos(session, row.id)],
    }
    if row.amends:
        fields["amends"] = row.amends
    assessment = document_assessment(row.assessment)
    if assessment is not None:
        fields["assessment"] = assessment
    return VisitDocument.model_construct(**fields).wire()


def _photo_entry(photo: PhotoRow) -> PhotoEntry:
    """One entry of the document's ``photos``, optional keys absent when empty."""
    from fieldapp.wire import PhotoEntry

    fields: dict[str, Any] = {"id": photo.id, "sha256": photo.sha256, "content_type": photo.content_type,
                              "bytes": photo.bytes, "width": photo.width, "height": photo.height,
                              "caption": photo.caption}
    if photo.question_id is not None:
        fields["question_id"] = photo.question_id
    if photo.taken_at is not None:
        fields["taken_at"] = format_timestamp(photo.taken_at)
    return PhotoEntry.model_construct(**fields)


def _named(value: Any, key: str) -> Any:
    """A hazard answer (an object) with its vocabulary named; lists (repeat sections) answer by answer."""
    if isinstance(value, list):
        return [_named(v, key) for v in value]
    if isinstance(value, Mapping) and "hazard" in value:
        return {**value, "vocabulary": value.get("vocabulary") or key}
    return value


def take_document(session: Session, row: VisitRow, document: Mapping[str, Any]) -> list[str]:
    """Replace the visit's content with a pulled document; returns hashes of photos it no longer has."""
    row.case_id = document["case_id"]
    row.officer_id = document["officer_id"]
    row.template_id = document["template_id"]
    row.template_version = int(document["template_version"])
    row.started_at = parse_timestamp(document["started_at"])
    row.completed_at = parse_optional(document.get("completed_at"))
    row.outcome = document.get("outcome")
    row.answers = dict(document.get("answers") or {})
    row.notes = document.get("notes") or ""
    row.hazards = [dict(h) for h in document.get("hazards") or []]
    row.amends = document.get("amends")
    row.assessment = dict(document["assessment"]) if document.get("assessment") is not None else None
    row.vocabulary = document_vocabulary(document)
    old_rows = visit_photos(session, row.id)
    old = {p.id: p.sha256 for p in old_rows}
    entries = list(document.get("photos") or [])
    kept = {e["id"] for e in entries}
    # Which photo is an annotated copy of which is the laptop's own knowledge (the document has no such field).
    sources = {p.id: p.source_photo_id for p in old_rows if p.source_photo_id in kept}
    drafts = {p.id: p.annotation_draft for p in old_rows if p.annotation_draft}
    session.execute(delete(PhotoRow).where(PhotoRow.visit_id == row.id))
    session.flush()
    for position, entry in enumerate(entries):
        session.add(PhotoRow(
            id=entry["id"], visit_id=row.id, position=position, sha256=entry["sha256"],
            content_type=entry.get("content_type", "image/jpeg"), bytes=int(entry.get("bytes", 0)),
            width=int(entry.get("width", 0)), height=int(entry.get("height", 0)),
            caption=entry.get("caption") or "", question_id=entry.get("question_id"),
            taken_at=parse_optional(entry.get("taken_at")), source_photo_id=sources.get(entry["id"]),
            annotation_draft=drafts.get(entry["id"])))
    return [sha for photo_id, sha in old.items() if photo_id not in kept]
