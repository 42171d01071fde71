"""The admin side of the statutory rules: hazard vocabularies, the phase schedule, one-off bank holidays.

Each runs inside a serialised write transaction. A new holiday or schedule can move
deadlines, so the open cases' unmet clocks are recomputed in the same transaction
(each changed case gets a new version and seq, and its holders pull it).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.awaab import schedule_problems
from portal.errors import ApiError, invalid_request
from portal.models import AwaabScheduleRow, CouncilHolidayRow, HazardVocabularyRow
from portal.services import case_clocks
from portal.services.records import new_id
from portal.services.sequence import next_seq, utcnow
from sync.protocol import AwaabScheduleData, BankHolidayCreate, ErrorCode, HazardVocabularyData, vocabulary_problems


def create_vocabulary(session: Session, body: HazardVocabularyData) -> HazardVocabularyRow:
    """A new hazard vocabulary; keys are unique and a vocabulary never changes (visits keep theirs)."""
    data = body.model_dump(mode="json", exclude_none=True)
    fields = vocabulary_problems(data)
    try:
        date.fromisoformat(data["effective_from"])
    except ValueError:
        fields["effective_from"] = "Give the day the vocabulary takes effect as YYYY-MM-DD."
    if fields:
        raise invalid_request(fields)
    if session.scalar(select(HazardVocabularyRow.id).where(HazardVocabularyRow.key == body.key)) is not None:
        raise ApiError(409, ErrorCode.CONFLICT, f"A vocabulary with key {body.key!r} exists and never changes; add the new one under a new key.", {"fields": {"key": "taken"}})
    row = HazardVocabularyRow(id=new_id(), version=1, seq=next_seq(session), **data)
    session.add(row)
    return row


def replace_schedule(session: Session, body: AwaabScheduleData) -> tuple[AwaabScheduleRow, int]:
    """Replace the phase schedule; returns it and how many cases' clocks changed."""
    data = body.model_dump(mode="json", by_alias=True)
    fields = schedule_problems(data, case_clocks.known_hazards(session))
    if fields:
        raise invalid_request(fields)
    row = session.get(AwaabScheduleRow, case_clocks.SCHEDULE_ID)
    if row is None:
        row = AwaabScheduleRow(id=case_clocks.SCHEDULE_ID, version=1, seq=next_seq(session), phases=data["phases"])
        session.add(row)
    else:
        row.phases = data["phases"]
        row.version += 1
        row.seq = next_seq(session)
    session.flush()
    return row, case_clocks.refresh_open_cases(session)


def add_bank_holiday(session: Session, body: BankHolidayCreate) -> tuple[dict[str, Any], int]:
    """Store a one-off day of the council's; returns it and how many cases' clocks changed."""
    try:
        day = date.fromisoformat(body.date)
    except ValueError:
        raise invalid_request({"date": "Give the day as YYYY-MM-DD."}) from None
    row = session.get(CouncilHolidayRow, day.isoformat())
    if row is None:
        row = CouncilHolidayRow(day=day.isoformat(), name=body.name, created_at=utcnow())
        session.add(row)
    else:
        row.name = body.name  # the same day posted again: renamed, not doubled
    session.flush()
    return {"date": row.day, "name": row.name}, case_clocks.refresh_open_cases(session)


def bank_holidays(session: Session) -> list[dict[str, str]]:
    """The council's one-off days, in date order."""
    return [{"date": r.day, "name": r.name} for r in session.scalars(select(CouncilHolidayRow).order_by(CouncilHolidayRow.day))]
