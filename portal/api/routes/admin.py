"""The integration side for the council's CRM and staff: create records, reassign, export visits."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.api.deps import AdminDep, DbDep, JsonBody, SeqQuery, SettingsDep, WhereDep
from portal.api.rows import row_or_404
from portal.api.schemas import CasePublic, PropertyPublic, ResidentPublic, TeamPublic, TemplatePublic, UserRecordPublic
from portal.errors import invalid_request
from portal.models import CaseRow, VisitRow
from portal.openapi import error_responses
from portal.services import audit, records
from portal.services.audit import Action, Event
from portal.services.records import public
from sync.protocol import (
    AdminCasePatch,
    AdminUserCreate,
    AdminVisitsResponse,
    CaseData,
    PropertyData,
    ResidentData,
    TeamData,
    TemplateData,
    VisitStatus,
)

router = APIRouter(prefix="/admin", tags=["admin"])


def _created(session: Session, where: audit.Where, entity: str, record: Any) -> dict[str, Any]:
    """The new record as answered, after its audit event (field names only, never values)."""
    answer = public(record)
    fields = sorted(k for k in answer if k not in ("id", "version", "seq"))
    audit.add(session, where, [Event(Action.ADMIN_CREATE, entity, record.id, {"fields": fields})])
    return answer


@router.post("/teams", status_code=201, response_model=TeamPublic)
def create_team(_admin: AdminDep, _json: JsonBody, body: TeamData, db: DbDep, where: WhereDep) -> dict[str, Any]:
    """A new team."""
    with db.write() as session:
        return _created(session, where, "team", records.create_team(session, body))


@router.post("/users", status_code=201, response_model=UserRecordPublic, responses=error_responses(409))
def create_user(_admin: AdminDep, _json: JsonBody, body: AdminUserCreate, db: DbDep, settings: SettingsDep, where: WhereDep) -> dict[str, Any]:
    """A new account (the password is hashed and never returned)."""
    with db.write() as session:
        return _created(session, where, "user", records.create_user(session, body, settings.kdf))


@router.post("/properties", status_code=201, response_model=PropertyPublic)
def create_property(_admin: AdminDep, _json: JsonBody, body: PropertyData, db: DbDep, where: WhereDep) -> dict[str, Any]:
    """A new property."""
    with db.write() as session:
        return _created(session, where, "property", records.create_property(session, body))


@router.post("/residents", status_code=201, response_model=ResidentPublic)
def create_resident(_admin: AdminDep, _json: JsonBody, body: ResidentData, db: DbDep, where: WhereDep) -> dict[str, Any]:
    """A new resident."""
    with db.write() as session:
        return _created(session, where, "resident", records.create_resident(session, body))


@router.post("/templates", status_code=201, response_model=TemplatePublic)
def create_template(_admin: AdminDep, _json: JsonBody, body: TemplateData, db: DbDep, where: WhereDep) -> dict[str, Any]:
    """A new inspection template."""
    with db.write() as session:
        return _created(session, where, "template", records.create_template(session, body))


@router.post("/cases", status_code=201, response_model=CasePublic, responses=error_responses(409))
def create_case(_admin: AdminDep, _json: JsonBody, body: CaseData, db: DbDep, where: WhereDep) -> dict[str, Any]:
    """A new case (due date by Awaab's Law rules when not given)."""
    with db.write() as session:
        return _created(session, where, "case", records.create_case(session, body))


@router.patch("/cases/{case_id}", response_model=CasePublic, responses=error_responses(409))
def patch_case(case_id: str, _admin: AdminDep, _json: JsonBody, body: AdminCasePatch, db: DbDep, where: WhereDep) -> dict[str, Any]:
    """Change a case, reassignment included."""
    with db.write() as session:
        case = row_or_404(session, CaseRow, case_id, "case")
        answer = public(records.patch_case(session, case, body))
        fields = sorted(body.model_dump(exclude_unset=True))
        audit.add(session, where, [Event(Action.ADMIN_UPDATE, "case", case.id, {"fields": fields})])
        return answer


@router.get("/visits", response_model=AdminVisitsResponse)
def visits(
    _admin: AdminDep, db: DbDep, where: WhereDep,
    status: Annotated[str | None, Query()] = None,
    since: SeqQuery = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 500,
) -> dict[str, Any]:
    """Visits after ``since`` in ascending seq, optionally of one status, for export."""
    if status is not None and status not in {s.value for s in VisitStatus}:
        raise invalid_request({"status": f"Use one of: {', '.join(s.value for s in VisitStatus)}."})
    with db.read() as session:
        query = select(VisitRow).where(VisitRow.seq > since).order_by(VisitRow.seq).limit(limit + 1)
        if status is not None:
            query = query.where(VisitRow.status == status)
        rows = list(session.scalars(query))
    page = rows[:limit]
    # The CRM's export reads officers' visits (personal data): how many, never what.
    audit.record(db, where, Event(Action.ADMIN_EXPORT, "visit", None, {"visits": len(page), "since": since}))
    return {
        "visits": [public(v) for v in page],
        "next_since": page[-1].seq if page else since,
        "has_more": len(rows) > limit,
    }
