"""Sign-in, sign-out, password change and the caller's own user record."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from portal.api.deps import AddressDep, CurrentUser, DbDep, JsonBody, SessionDep, SettingsDep, TokenDep, WhereDep
from portal.openapi import error_responses
from portal.services import accounts, auth
from portal.services.records import user_public
from sync.protocol import LoginRequest, LoginResponse, PasswordChange, UserPublic, format_timestamp

router = APIRouter(tags=["auth"])


@router.post("/auth/login", response_model=LoginResponse, responses=error_responses(401, 429))
def login(_json: JsonBody, body: LoginRequest, db: DbDep, settings: SettingsDep, address: AddressDep) -> dict[str, Any]:
    """Exchange a username and password for a bearer token."""
    session = auth.login(db, body, settings, address)
    return {"token": session.token, "expires_at": format_timestamp(session.expires_at), "user": user_public(session.user)}


@router.post("/auth/logout", status_code=204)
def logout(token: TokenDep, db: DbDep, where: WhereDep) -> Response:
    """Revoke the caller's token."""
    auth.logout(db, token, where)
    return Response(status_code=204)


@router.post("/auth/logout-all", status_code=204)
def logout_all(db: DbDep, where: WhereDep) -> Response:
    """Revoke every token of the caller (every laptop signs in again)."""
    auth.logout_all(db, where)
    return Response(status_code=204)


@router.post("/auth/password", status_code=204)
def change_password(
    _json: JsonBody, body: PasswordChange, found: SessionDep, db: DbDep, settings: SettingsDep, where: WhereDep,
) -> Response:
    """Change the caller's password; every other token of theirs is revoked."""
    accounts.change_password(db, found, body, settings, where)
    return Response(status_code=204)


@router.get("/me", response_model=UserPublic)
def me(user: CurrentUser) -> dict[str, Any]:
    """The caller's user record."""
    return user_public(user)
