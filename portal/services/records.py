"""Creating and changing portal-owned records (the admin side and the seed use these).

Each function runs inside a write transaction, checks the references the body makes,
gives the record its version and seq, and records scope changes a case causes.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from types import SimpleNamespace
from typing import Any, Protocol

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from portal.clocks import Calendar, effective_due_at, mark_met
from portal.core.config import KdfParams
from portal.core.security import hash_password
from portal.errors import ApiError, invalid_request
from portal.models import CaseResidentRow, CaseRow, PropertyRow, ResidentRow, TeamRow, TemplateRow, UserRow
from portal.services import case_checks, case_clocks
from portal.services.passwords import check_password
from portal.services.scope import affected_callers, record_scope_changes, snapshot, touched_by
from portal.services.sequence import next_seq, utcnow
from portal.services.usernames import username_key
from sync.protocol import (
    AdminCasePatch,
    AdminUserCreate,
    CaseData,
    CaseStatus,
    ErrorCode,
    PropertyData,
    ResidentData,
    Role,
    TeamData,
    TemplateData,
    parse_timestamp,
)


class Record(Protocol):
    """Anything with id, version, seq and protocol data."""

    id: str
    version: int
    seq: int

    def data(self) -> dict[str, Any]: ...


def public(record: Record) -> dict[str, Any]:
    """A record as the admin endpoints and push conflicts return it: fields plus id, version, seq."""
    return {"id": record.id, "version": record.version, "seq": record.seq, **record.data()}


def user_public(user: UserRow) -> dict[str, Any]:
    """The ``user`` object of login and ``/me``."""
    return {"id": user.id, **{k: v for k, v in user.data().items()}}


def new_id() -> str:
    """A fresh record id."""
    return str(uuid.uuid4())


def _require(session: Session, model: type[Any], key: str | None, field: str, fields: dict[str, str]) -> Any:
    if key is None:
        return None
    row = session.get(model, key)
    if row is None:
        fields[field] = f"No {model.__tablename__[:-1]} has id {key}."
    return row


def _raise_if(fields: dict[str, str]) -> None:
    if fields:
        raise invalid_request(fields)


def create_team(session: Session, body: TeamData) -> TeamRow:
    """A new team."""
    team = TeamRow(id=new_id(), name=body.name, version=1, seq=next_seq(session))
    session.add(team)
    return team


def create_user(session: Session, body: AdminUserCreate, kdf: KdfParams) -> UserRow:
    """A new account; leads and officers need a team."""
    fields: dict[str, str] = {}
    _require(session, TeamRow, body.team_id, "team_id", fields)
    if body.role in (Role.OFFICER, Role.LEAD) and body.team_id is None:
        fields["team_id"] = "Officers and leads belong to a team."
    _raise_if(fields)
    check_password(body.password)
    # Sign-in matches usernames by their key (case-insensitive in every script), so they are unique that way.
    key = username_key(body.username)
    taken = session.scalar(select(UserRow.username).where(UserRow.username_key == key))
    if taken is not None:
        raise ApiError(
            409, ErrorCode.CONFLICT,
            f"The username {body.username!r} is taken (by {taken!r}: usernames differing only in case are the same); choose another.",
            {"fields": {"username": "taken"}},
        )
    user = UserRow(
        id=new_id(), username=body.username, username_key=key, display_name=body.display_name, role=str(body.role),
        team_id=body.team_id, password_hash=hash_password(body.password, kdf), version=1, seq=next_seq(session),
    )
    session.add(user)
    return user


def create_property(session: Session, body: PropertyData) -> PropertyRow:
    """A new property."""
    prop = PropertyRow(id=new_id(), version=1, seq=next_seq(session), **body.model_dump(mode="json"))
    session.add(prop)
    return prop


def create_resident(session: Session, body: ResidentData) -> ResidentRow:
    """A new resident of an existing property."""
    fields: dict[str, str] = {}
    _require(session, PropertyRow, body.property_id, "property_id", fields)
    _raise_if(fields)
    resident = ResidentRow(id=new_id(), version=1, seq=next_seq(session), **body.model_dump(mode="json"))
    session.add(resident)
    return resident


def _check_template(body: TemplateData) -> None:
    fields: dict[str, str] = {}
    seen: set[str] = set()
    for s_index, section in enumerate(body.sections):
        if section.id in seen:
            fields[f"sections.{s_index}.id"] = f"The id {section.id!r} is used twice."
        seen.add(section.id)
    questions: set[str] = set()
    for s_index, section in enumerate(body.sections):
        for q_index, question in enumerate(section.questions):
            where = f"sections.{s_index}.questions.{q_index}"
            if question.id in questions:
                fields[f"{where}.id"] = f"The question id {question.id!r} is used twice."
            questions.add(question.id)
            if question.kind in ("choice", "multi_choice") and not question.options:
                fields[f"{where}.options"] = "Choice questions need a list of options."
    _check_show_if(body, fields)
    _raise_if(fields)


def _check_show_if(body: TemplateData, fields: dict[str, str]) -> None:
    """Each ``show_if`` names another question of the template, and a value it can take."""
    questions = body.questions()
    for s_index, section in enumerate(body.sections):
        for q_index, question in enumerate(section.questions):
            condition = question.show_if
            if condition is None:
                continue
            where = f"sections.{s_index}.questions.{q_index}.show_if"
            parent = questions.get(condition.question_id)
            if parent is None or parent.id == question.id:
                fields[f"{where}.question_id"] = "Name another question of this template."
            elif parent.kind in ("choice", "multi_choice") and condition.equals not in (parent.options or []):
                fields[f"{where}.equals"] = f"Use one of the options of {parent.id!r}."
            elif parent.kind == "yes_no" and not isinstance(condition.equals, bool):
                fields[f"{where}.equals"] = f"{parent.id!r} is a yes/no question: use true or false."


def create_template(session: Session, body: TemplateData) -> TemplateRow:
    """A new inspection template."""
    _check_template(body)
    data = body.model_dump(mode="json", exclude_none=True)
    template = TemplateRow(
        id=new_id(), version=1, seq=next_seq(session), name=data["name"], template_version=data["version"],
        case_types=data["case_types"], sections=data["sections"],
    )
    session.add(template)
    return template


def _set_residents(session: Session, case: CaseRow, *, replace: bool) -> None:
    if replace:
        session.execute(delete(CaseResidentRow).where(CaseResidentRow.case_id == case.id).execution_options(synchronize_session=False))
    for resident_id in dict.fromkeys(case.resident_ids):
        session.add(CaseResidentRow(case_id=case.id, resident_id=resident_id))


def case_row(
    session: Session, values: dict[str, Any], *, case_id: str, seq: int, source: str = "crm",
    reported_by_id: str | None = None, plan: tuple[dict[str, Any], Calendar] | None = None,
) -> dict[str, Any]:
    """A new case's column values from its checked fields (``case_checks.new_case_values``), clocks included.

    ``plan`` (schedule, calendar) saves reading them again when many cases are made.
    """
    row = {
        "id": case_id, "version": 1, "seq": seq, **values, "due_at": values["service_due_at"], "source": source,
        "reported_by_id": reported_by_id, "clocks": [], "awaab": False, "investigation": None, "purged": False,
        "closed_at": utcnow() if values["status"] == CaseStatus.CLOSED else None,
    }
    row.update(case_clocks.derive(session, SimpleNamespace(**row), plan=plan))
    return row


def create_case(
    session: Session, body: CaseData, *, track_scope: bool = True, case_id: str | None = None,
    source: str = "crm", reported_by_id: str | None = None,
) -> CaseRow:
    """A new case with its statutory clocks; ``due_at`` is the earliest unmet clock's, else the service date.

    The service date is ``due_at`` when given, else the council's service standard
    (portal/duedates.py). ``track_scope=False`` skips the grant rows for properties and
    residents the case brings into someone's scope: only for filling a fresh database
    nobody has pulled. A hazard report gives its ``case_id``, ``source`` ``officer`` and
    the reporter (who keeps the case in scope).
    """
    fields: dict[str, str] = {}
    values = body.model_dump(mode="json")
    values = case_checks.new_case_values(case_checks.CaseRefs.load(session, [values]), values, fields)
    _raise_if(fields)
    case = CaseRow(**case_row(session, values, case_id=case_id or new_id(), seq=next_seq(session), source=source, reported_by_id=reported_by_id))
    callers = affected_callers(session, [case.assigned_officer_id, reported_by_id], [case.team_id]) if track_scope else []
    touched = touched_by(session, case.id, [case.property_id], case.resident_ids)
    before = snapshot(session, callers, touched)
    session.add(case)
    session.flush()
    _set_residents(session, case, replace=False)
    record_scope_changes(session, callers, touched, before)
    return case


#: A PATCH changing one of these re-triages the case: every unmet clock is recomputed.
RETRIAGE_FIELDS = ("priority", "case_type", "reported_hazards", "aware_at")


def _clocks_met(values: dict[str, Any], case: CaseRow, fields: dict[str, str]) -> dict[str, Any]:
    """The ``clocks_met`` of a PATCH as {stage: aware time}, naming each bad entry."""
    met: dict[str, Any] = {}
    stages = {c["stage"] for c in case.clocks or []}
    for stage, when in (values.pop("clocks_met", None) or {}).items():
        field = f"clocks_met.{stage}"
        if stage not in stages:
            fields[field] = f"This case has no {stage!r} clock; its clocks are: {', '.join(sorted(stages)) or 'none'}."
        elif (stamp := case_checks.timestamp(when, field, fields)) is not None:
            met[stage] = parse_timestamp(stamp)
    return met


def patch_case(session: Session, case: CaseRow, body: AdminCasePatch) -> CaseRow:
    """Change any subset of a case's fields (reassignment included) and move scope with it.

    A re-triage (``RETRIAGE_FIELDS``) recomputes every unmet clock; ``clocks_met`` marks
    clocks met (the CRM reports works done); ``due_at`` sets the case's service date.
    """
    values = body.model_dump(mode="json", exclude_unset=True)
    fields: dict[str, str] = {}
    for name in ("reference", "case_type", "status", "priority", "summary", "opened_at", "property_id", "team_id", "resident_ids", "aware_at", "reported_hazards"):
        if name in values and values[name] is None:
            fields[name] = "This field cannot be emptied."
    for name in ("opened_at", "due_at", "aware_at"):
        if values.get(name) is not None:
            values[name] = case_checks.timestamp(values[name], name, fields)
    met = _clocks_met(values, case, fields)
    merged = {**case.data(), **values}
    refs = case_checks.CaseRefs.load(session, [merged])
    case_checks.check_hazards(refs, values.get("reported_hazards"), "reported_hazards", fields)
    case_checks.check_refs(refs, merged, fields)
    case_checks.check_unique(refs, values, fields, case.id)
    _raise_if(fields)
    callers = affected_callers(session, [case.assigned_officer_id, merged["assigned_officer_id"], case.reported_by_id], [case.team_id, merged["team_id"]])
    touched = touched_by(session, case.id, {case.property_id, merged["property_id"]}, [*case.resident_ids, *merged["resident_ids"]])
    before = snapshot(session, callers, touched)
    retriage = any(name in values and values[name] != getattr(case, name) for name in RETRIAGE_FIELDS)
    standard = case.service_due_at == case_checks.service_date(case.case_type, case.priority, case.opened_at)
    if "due_at" in values:
        case.service_due_at = values.pop("due_at")
    for name, value in values.items():
        setattr(case, name, value)
    if values.get("status") == CaseStatus.CLOSED and case.closed_at is None:
        case.closed_at = utcnow()
    elif "status" in values and values["status"] != CaseStatus.CLOSED:
        # Reopened: back in its holders' scope.
        case.closed_at = None
        case.purged = False
    for stage, when in met.items():
        case.clocks = mark_met(case.clocks or [], stage, when)
    if retriage:
        if standard and "due_at" not in body.model_fields_set:
            # The service date was the standard's, not the CRM's: it follows the new triage too.
            case.service_due_at = case_checks.service_date(case.case_type, case.priority, case.opened_at)
        case_clocks.refresh_clocks(session, case)
    case.due_at = effective_due_at(case.clocks or [], case.service_due_at)
    case.version += 1
    case.seq = next_seq(session)
    session.flush()
    if "resident_ids" in values:
        _set_residents(session, case, replace=True)
    record_scope_changes(session, callers, touched, before)
    return case


def purge_closed_cases(session: Session, retention_days: int) -> int:
    """Take cases closed more than ``retention_days`` ago out of every field scope.

    Their holders pull tombstones for the case, and for its property and residents
    where nothing else in their scope references them: personal data leaves the
    laptops once the work is done. Runs in a serialised write transaction.
    """
    cutoff = utcnow() - timedelta(days=retention_days)
    due = session.scalars(
        select(CaseRow).where(CaseRow.status == CaseStatus.CLOSED, CaseRow.purged.is_(False), CaseRow.closed_at < cutoff)
    ).all()
    for case in due:
        callers = affected_callers(session, [case.assigned_officer_id, case.reported_by_id], [case.team_id])
        touched = touched_by(session, case.id, [case.property_id], case.resident_ids)
        before = snapshot(session, callers, touched)
        case.purged = True
        record_scope_changes(session, callers, touched, before)
    return len(due)
