"""Sign-in, sign-out and the caller's own user record."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from portal.api.deps import CurrentUser, DbDep, JsonBody, SettingsDep, TokenDep
from portal.services import auth
from portal.services.records import user_public
from sync.protocol import LoginRequest, LoginResponse, UserPublic, format_timestamp

router = APIRouter(tags=["auth"])


@router.post("/auth/login", response_model=LoginResponse)
def login(_json: JsonBody, body: LoginRequest, db: DbDep, settings: SettingsDep) -> dict[str, Any]:
    """Exchange a username and password for a bearer token."""
    session = auth.login(db, body, settings)
    return {"token": session.token, "expires_at": format_timestamp(session.expires_at), "user": user_public(session.user)}


@router.post("/auth/logout", status_code=204)
def logout(_user: CurrentUser, token: TokenDep, db: DbDep) -> Response:
    """Revoke the caller's token."""
    auth.logout(db, token)
    return Response(status_code=204)


@router.get("/me", response_model=UserPublic)
def me(user: CurrentUser) -> dict[str, Any]:
    """The caller's user record."""
    return user_public(user)
