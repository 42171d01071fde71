"""Hazard reports from the field (PROTOCOL.md revision 2): an officer's report opens a case with its own clock.

Any officer can report a hazard seen on any visit, in scope of a property they can
see. The portal opens a case for the caller's team, unassigned, ``source`` ``officer``:
``aware_at`` is when the portal receives the report, unless the officer observed the
hazard earlier within the last 24 hours; the case type is ``damp_mould`` when damp and
mould is reported, else ``repair``. The reporter keeps the case in their scope and
their team's leads see it as a case of the team.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.errors import ApiError, invalid_request, not_found
from portal.models import CaseRow, PropertyRow, ResidentRow, VisitRow
from portal.services import case_clocks, records, scope, webhooks
from sync.protocol import CaseData, ErrorCode, HazardReportData, format_timestamp, parse_timestamp, utc_now

DAMP_AND_MOULD = "Damp and mould growth"
#: How far back an officer's observation may set the time the council became aware.
OBSERVATION_WINDOW = timedelta(hours=24)


def aware_at(observed_at: datetime, received: datetime) -> datetime:
    """When the council became aware: on receipt, unless observed earlier within the last 24 hours."""
    if received - OBSERVATION_WINDOW <= observed_at < received:
        return observed_at
    return received


def case_type_for(hazards: list[str]) -> str:
    """``damp_mould`` when damp and mould is reported, else ``repair``."""
    return "damp_mould" if DAMP_AND_MOULD in hazards else "repair"


def _summary(hazards: list[str]) -> str:
    text = f"Hazard reported from the field: {', '.join(hazards)}"
    return text if len(text) <= 300 else text[:299] + "…"


def _check_scope(session: Session, caller: scope.Caller, body: HazardReportData) -> None:
    """The property (and any case or visit named) must be the caller's to see; 404 otherwise."""
    if caller.is_admin or not caller.team_id:
        raise not_found("property")
    if session.scalar(select(PropertyRow.id).where(PropertyRow.id == body.property_id, scope.property_filter(caller))) is None:
        raise not_found("property")
    if body.from_case_id is not None and session.scalar(select(CaseRow.id).where(CaseRow.id == body.from_case_id, scope.case_filter(caller))) is None:
        raise not_found("case")
    strange = [h for h in body.hazards if h not in case_clocks.known_hazards(session)]
    if strange:
        raise invalid_request({"hazards": f"Not hazards of any vocabulary: {', '.join(strange)}. Choose them from the hazard list."})
    if body.photo_ids and body.visit_id is None:
        raise invalid_request({"photo_ids": "Photos of a report come from a visit: give its visit_id."})
    if body.visit_id is None:
        return
    # A report may be pushed before its visit (a draft still on the laptop): a visit
    # the portal has must be the caller's to see, and then the photos must be its own.
    visit = session.get(VisitRow, body.visit_id)
    if visit is None:
        return
    if session.scalar(select(VisitRow.id).where(VisitRow.id == visit.id, scope.visit_filter(caller))) is None:
        raise not_found("visit")
    photos = {p["id"] for p in visit.document.get("photos", [])}
    strange = [p for p in body.photo_ids if p not in photos]
    if strange:
        raise invalid_request({"photo_ids": f"Not photos of that visit: {', '.join(strange)}."})


def create_from_report(session: Session, caller: scope.Caller, case_id: str, body: HazardReportData) -> CaseRow:
    """Open the case a hazard report asks for; ApiError (404 or 422) when the report cannot apply."""
    _check_scope(session, caller, body)
    if session.get(CaseRow, case_id) is not None:
        raise ApiError(422, ErrorCode.INVALID_REQUEST, "This case id is already used; report the hazard again with a new id.", {"fields": {"id": "used"}})
    try:
        observed = parse_timestamp(body.observed_at)
    except ValueError:
        raise invalid_request({"observed_at": "Give an ISO-8601 timestamp, e.g. 2026-12-01T09:30:00Z."}) from None
    received = utc_now()
    residents = list(session.scalars(select(ResidentRow.id).where(ResidentRow.property_id == body.property_id).order_by(ResidentRow.id)))
    data = CaseData(
        reference=f"HR-{received:%Y%m%d}-{case_id.replace('-', '')[:12].upper()}", case_type=case_type_for(body.hazards),
        priority=body.priority, summary=_summary(body.hazards), description=body.description,
        opened_at=format_timestamp(received), aware_at=format_timestamp(aware_at(observed, received)),
        property_id=body.property_id, resident_ids=residents, assigned_officer_id=None, team_id=caller.team_id,
        reported_hazards=list(dict.fromkeys(body.hazards)),
    )
    case = records.create_case(session, data, case_id=case_id, source="officer", reported_by_id=caller.id)
    # Only cases from the field are news to the CRM (it knows the ones it created or imported).
    webhooks.emit(session, webhooks.case_created(case, body.visit_id, body.from_case_id))
    return case
