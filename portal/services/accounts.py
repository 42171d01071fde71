"""Account changes: an admin's ``PATCH /admin/users/{id}`` and an officer's own password change.

Disabling an account (``active: false``) revokes every token of it in the same
transaction, so a leaver's laptop is signed out at its next request. A password set by
an admin, or a changed role or team, revokes the tokens too; a changed role or team also
moves records in and out of the scopes it affects (``account_scope``).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from portal.core.config import KdfParams, PortalSettings
from portal.core.db import Database
from portal.core.security import hash_password, verify_password
from portal.errors import invalid_request
from portal.models import TeamRow, UserRow
from portal.services import audit, throttle
from portal.services.account_scope import before_move, record_move
from portal.services.audit import Action, Event
from portal.services.auth import Authenticated, invalid_credentials, revoke_tokens, too_many_attempts
from portal.services.passwords import check_password
from portal.services.sequence import next_seq, utcnow
from portal.services.usernames import username_key
from sync.protocol import AdminUserPatch, PasswordChange, Role


def patch_user(session: Session, user: UserRow, body: AdminUserPatch, kdf: KdfParams) -> list[str]:
    """Apply the change inside a write transaction; returns the names of the fields that changed."""
    values = body.model_dump(exclude_unset=True)
    fields: dict[str, str] = {}
    for name in ("display_name", "role", "active", "password"):
        if name in values and values[name] is None:
            fields[name] = "This field cannot be emptied."
    role = values.get("role") or user.role
    team_id = values["team_id"] if "team_id" in values else user.team_id
    if team_id is not None and session.get(TeamRow, team_id) is None:
        fields["team_id"] = f"No team has id {team_id}."
    if role in (Role.OFFICER, Role.LEAD) and team_id is None:
        fields["team_id"] = "Officers and leads belong to a team."
    if fields:
        raise invalid_request(fields)
    if values.get("password") is not None:
        check_password(values["password"])
    changed: list[str] = [name for name in ("display_name", "role", "team_id", "active") if name in values and values[name] != getattr(user, name)]
    if "password" in values:
        changed.append("password")
    if not changed:
        return []
    moves_scope = "role" in changed or "team_id" in changed
    move = before_move(session, user, team_id) if moves_scope else None
    for name in ("display_name", "role", "team_id", "active"):
        if name in values:
            setattr(user, name, str(values[name]) if name == "role" else values[name])
    if "password" in values:
        user.password_hash = hash_password(values["password"], kdf)
    if any(name in changed for name in ("display_name", "role", "team_id")):
        user.version += 1
        user.seq = next_seq(session)
    if move is not None:
        record_move(session, move)
    # A leaver, a new scope or a reset password (perhaps a compromised one): every laptop signs in again.
    if not user.active or moves_scope or "password" in changed:
        revoke_tokens(session, user.id)
    return changed


def change_password(db: Database, caller: Authenticated, body: PasswordChange, settings: PortalSettings, where: audit.Where) -> None:
    """The caller's new password, after checking the current one; every other token of theirs is revoked.

    The current password is checked under the sign-in throttle of the caller's device,
    so a stolen session cannot be used to guess it.
    """
    now = utcnow()
    who = throttle.Who(username_key(caller.user.username), where.address, caller.user.id, caller.device_id)
    try:
        with db.plain(writes=True) as session:
            attempt = throttle.reserve(session, who, settings, now, known=True)
    except throttle.Throttled as refused:
        audit.record(db, where, Event(Action.PASSWORD_CHANGE_FAILED, "user", caller.user.id, {"reason": "too_many_attempts"}))
        raise too_many_attempts(refused.retry_after) from None
    if not verify_password(body.current_password, caller.user.password_hash):
        with db.plain(writes=True) as session:
            throttle.failed(session, attempt)
            audit.add(session, where, [Event(Action.PASSWORD_CHANGE_FAILED, "user", caller.user.id, {"reason": "invalid_credentials"})])
        raise invalid_credentials()
    with db.plain(writes=True) as session:
        throttle.succeeded(session, attempt, now)
    check_password(body.new_password, "new_password")
    new_hash = hash_password(body.new_password, settings.kdf)
    with db.plain(writes=True) as session:
        user = session.get(UserRow, caller.user.id, with_for_update=True)
        assert user is not None
        user.password_hash = new_hash
        revoked = revoke_tokens(session, user.id, keep=caller.token_hash)
        audit.add(session, where, [Event(Action.PASSWORD_CHANGED, "user", user.id, {"tokens_revoked": revoked})])
