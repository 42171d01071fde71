"""Case due dates under Awaab's Law (in force 27 October 2025) and the council's service standards.

Rules, by priority then case type:

* ``emergency`` (any case type): 24 hours from when the case was opened — Awaab's Law
  requires emergency hazards to be investigated and made safe within 24 hours.
* ``damp_mould`` that is ``urgent`` or ``routine``: 10 working days — Awaab's Law
  requires a significant damp and mould hazard to be investigated within 10 working days
  of the landlord becoming aware.
* Other case types are not set by the law; these service standards are this portal's
  documented defaults, in working days:

  ===============  ======  =======
  case type        urgent  routine
  ===============  ======  =======
  repair           5       20
  tenancy_audit    10      20
  void             5       10
  asb              5       10
  estate           10      20
  ===============  ======  =======

Working days skip Saturdays, Sundays and English bank holidays; the day the case was
opened does not count. A working-day deadline falls at the end of the last working day
(23:59:59 in England, Europe/London, with summer time), stored as UTC.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from portal.holidays import HolidayTable, england
from sync.protocol import CaseType, Priority

LONDON = ZoneInfo("Europe/London")
EMERGENCY_HOURS = 24

#: Working days allowed for an (urgent, routine) case of each type (the table above).
_DAYS_BY_TYPE: dict[CaseType, tuple[int, int]] = {
    CaseType.DAMP_MOULD: (10, 10),
    CaseType.REPAIR: (5, 20),
    CaseType.TENANCY_AUDIT: (10, 20),
    CaseType.VOID: (5, 10),
    CaseType.ASB: (5, 10),
    CaseType.ESTATE: (10, 20),
}

#: Working days allowed by (case type, priority) for non-emergency cases.
WORKING_DAYS: dict[tuple[str, str], int] = {
    (case_type, priority): days
    for case_type, pair in _DAYS_BY_TYPE.items()
    for priority, days in zip((Priority.URGENT, Priority.ROUTINE), pair, strict=True)
}


def due_at(case_type: str, priority: str, opened_at: datetime, holidays: HolidayTable | None = None) -> datetime:
    """When a case opened at ``opened_at`` (aware) must be dealt with, as aware UTC."""
    opened = opened_at.astimezone(ZoneInfo("UTC"))
    if priority == Priority.EMERGENCY:
        return opened + timedelta(hours=EMERGENCY_HOURS)
    days = WORKING_DAYS[(CaseType(case_type), Priority(priority))]
    table = holidays or england()
    local_day = opened.astimezone(LONDON).date()
    last_day = table.add_working_days(local_day, days)
    end_of_day = datetime.combine(last_day, time(23, 59, 59), tzinfo=LONDON)
    return end_of_day.astimezone(ZoneInfo("UTC"))
