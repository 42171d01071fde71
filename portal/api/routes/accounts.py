"""Revision 2 admin endpoints of accounts and the audit log."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from portal.api.deps import AdminDep, DbDep, JsonBody, SeqQuery, SettingsDep, WhereDep
from portal.api.rows import row_or_404
from portal.models import UserRow
from portal.services import accounts, audit
from portal.services.audit import Action, Event
from portal.services.records import public
from sync.protocol import AdminUserPatch, AuditPage

router = APIRouter(prefix="/admin", tags=["admin"])


@router.patch("/users/{user_id}")
def patch_user(
    user_id: str, _admin: AdminDep, _json: JsonBody, body: AdminUserPatch, db: DbDep, settings: SettingsDep, where: WhereDep,
) -> dict[str, Any]:
    """Change an account: name, role, team, password; ``active: false`` disables it and revokes its tokens."""
    with db.write() as session:
        user = row_or_404(session, UserRow, user_id, "user", for_update=True)
        changed = accounts.patch_user(session, user, body, settings.kdf)
        if changed:
            audit.add(session, where, [Event(Action.ACCOUNT_UPDATED, "user", user.id, {"fields": changed})])
        return {**public(user), "active": user.active}


@router.get("/audit", response_model=AuditPage)
def audit_events(
    _admin: AdminDep, db: DbDep,
    since: SeqQuery = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 500,
) -> dict[str, Any]:
    """Audit events after ``since``, ascending id."""
    with db.read() as session:
        return audit.page(session, since, limit)
