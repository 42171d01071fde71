"""Time in the core: aware UTC datetimes, and the protocol's ISO-8601 ``Z`` strings.

The one definition: `sync.protocol` re-exports these for the portal.
"""

from __future__ import annotations

from datetime import datetime, timezone


def utc_now() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(timezone.utc)


def as_utc(moment: datetime) -> datetime:
    """The same instant in aware UTC (a naive value is taken to be UTC already)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def format_timestamp(moment: datetime) -> str:
    """ISO-8601 UTC with a trailing ``Z``, as the protocol writes timestamps."""
    return as_utc(moment).isoformat().replace("+00:00", "Z")


def parse_timestamp(text: str) -> datetime:
    """A protocol timestamp as an aware UTC datetime; ValueError when malformed."""
    return as_utc(datetime.fromisoformat(text.replace("Z", "+00:00")))


def parse_optional(text: str | None) -> datetime | None:
    """`parse_timestamp`, passing None (and an empty string) through as None."""
    return parse_timestamp(text) if text else None


def format_optional(moment: datetime | None) -> str | None:
    """`format_timestamp`, passing None through."""
    return format_timestamp(moment) if moment is not None else None
