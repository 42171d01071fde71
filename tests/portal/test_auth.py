"""Sign-in, tokens, throttling and sign-out."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import select, update

from portal.core.config import KdfParams
from portal.core.security import hash_password, token_digest, verify_password
from portal.models import AuthTokenRow
from portal.models_security import LoginAttemptRow
from tests.portal.conftest import PASSWORD, Portal, World


def _login(portal: Portal, username: str, password: str) -> object:
    return portal.call("POST", "/auth/login", json={"username": username, "password": password, "device_id": "d"})


def test_login_returns_token_user_and_expiry(any_portal: Portal) -> None:
    """A good password gives a token, a 12-hour expiry and the user object."""
    world_user = f"u-{uuid.uuid4().hex[:8]}"
    team = any_portal.admin_post("teams", {"name": "T"})["id"]
    created = any_portal.admin_post("users", {"username": world_user, "display_name": "Una", "role": "officer", "team_id": team, "password": PASSWORD})
    response = _login(any_portal, world_user, PASSWORD)
    body = response.json()
    assert response.status_code == 200
    assert len(body["token"]) >= 43 and body["expires_at"].endswith("Z")
    assert body["user"] == {"id": created["id"], "username": world_user, "display_name": "Una", "role": "officer", "team_id": team}
    me = any_portal.call("GET", "/me", headers={"Authorization": f"Bearer {body['token']}"})
    assert me.json() == body["user"]


def test_token_is_stored_only_hashed(world: World) -> None:
    """The database holds the SHA-256 of a token, never the token."""
    token = world.auth["officer1"]["Authorization"].split()[1]
    with world.portal.db.plain() as session:
        hashes = set(session.scalars(select(AuthTokenRow.token_hash)))
    assert token_digest(token) in hashes and token not in hashes


def test_unknown_user_and_wrong_password_answer_alike(pg_portal: Portal, world: World) -> None:
    """Unknown usernames and wrong passwords both get 401 invalid_credentials with the same message."""
    wrong = _login(pg_portal, f"nobody-{uuid.uuid4().hex}", "nope")
    bad = _login(pg_portal, _username(world, "officer1"), "wrong password")
    assert wrong.status_code == bad.status_code == 401
    assert wrong.json() == bad.json()
    assert bad.json()["error"]["code"] == "invalid_credentials"


def _username(world: World, who: str) -> str:
    return str(world.portal.call("GET", "/me", headers=world.auth[who]).json()["username"])


def test_five_failures_throttle_with_retry_after(any_portal: Portal) -> None:
    """After 5 failures within 15 minutes even the right password gets 429 too_many_attempts with Retry-After."""
    name = f"t-{uuid.uuid4().hex[:8]}"
    any_portal.admin_post("users", {"username": name, "display_name": "T", "role": "admin", "password": PASSWORD})
    for _ in range(5):
        assert _login(any_portal, name, "bad").status_code == 401
    throttled = _login(any_portal, name, PASSWORD)
    assert throttled.status_code == 429
    assert throttled.json()["error"]["code"] == "too_many_attempts"
    assert 0 < int(throttled.headers["Retry-After"]) <= 900
    # The failures age out of the 15-minute window: sign-in works again.
    with any_portal.db.plain() as session:
        session.execute(update(LoginAttemptRow).where(LoginAttemptRow.key == f"u:{name}").values(at=LoginAttemptRow.at - timedelta(minutes=16)))
    assert _login(any_portal, name, PASSWORD).status_code == 200


def test_throttle_counts_unknown_usernames_too(pg_portal: Portal) -> None:
    """Guessing at a username that does not exist is throttled the same way."""
    name = f"ghost-{uuid.uuid4().hex[:8]}"
    codes = [_login(pg_portal, name, "x").status_code for _ in range(6)]
    assert codes == [401] * 5 + [429]


def test_logout_revokes_token(world: World) -> None:
    """After logout the token answers 401 unauthenticated."""
    headers = world.portal.login(_username(world, "officer2"))
    assert world.portal.call("POST", "/auth/logout", headers=headers).status_code == 204
    after = world.portal.call("GET", "/me", headers=headers)
    assert after.status_code == 401 and after.json()["error"]["code"] == "unauthenticated"


def test_expired_token_is_refused(world: World) -> None:
    """A token past its expiry answers 401."""
    headers = world.portal.login(_username(world, "officer2"))
    token = headers["Authorization"].split()[1]
    with world.portal.db.plain() as session:
        session.execute(update(AuthTokenRow).where(AuthTokenRow.token_hash == token_digest(token)).values(expires_at=AuthTokenRow.created_at - timedelta(seconds=1)))
    assert world.portal.call("GET", "/sync/meta", headers=headers).status_code == 401


def test_missing_or_garbage_token_is_unauthenticated(pg_portal: Portal) -> None:
    """No header, a wrong scheme and an unknown token all get 401 unauthenticated."""
    for headers in ({}, {"Authorization": "Basic abc"}, {"Authorization": "Bearer not-a-token"}):
        response = pg_portal.call("GET", "/sync/pull", headers=headers)
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "unauthenticated"


def test_password_hash_is_scrypt_and_salted() -> None:
    """Hashes carry their cost, differ per call and verify only the right password."""
    params = KdfParams(n=16)
    first, second = hash_password("secret pass", params), hash_password("secret pass", params)
    assert first.startswith("scrypt$16$") and first != second
    assert verify_password("secret pass", first) and not verify_password("Secret pass", first)
    assert not verify_password("secret pass", "garbage")


def test_usernames_differing_only_in_case_are_one_on_both_backends(any_portal: Portal) -> None:
    """"Łukasz" then "łukasz" is 409 with a clear message (not a 500), and Łukasz signs in as "ŁUKASZ" too."""
    tag = uuid.uuid4().hex[:6]
    body = {"display_name": "Ł", "role": "admin", "password": PASSWORD}
    any_portal.admin_post("users", {**body, "username": f"Łukasz-{tag}"})
    clash = any_portal.call("POST", "/admin/users", headers=any_portal.admin, json={**body, "username": f"łukasz-{tag}"})
    assert clash.status_code == 409 and clash.json()["error"]["code"] == "conflict"
    assert "taken" in clash.json()["error"]["message"] and f"Łukasz-{tag}" in clash.json()["error"]["message"]
    for typed in (f"Łukasz-{tag}", f"ŁUKASZ-{tag}", f" łukasz-{tag} "):
        response = any_portal.call("POST", "/auth/login", json={"username": typed, "password": PASSWORD, "device_id": "d"})
        assert response.status_code == 200, (typed, response.text)
