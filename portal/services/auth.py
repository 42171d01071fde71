"""Sign-in, sessions and sign-out.

Every attempt is counted by ``portal.services.throttle`` before its password is
checked. An unknown username costs as much KDF time as a wrong password, and a
disabled account's sign-in answers like a wrong password: neither leaks that the
account exists. Every attempt and sign-out is an audit event.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import ColumnElement, CursorResult, bindparam, delete, select, update
from sqlalchemy.orm import Session

from portal.core.config import PortalSettings
from portal.core.db import Database
from portal.core.security import burn_kdf_time, new_token, token_digest, verify_password
from portal.errors import ApiError
from portal.models import AuthTokenRow, UserRow
from portal.services import audit, throttle
from portal.services.audit import Action, Event
from portal.services.scope import Caller
from portal.services.sequence import utcnow
from portal.services.usernames import username_key
from sync.protocol import ErrorCode, LoginRequest


@dataclass(frozen=True)
class NewSession:
    """A new session: the bearer token (shown once) and its expiry."""

    token: str
    expires_at: datetime
    user: UserRow


@dataclass(frozen=True)
class Authenticated:
    """The user of a live token and the device it was issued to."""

    user: UserRow
    device_id: str
    token_hash: str


def invalid_credentials() -> ApiError:
    """401 for a wrong password, an unknown username and a disabled account alike."""
    return ApiError(401, ErrorCode.INVALID_CREDENTIALS, "The username or password is wrong; check them and try again.")


def too_many_attempts(retry_after: int) -> ApiError:
    """429 with Retry-After."""
    return ApiError(
        429, ErrorCode.TOO_MANY_ATTEMPTS,
        f"Too many failed sign-ins; try again in {math.ceil(retry_after / 60)} minutes.",
        {"retry_after": retry_after}, headers={"Retry-After": str(retry_after)},
    )


def login(db: Database, body: LoginRequest, settings: PortalSettings, address: str | None) -> NewSession:
    """Check the password and open a session, or raise 401/429."""
    username = username_key(body.username)
    now = utcnow()
    where = audit.Where(None, body.device_id, address)
    try:
        with db.plain(writes=True) as session:
            user = session.scalar(select(UserRow).where(UserRow.username_key == username))
            who = throttle.Who(username, address, user.id if user else None, body.device_id)
            known = throttle.is_known_device(session, who.user_id, body.device_id)
            attempt = throttle.reserve(session, who, settings, now, known=known)
    except throttle.Throttled as refused:
        _record_failure(db, replace(where, actor_id=who.user_id), username, ErrorCode.TOO_MANY_ATTEMPTS)
        raise too_many_attempts(refused.retry_after) from None
    if user is None:
        burn_kdf_time(body.password, settings.kdf)
    if user is None or not verify_password(body.password, user.password_hash) or not user.active:
        _record_failure(db, replace(where, actor_id=who.user_id), username, ErrorCode.INVALID_CREDENTIALS, attempt)
        raise invalid_credentials()
    token = new_token()
    expires = now + timedelta(hours=settings.token_hours)
    with db.plain(writes=True) as session:
        throttle.succeeded(session, attempt, now)
        throttle.remember_device(session, user.id, body.device_id, now)
        session.add(AuthTokenRow(
            token_hash=token_digest(token), user_id=user.id, device_id=body.device_id,
            device_name=body.device_name, created_at=now, expires_at=expires, revoked=False,
        ))
        # Old attempts and long-dead tokens are of no further use.
        throttle.forget_old(session, now)
        session.execute(delete(AuthTokenRow).where(AuthTokenRow.expires_at < now - timedelta(days=7)))
        audit.add(session, replace(where, actor_id=user.id), [Event(Action.LOGIN, "user", user.id)])
    return NewSession(token, expires, user)


def _record_failure(db: Database, where: audit.Where, username: str, reason: str, attempt: str | None = None) -> None:
    """Audit a refused sign-in, and mark its throttle attempt checked (one transaction)."""
    # The username tried is kept (spraying shows as many names from one address); the password never is.
    with db.plain(writes=True) as session:
        if attempt is not None:
            throttle.failed(session, attempt)
        audit.add(session, where, [Event(Action.LOGIN_FAILED, "user", where.actor_id, {"username": username, "reason": reason})])


def _live(digest: Any, now: Any) -> tuple[ColumnElement[bool], ...]:
    """The token with this digest is live and its account active (values or bound parameters)."""
    return (AuthTokenRow.token_hash == digest, AuthTokenRow.revoked.is_(False), AuthTokenRow.expires_at > now,
            UserRow.active.is_(True))


def authenticate(session: Session, token: str) -> Authenticated | None:
    """The user and device of a live token of an active account, or None (one query: this runs on every request)."""
    digest = token_digest(token)
    row = session.execute(
        select(UserRow, AuthTokenRow.device_id).join(AuthTokenRow, AuthTokenRow.user_id == UserRow.id)
        .where(*_live(digest, utcnow()))
    ).first()
    return Authenticated(row[0], row[1], digest) if row is not None else None


# ``authenticate`` as the scope view only, without the ORM, built once: the blob upload
# looks its caller up for every photo (a revoke takes effect at once). Its first four
# columns are the caller (``caller_of_row``); the upload adds its own (``add_columns``)
# and binds ``live_params`` with its own parameters.
LIVE_CALLER = (
    select(UserRow.id, UserRow.username, UserRow.role, UserRow.team_id)
    .join_from(AuthTokenRow, UserRow, AuthTokenRow.user_id == UserRow.id)
    .where(*_live(bindparam("digest"), bindparam("now", type_=AuthTokenRow.expires_at.type)))
)


def live_params(token: str) -> dict[str, Any]:
    """The parameters of ``LIVE_CALLER`` for a token."""
    return {"digest": token_digest(token), "now": utcnow()}


def caller_of_row(row: Any) -> Caller:
    """The caller of a ``LIVE_CALLER`` row."""
    return Caller(row.id, row.username, row.role, row.team_id)


def revoke_tokens(session: Session, user_id: str, *, keep: str | None = None) -> int:
    """Revoke every live token of the user (but ``keep``, a token hash); how many were live."""
    statement = update(AuthTokenRow).where(AuthTokenRow.user_id == user_id, AuthTokenRow.revoked.is_(False))
    if keep is not None:
        statement = statement.where(AuthTokenRow.token_hash != keep)
    result = cast("CursorResult[Any]", session.execute(statement.values(revoked=True)))
    return int(result.rowcount or 0)


def logout(db: Database, token: str, where: audit.Where) -> None:
    """Revoke the token."""
    with db.plain(writes=True) as session:
        row = session.get(AuthTokenRow, token_digest(token))
        if row is not None:
            row.revoked = True
        audit.add(session, where, [Event(Action.LOGOUT, "user", where.actor_id)])


def logout_all(db: Database, where: audit.Where) -> None:
    """Revoke every token of the caller."""
    assert where.actor_id is not None
    with db.plain(writes=True) as session:
        count = revoke_tokens(session, where.actor_id)
        audit.add(session, where, [Event(Action.LOGOUT_ALL, "user", where.actor_id, {"tokens_revoked": count})])
