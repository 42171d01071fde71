"""The web pages' sign-in session: cookies, the signed-in person, and CSRF tokens.

A web session is an ordinary portal session (``portal.services.auth``: the same
accounts, sign-in throttle, audit and revocation as the laptop's), its bearer token
held in a cookie the page's scripts cannot read (HttpOnly), sent only over HTTPS
(Secure; browsers treat 127.0.0.1 as secure too) and never on a request another site
starts (SameSite=Strict). The ``__Host-`` prefix pins the cookies to this host and
path ``/``.

Each browser also gets a random device id (a cookie of its own), so the throttle sees it
as a device like a laptop: a browser that signed in as someone before is checked against
its own failures only, and cannot be locked out by another's guesses.

CSRF: a synchronizer token tied to the session, derived from the session token with
HMAC (so it needs no storage and dies with the session), checked on every form that
changes state; the sign-in form's token is tied to the browser's device id the same way.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from fastapi import Request, Response

from portal.core.config import PortalSettings
from portal.core.db import Database
from portal.forwarded import client_address, is_https
from portal.services.audit import Where
from portal.services.auth import Authenticated, authenticate
from portal.services.scope import Caller, caller_for

SESSION_COOKIE = "__Host-fieldapp-session"
DEVICE_COOKIE = "__Host-fieldapp-browser"
#: What a browser calls itself in the list of a user's sessions.
DEVICE_NAME = "Web browser"
_DEVICE_DAYS = 400


@dataclass(frozen=True)
class WebUser:
    """The person signed in on this browser."""

    found: Authenticated
    token: str
    address: str | None

    @property
    def caller(self) -> Caller:
        return caller_for(self.found.user)

    @property
    def where(self) -> Where:
        return Where(self.found.user.id, self.found.device_id, self.address)

    @property
    def csrf(self) -> str:
        return csrf_token(self.token, "session")


def csrf_token(secret: str, purpose: str) -> str:
    """The form token for a session (or a browser's sign-in form): HMAC-SHA256 of the purpose under the secret."""
    return hmac.new(secret.encode(), f"fieldapp-web-csrf:{purpose}".encode(), hashlib.sha256).hexdigest()


def csrf_ok(expected: str, sent: str | None) -> bool:
    """Whether the form carried the expected token (compared in constant time)."""
    return bool(sent) and hmac.compare_digest(expected.encode(), str(sent).encode())


def address_of(request: Request) -> str | None:
    """The client's address, as the API records it (``X-Forwarded-For`` only from a trusted proxy)."""
    settings: PortalSettings = request.app.state.settings
    return client_address(request, settings.trusted_proxies)


def cookies_refused(request: Request) -> bool:
    """Whether the browser will refuse the Secure cookies: plain HTTP to a host that is not this machine."""
    settings: PortalSettings = request.app.state.settings
    host = (request.url.hostname or "").lower()
    return not is_https(request, settings.trusted_proxies) and host not in ("localhost", "127.0.0.1", "::1", "[::1]")


def signed_in(request: Request) -> WebUser | None:
    """The person of the browser's session cookie, or None (no cookie, expired, revoked, disabled)."""
    token = request.cookies.get(SESSION_COOKIE, "")
    if not token:
        return None
    db: Database = request.app.state.db
    with db.read_once() as session:
        found = authenticate(session, token)
    return WebUser(found, token, address_of(request)) if found is not None else None


def device_id(request: Request) -> str | None:
    """The browser's device id, when it has one of ours."""
    value = request.cookies.get(DEVICE_COOKIE, "")
    return value if value.startswith("web-") and 20 <= len(value) <= 100 else None


def new_device_id() -> str:
    return f"web-{secrets.token_hex(16)}"


def _set(response: Response, name: str, value: str, max_age: int | None) -> None:
    response.set_cookie(name, value, max_age=max_age, path="/", secure=True, httponly=True, samesite="strict")


def keep_device(response: Response, device: str) -> None:
    """Give (or renew) the browser's device id."""
    _set(response, DEVICE_COOKIE, device, _DEVICE_DAYS * 86400)


def start_session(response: Response, token: str, hours: int) -> None:
    """Hand the browser its session token."""
    _set(response, SESSION_COOKIE, token, hours * 3600)


def end_session(response: Response) -> None:
    """Make the browser forget its session token."""
    response.delete_cookie(SESSION_COOKIE, path="/", secure=True, httponly=True, samesite="strict")
