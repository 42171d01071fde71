"""Turning rows of the local store into the frozen records of `fieldapp.types`.

Nothing here writes; every function reads inside the caller's session.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from fieldapp.clock import parse_optional, parse_timestamp, utc_now
from fieldapp.clocks import clocks_of
from fieldapp.domain import OpKind, hazard_record, is_case_overdue, visit_hazards
from fieldapp.domain_vocabulary import DEFAULT_VOCABULARY
from fieldapp.errors import NotFoundError
from fieldapp.models import (
    BlobRow,
    CaseRow,
    CaseResidentRow,
    OutboxRow,
    PhotoRow,
    PropertyRow,
    ResidentRow,
    SyncStateRow,
    TemplateRow,
    UserRow,
    VisitRow,
)
from fieldapp.types import (
    CaseDetail,
    Hazard,
    Photo,
    Property,
    Question,
    Resident,
    Review,
    Section,
    SummaryIssued,
    Template,
    UserInfo,
    Visit,
    VisitState,
    VisitSummary,
)


def user_info(state: SyncStateRow) -> UserInfo | None:
    """The signed-in user recorded in the sync state, if any."""
    return UserInfo.recorded(state.user_id, state.username, state.display_name, state.role, state.team_id)


def property_record(row: PropertyRow | None, property_id: str) -> Property:
    """The property, or an empty placeholder while a pull has not delivered it yet."""
    if row is None:
        return Property(id=property_id, uprn="", address_lines=("Address not synced yet",), town="",
                        postcode="", property_type="", bedrooms=0)
    return Property(id=row.id, uprn=row.uprn, address_lines=tuple(row.address_lines), town=row.town,
                    postcode=row.postcode, property_type=row.property_type, bedrooms=row.bedrooms)


def case_detail(session: Session, case_id: str) -> CaseDetail:
    """A case with its property, residents (and their warnings) and visits, newest first."""
    row = session.get(CaseRow, case_id)
    if row is None:
        raise NotFoundError(f"Case {case_id} is not on this laptop. Sync, then try again.")
    visits = session.scalars(select(VisitRow).where(VisitRow.case_id == case_id).order_by(VisitRow.started_at.desc()))
    return CaseDetail(
        id=row.id, reference=row.reference, case_type=row.case_type, status=row.status,
        priority=row.priority, summary=row.summary, description=row.description,
        opened_at=row.opened_at, due_at=row.due_at,
        overdue=is_case_overdue(row.due_at, row.status, utc_now()),
        property=property_record(session.get(PropertyRow, row.property_id), row.property_id),
        residents=case_residents(session, case_id), assigned_officer_id=row.assigned_officer_id,
        team_id=row.team_id, visits=tuple(visit_summary(session, v, row.reference) for v in visits),
        aware_at=row.aware_at, reported_hazards=tuple(row.reported_hazards or ()), source=row.source,
        awaab=row.awaab, clocks=clocks_of(row.clocks or ()))


def case_residents(session: Session, case_id: str) -> tuple[Resident, ...]:
    """The residents a case names, in the portal's order (those already pulled)."""
    rows = session.execute(
        select(ResidentRow)
        .join(CaseResidentRow, CaseResidentRow.resident_id == ResidentRow.id)
        .where(CaseResidentRow.case_id == case_id)
        .order_by(CaseResidentRow.position)
    ).scalars()
    return tuple(
        Resident(id=r.id, full_name=r.full_name, phone=r.phone, email=r.email,
                 vulnerabilities=tuple(r.vulnerabilities), warnings=tuple(r.warnings))
        for r in rows
    )


def template_record(row: TemplateRow) -> Template:
    """A template version with its sections and questions."""
    sections = tuple(
        Section(
            id=s["id"], title=s.get("title", ""),
            questions=tuple(
                Question(id=q["id"], label=q.get("label", q["id"]), kind=q["kind"],
                         required=bool(q.get("required", False)), options=tuple(q.get("options") or ()),
                         min=q.get("min"), max=q.get("max"), help=q.get("help"), show_if=q.get("show_if"))
                for q in s.get("questions", [])
            ),
            repeat=bool(s.get("repeat", False)),
        )
        for s in row.sections
    )
    return Template(id=row.id, name=row.name, version=row.template_version,
                    case_types=tuple(row.case_types), sections=sections)


def hazards_of(raw: Sequence[Mapping[str, Any]]) -> tuple[Hazard, ...]:
    """The stored Hazards list as records."""
    return tuple(hazard_record(h) for h in raw)


def all_hazards(row: VisitRow) -> tuple[Hazard, ...]:
    """Every hazard of the visit, listed or answered at a question (`fieldapp.domain.visit_hazards`)."""
    return visit_hazards(row.hazards, row.answers)


def visit_photos(session: Session, visit_id: str) -> list[PhotoRow]:
    """The visit's photo rows in the order they were added."""
    return list(session.scalars(
        select(PhotoRow).where(PhotoRow.visit_id == visit_id).order_by(PhotoRow.position, PhotoRow.id)))


def photo_record(session: Session, row: PhotoRow, photos_dir: Path) -> Photo:
    """A photo with the paths of its file and thumbnail where they are on this laptop."""
    from fieldapp.photo_files import photo_path, thumbnail_path

    path = photo_path(photos_dir, row.sha256, row.content_type)
    thumb = thumbnail_path(photos_dir, row.sha256)
    blob = session.get(BlobRow, row.sha256)
    return Photo(id=row.id, visit_id=row.visit_id, sha256=row.sha256, content_type=row.content_type,
                 bytes=row.bytes, width=row.width, height=row.height, caption=row.caption,
                 question_id=row.question_id, taken_at=row.taken_at,
                 path=path if path.exists() else None, thumbnail_path=thumb if thumb.exists() else None,
                 uploaded=bool(blob and blob.uploaded), source_photo_id=row.source_photo_id)


def review_record(raw: Mapping[str, Any] | None) -> Review | None:
    """The portal's review of a visit, if it has one."""
    if not raw:
        return None
    return Review(decision=raw.get("decision", ""), comment=raw.get("comment") or "",
                  lead_id=raw.get("lead_id", ""), decided_at=parse_optional(raw.get("decided_at")))


def visit_record(session: Session, row: VisitRow, photos_dir: Path, problems: Mapping[str, str]) -> Visit:
    """The full visit record."""
    photos = tuple(photo_record(session, p, photos_dir) for p in visit_photos(session, row.id))
    return Visit(id=row.id, case_id=row.case_id, officer_id=row.officer_id, template_id=row.template_id,
                 template_version=row.template_version, started_at=row.started_at,
                 completed_at=row.completed_at, outcome=row.outcome, answers=dict(row.answers),
                 notes=row.notes, hazards=hazards_of(row.hazards), photos=photos,
                 state=VisitState(row.state), server_version=row.server_version,
                 review=review_record(row.review), amends=row.amends, problems=dict(problems),
                 assessment=dict(row.assessment) if row.assessment is not None else None,
                 vocabulary=row.vocabulary or DEFAULT_VOCABULARY, summary_issued=summary_record(session, row))


def queued_summary(session: Session, visit_id: str) -> OutboxRow | None:
    """The visit's summary_issued op while it waits to be sent."""
    return session.scalar(select(OutboxRow).where(
        OutboxRow.record_id == visit_id, OutboxRow.entity == "visit",
        OutboxRow.kind == OpKind.SUMMARY_ISSUED).limit(1))


def summary_record(session: Session, row: VisitRow) -> SummaryIssued | None:
    """When the tenant's written summary went out (``sent`` False while its op waits here)."""
    data = row.summary_issued
    if not data:
        return None
    return SummaryIssued(method=str(data.get("method")), issued_at=parse_timestamp(str(data["issued_at"])),
                         by_id=str(data.get("by_id") or ""), sent=queued_summary(session, row.id) is None)


def officer_name(session: Session, officer_id: str) -> str:
    """The display name of an officer, as far as this laptop knows it."""
    user = session.get(UserRow, officer_id)
    if user is not None:
        return user.display_name
    state = session.get(SyncStateRow, 1)
    if state is not None and state.user_id == officer_id and state.display_name:
        return state.display_name
    return "Unknown officer"


def visit_summary(session: Session, row: VisitRow, reference: str) -> VisitSummary:
    """A visit as listed under its case."""
    photo_count = len(visit_photos(session, row.id))
    hazards = all_hazards(row)
    return VisitSummary(id=row.id, case_id=row.case_id, case_reference=reference, officer_id=row.officer_id,
                        officer_name=officer_name(session, row.officer_id), started_at=row.started_at,
                        outcome=row.outcome, state=VisitState(row.state), photo_count=photo_count,
                        hazard_count=len(hazards), category_1=any(h.category_1 for h in hazards),
                        submitted_at=row.submitted_at, amends=row.amends,
                        summary_issued=summary_record(session, row))


def case_reference(session: Session, case_id: str) -> str:
    """The case's reference, or an empty string when the case is not here."""
    case = session.get(CaseRow, case_id)
    return case.reference if case is not None else ""
