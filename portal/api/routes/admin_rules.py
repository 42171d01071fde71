"""Admin endpoints of the statutory rules: hazard vocabularies, the Awaab's Law schedule, bank holidays."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from portal.api.deps import AdminDep, DbDep, JsonBody, WhereDep
from portal.services import audit, rules_admin
from portal.services.audit import Action, Event
from portal.services.records import public
from sync.protocol import AwaabScheduleData, BankHolidayCreate, HazardVocabularyData

router = APIRouter(prefix="/admin", tags=["admin"])


@router.post("/hazard-vocabularies", status_code=201)
def create_vocabulary(_admin: AdminDep, _json: JsonBody, body: HazardVocabularyData, db: DbDep, where: WhereDep) -> dict[str, Any]:
    """A new hazard vocabulary (every device pulls it)."""
    with db.write() as session:
        vocabulary = rules_admin.create_vocabulary(session, body)
        audit.add(session, where, [Event(Action.ADMIN_CREATE, "hazard_vocabulary", vocabulary.id, {"key": body.key})])
        return public(vocabulary)


@router.put("/awaab-schedule")
def replace_schedule(_admin: AdminDep, _json: JsonBody, body: AwaabScheduleData, db: DbDep, where: WhereDep) -> dict[str, Any]:
    """Replace the phase schedule (e.g. add Phase 3); open cases' unmet clocks follow it."""
    with db.write() as session:
        schedule, changed = rules_admin.replace_schedule(session, body)
        audit.add(session, where, [Event(Action.ADMIN_UPDATE, "awaab_schedule", schedule.id, {"cases_recomputed": changed})])
        return {**public(schedule), "cases_recomputed": changed}


@router.post("/bank-holidays", status_code=201)
def add_bank_holiday(_admin: AdminDep, _json: JsonBody, body: BankHolidayCreate, db: DbDep, where: WhereDep) -> dict[str, Any]:
    """A one-off day off of the council's; open cases' unmet clocks skip it."""
    with db.write() as session:
        holiday, changed = rules_admin.add_bank_holiday(session, body)
        audit.add(session, where, [Event(Action.ADMIN_CREATE, "bank_holiday", str(body.date), {"cases_recomputed": changed})])
        return {**holiday, "cases_recomputed": changed}


@router.get("/bank-holidays")
def bank_holidays(_admin: AdminDep, db: DbDep) -> dict[str, Any]:
    """The council's one-off days."""
    with db.read() as session:
        return {"bank_holidays": rules_admin.bank_holidays(session)}
