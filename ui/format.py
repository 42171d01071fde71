"""How dates, sizes and fixed values are shown to the officer (no Qt here, easy to test)."""

from __future__ import annotations

from datetime import datetime, timezone
from enum import StrEnum

from fieldapp.types import counted


class Urgency(StrEnum):
    """How loudly a due date is shown."""

    OVERDUE = "overdue"   # red
    SOON = "soon"         # amber: due today or tomorrow
    NORMAL = "normal"
    NONE = "none"         # no due date


def _as_utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def due_text(due_at: datetime | None, now: datetime | None = None) -> tuple[str, Urgency]:
    """A plain phrase for a due date ("Overdue 3 days", "Due tomorrow") and how urgent it is."""
    if due_at is None:
        return "No due date", Urgency.NONE
    now = _as_utc(now or datetime.now(timezone.utc))
    due = _as_utc(due_at)
    days = (due.astimezone().date() - now.astimezone().date()).days
    if due < now:
        late = max(0, -days)
        if late == 0:
            hours = max(1, int((now - due).total_seconds() // 3600))
            return f"Overdue {counted(hours, 'hour')}", Urgency.OVERDUE
        return f"Overdue {counted(late, 'day')}", Urgency.OVERDUE
    if days == 0:
        return f"Due today {due.astimezone():%H:%M}", Urgency.SOON
    if days == 1:
        return "Due tomorrow", Urgency.SOON
    if days < 7:
        return f"Due {due.astimezone():%A}", Urgency.NORMAL
    return f"Due {due.astimezone():%d %b %Y}", Urgency.NORMAL


def when_text(moment: datetime | None, now: datetime | None = None) -> str:
    """A short "how long ago" for the last sync and similar."""
    if moment is None:
        return "never"
    now = _as_utc(now or datetime.now(timezone.utc))
    seconds = (now - _as_utc(moment)).total_seconds()
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        minutes = int(seconds // 60)
        return f"{minutes} min ago"
    if seconds < 86400:
        return f"{_as_utc(moment).astimezone():%H:%M}"
    return f"{_as_utc(moment).astimezone():%d %b %H:%M}"


def date_text(moment: datetime | None) -> str:
    """A date and time in local time, or a dash."""
    return f"{_as_utc(moment).astimezone():%d %b %Y %H:%M}" if moment else "—"


def size_text(count: int) -> str:
    """Bytes in the unit a person expects (MB for photos)."""
    if count < 1024:
        return f"{count} B"
    if count < 1024 * 1024:
        return f"{count / 1024:.0f} KB"
    return f"{count / (1024 * 1024):.1f} MB"


def label(value: str | None) -> str:
    """A fixed value ("damp_mould", "no_access") as words ("Damp mould", "No access")."""
    if not value:
        return "—"
    special = {"damp_mould": "Damp and mould", "asb": "Anti-social behaviour", "void": "Void (empty home)",
               "tenancy_audit": "Tenancy audit"}
    return special.get(value, value.replace("_", " ").capitalize())


def photo_line(number: int, caption: str) -> str:
    """A visit's photo by its number and caption ("Photo 2: Bathroom ceiling"), alike in every list and the grid."""
    return f"Photo {number}: {caption or 'no caption'}"
