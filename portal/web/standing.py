"""How a clock stands on the web pages: the portal's own rule (``portal.clocks.clock_state``).

Amber is one working day left or less counted with England's bank holidays and the
council's one-off days: the rule of the CRM's ``clock.amber`` webhook, so the
compliance page and the alerts agree. (The laptop counts weekends only, having no
holiday data; it can only show amber a day early, never late.)
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from fieldapp.types import Clock
from portal.clocks import clock_state
from portal.holidays import HolidayTable
from portal.services.case_clocks import calendar
from sync.protocol import format_timestamp


def working_days(session: Session) -> HolidayTable:
    """The portal's working-day calendar (read once per page)."""
    return calendar(session).holidays


def standing(clock: Clock, now: datetime, holidays: HolidayTable) -> str:
    """``met``, ``breached``, ``amber`` or ``running`` (``unknown`` without a due date)."""
    if clock.met_at is None and clock.due_at is None:
        return "unknown"
    raw = {"due_at": format_timestamp(clock.due_at) if clock.due_at else None,
           "met_at": format_timestamp(clock.met_at) if clock.met_at else None}
    return clock_state(raw, now, holidays)
