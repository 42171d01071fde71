"""Sign-in, sessions and login throttling.

Failed sign-ins are rows in the database, so every portal process serving one database
counts them alike. An unknown username costs as much KDF time as a wrong password and
gets the same answer.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from portal.core.config import PortalSettings
from portal.core.db import Database
from portal.core.security import burn_kdf_time, new_token, token_digest, verify_password
from portal.errors import ApiError
from portal.models import AuthToken, LoginFailure, User
from portal.services.sequence import utcnow
from sync.protocol import ErrorCode, LoginRequest


@dataclass(frozen=True)
class NewSession:
    """A new session: the bearer token (shown once) and its expiry."""

    token: str
    expires_at: datetime
    user: User


def _throttle(session: Session, username: str, settings: PortalSettings, now: datetime) -> None:
    window_start = now - timedelta(seconds=settings.login_window_seconds)
    failures = session.execute(
        select(func.count(), func.min(LoginFailure.at)).where(LoginFailure.username == username, LoginFailure.at > window_start)
    ).one()
    count, oldest = failures
    if count >= settings.login_max_failures:
        retry = max(1, math.ceil((oldest + timedelta(seconds=settings.login_window_seconds) - now).total_seconds()))
        raise ApiError(
            429, ErrorCode.TOO_MANY_ATTEMPTS,
            f"Too many failed sign-ins for this account; try again in {math.ceil(retry / 60)} minutes.",
            {"retry_after": retry}, headers={"Retry-After": str(retry)},
        )


def login(db: Database, body: LoginRequest, settings: PortalSettings) -> NewSession:
    """Check the password and open a session, or raise 401/429."""
    username = body.username.strip().lower()
    now = utcnow()
    with db.plain() as session:
        _throttle(session, username, settings, now)
        user = session.scalar(select(User).where(func.lower(User.username) == username))
    ok = verify_password(body.password, user.password_hash) if user else False
    if user is None:
        burn_kdf_time(body.password, settings.kdf)
    with db.plain(writes=True) as session:
        if not ok:
            session.add(LoginFailure(username=username, at=now))
        else:
            session.execute(delete(LoginFailure).where(LoginFailure.username == username))
    if not ok or user is None:
        raise ApiError(401, ErrorCode.INVALID_CREDENTIALS, "The username or password is wrong; check them and try again.")
    token = new_token()
    expires = now + timedelta(hours=settings.token_hours)
    with db.plain(writes=True) as session:
        session.add(AuthToken(
            token_hash=token_digest(token), user_id=user.id, device_id=body.device_id,
            device_name=body.device_name, created_at=now, expires_at=expires, revoked=False,
        ))
        # Old failures and long-dead tokens are of no further use.
        session.execute(delete(LoginFailure).where(LoginFailure.at < now - timedelta(days=1)))
        session.execute(delete(AuthToken).where(AuthToken.expires_at < now - timedelta(days=7)))
    return NewSession(token, expires, user)


def authenticate(session: Session, token: str) -> User | None:
    """The user of a live token, or None (one query: this runs on every request)."""
    return session.scalar(
        select(User).join(AuthToken, AuthToken.user_id == User.id).where(
            AuthToken.token_hash == token_digest(token), AuthToken.revoked.is_(False), AuthToken.expires_at > utcnow()
        )
    )


def logout(db: Database, token: str) -> None:
    """Revoke the token."""
    with db.plain(writes=True) as session:
        row = session.get(AuthToken, token_digest(token))
        if row is not None:
            row.revoked = True
