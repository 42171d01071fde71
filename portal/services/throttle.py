"""Sign-in throttling: failures counted per username, per known device and per client address, atomically.

An attempt is counted *before* its password is checked: one short transaction locks
the rows of its keys (``INSERT ... ON CONFLICT DO UPDATE`` takes the row lock on
PostgreSQL; SQLite's ``BEGIN IMMEDIATE`` serialises the whole transaction), counts the
attempts in the window, refuses when a limit is reached, and otherwise writes the
attempt. Once its password is checked the attempt is marked checked, and succeeded when
it was right. So however many guesses arrive at once, in however many portal
processes, at most ``login_max_failures`` of them are checked.

Keys:
- ``u:<username>``: every attempt at the username counts; a new device is refused
  once the username has reached the limit.
- ``d:<user id>:<device id>``: a device that signed in as the user before is checked
  against its own failures only, so somebody else's guesses never lock it out.
- ``a:<address>``: failures from one client address across usernames (spraying); a
  new device there is refused once the address reaches ``login_address_max_failures``.
"""

from __future__ import annotations

import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from portal.core.config import PortalSettings
from portal.models_security import KnownDeviceRow, LoginAttemptRow, ThrottleKeyRow


class Throttled(Exception):
    """A limit is reached: try again after ``retry_after`` seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(retry_after)
        self.retry_after = retry_after


@dataclass(frozen=True)
class Who:
    """What a sign-in attempt is counted against."""

    username: str
    address: str | None
    user_id: str | None
    device_id: str


def is_known_device(session: Session, user_id: str | None, device_id: str) -> bool:
    """True when this device signed in successfully as the user before."""
    if user_id is None:
        return False
    return session.get(KnownDeviceRow, (user_id, device_id)) is not None


def remember_device(session: Session, user_id: str, device_id: str, now: datetime) -> None:
    """Record a successful sign-in from the device."""
    known = session.get(KnownDeviceRow, (user_id, device_id))
    if known is None:
        session.add(KnownDeviceRow(user_id=user_id, device_id=device_id, first_at=now, last_at=now))
    else:
        known.last_at = now


def _limits(who: Who, known: bool, settings: PortalSettings) -> dict[str, int]:
    if known:
        return {f"d:{who.user_id}:{who.device_id}": settings.login_max_failures}
    limits = {f"u:{who.username}": settings.login_max_failures}
    if who.address:
        limits[f"a:{who.address}"] = settings.login_address_max_failures
    return limits


def _lock(session: Session, keys: list[str], now: datetime) -> None:
    """Create-or-touch each key's row, which locks it until the transaction ends (in key order: no deadlocks)."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = insert(ThrottleKeyRow).values([{"key": key, "last_at": now} for key in keys])
    session.execute(statement.on_conflict_do_update(index_elements=["key"], set_={"last_at": statement.excluded.last_at}))


#: How close before a failure a success still counts (a burst of simultaneous guesses; a minute, since on a
#: busy portal the checks of one burst can spread over many seconds).
_BURST = timedelta(seconds=60)


def _counted(session: Session, key: str, since: datetime) -> int:
    """The attempts that count against the key: failures, those being checked, and successes inside a burst.

    A success counts when it came in a burst of guesses: either it succeeded while an
    attempt reserved before it was still being checked (``overlapped``), or a failure
    (or an attempt still being checked) followed it within a minute. Then a right
    password among 24 simultaneous guesses frees no slot for a sixth check, wherever it
    falls among them, while an officer's earlier sign-ins, or new laptops after one
    typo, never throttle them. Order is the rows' ids, which follow the order the locked
    checks ran in.
    """
    in_window = (LoginAttemptRow.key == key) & (LoginAttemptRow.at > since)
    failures, last_failure, last_failure_at = session.execute(
        select(func.count(), func.max(LoginAttemptRow.id), func.max(LoginAttemptRow.at)).where(in_window, LoginAttemptRow.succeeded.is_(False))
    ).one()
    if not failures:
        return 0
    burst = session.scalar(select(func.count()).where(
        in_window, LoginAttemptRow.succeeded.is_(True),
        LoginAttemptRow.overlapped.is_(True)
        | ((LoginAttemptRow.id < last_failure) & (LoginAttemptRow.at >= last_failure_at - _BURST)),
    ))
    return int(failures) + int(burst or 0)


def reserve(session: Session, who: Who, settings: PortalSettings, now: datetime, *, known: bool) -> str:
    """Count one attempt (as a failure until ``succeeded``); Throttled when a limit is reached. Returns its id."""
    limits = _limits(who, known, settings)
    counted = set(limits) | {f"u:{who.username}"} | ({f"a:{who.address}"} if who.address else set())
    _lock(session, sorted(counted), now)
    window = timedelta(seconds=settings.login_window_seconds)
    for key, limit in limits.items():
        if _counted(session, key, now - window) >= limit:
            oldest = session.scalar(select(func.min(LoginAttemptRow.at)).where(LoginAttemptRow.key == key, LoginAttemptRow.at > now - window))
            assert oldest is not None  # the attempts just counted are in the window
            raise Throttled(max(1, math.ceil((oldest + window - now).total_seconds())))
    attempt = secrets.token_hex(16)
    session.add_all([LoginAttemptRow(key=key, attempt=attempt, at=now) for key in sorted(counted)])
    return attempt


def failed(session: Session, attempt: str) -> None:
    """The password was wrong: the attempt stays a failure, and is no longer being checked."""
    session.execute(update(LoginAttemptRow).where(LoginAttemptRow.attempt == attempt).values(checked=True))


def succeeded(session: Session, attempt: str, now: datetime) -> None:
    """The password was right: the attempt is no failure (it still counts inside a burst, see ``_counted``).

    Its keys are locked first, as ``reserve`` locks them, so whether an earlier attempt
    is still being checked is read in the same order the checks were counted in.
    """
    rows = session.execute(select(LoginAttemptRow.id, LoginAttemptRow.key).where(LoginAttemptRow.attempt == attempt)).all()
    if not rows:
        return
    _lock(session, sorted({key for _, key in rows}), now)
    for row_id, key in rows:
        pending_before = session.scalar(select(func.count()).where(
            LoginAttemptRow.key == key, LoginAttemptRow.id < row_id,
            LoginAttemptRow.checked.is_(False), LoginAttemptRow.at > now - _BURST,
        ))
        session.execute(update(LoginAttemptRow).where(LoginAttemptRow.id == row_id).values(
            succeeded=True, checked=True, overlapped=bool(pending_before),
        ))


def forget_old(session: Session, now: datetime) -> None:
    """Drop attempts and keys a day old: no window reaches back that far."""
    cutoff = now - timedelta(days=1)
    session.execute(delete(LoginAttemptRow).where(LoginAttemptRow.at < cutoff))
    session.execute(delete(ThrottleKeyRow).where(ThrottleKeyRow.last_at < cutoff))
