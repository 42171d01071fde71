"""Security headers on every answer the portal gives, errors and 404s included.

- ``Cache-Control: no-store``: tokens and personal data (every API answer carries one
  or the other) never land in a browser's, proxy's or OS's HTTP cache. A route that
  sets its own Cache-Control keeps it.
- ``X-Content-Type-Options: nosniff``: a photo or JSON is never run as a script or page.
- ``Referrer-Policy: no-referrer``: no portal address (with ids in it) leaks onwards.
- ``X-Frame-Options: DENY`` and ``Content-Security-Policy: frame-ancestors 'none'``: no
  page of the portal can be framed (clickjacking).
- The web pages (``/web``, ``portal.web``) get a Content-Security-Policy of their own
  that allows only the portal itself: its stylesheet, its images, forms posting to it;
  no script at all, no plugins, no ``<base>``, and no framing as for the API.
- ``Strict-Transport-Security`` on answers over HTTPS (directly, or from a trusted
  proxy saying so): browsers then never try the portal over plain http.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.requests import HTTPConnection

from portal.forwarded import is_https

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]

_ALWAYS = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
)
_API_CSP = (b"content-security-policy", b"frame-ancestors 'none'")
#: Where the web pages live (portal.web mounts its router there).
WEB_PREFIX = "/web"
_WEB_CSP = (b"content-security-policy", b"default-src 'self'; script-src 'none'; object-src 'none'; base-uri 'none'; "
            b"form-action 'self'; frame-ancestors 'none'")
_HSTS = (b"strict-transport-security", b"max-age=31536000; includeSubDomains")
_NO_STORE = (b"cache-control", b"no-store")


def _extra(connection: HTTPConnection, trusted_proxies: tuple[str, ...]) -> list[tuple[bytes, bytes]]:
    path = str(connection.scope.get("path", ""))
    web = path == WEB_PREFIX or path.startswith(f"{WEB_PREFIX}/")
    extra = [*_ALWAYS, _WEB_CSP if web else _API_CSP]
    if is_https(connection, trusted_proxies):
        extra.append(_HSTS)
    return extra


def security_headers(connection: HTTPConnection, trusted_proxies: tuple[str, ...]) -> dict[str, str]:
    """The same headers as a dict, for an answer sent outside the middleware (the 500 handler)."""
    return {name.decode(): value.decode() for name, value in [*_extra(connection, trusted_proxies), _NO_STORE]}


def with_security_headers(scope: Scope, send: Send, trusted_proxies: tuple[str, ...]) -> Send:
    """``send`` adding the headers above to the answer's start (a header the answer sets itself is kept)."""
    extra = _extra(HTTPConnection(scope), trusted_proxies)

    async def send_with_headers(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = list(message.get("headers", []))
            names = {name.lower() for name, _ in headers}
            headers += [(name, value) for name, value in extra if name not in names]
            if b"cache-control" not in names:
                headers.append(_NO_STORE)
            message["headers"] = headers
        await send(message)

    return send_with_headers


class SecurityHeadersMiddleware:
    """Adds the headers above to every HTTP answer."""

    def __init__(self, app: App, trusted_proxies: tuple[str, ...] = ()) -> None:
        self.app = app
        self.trusted_proxies = trusted_proxies

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await self.app(scope, receive, with_security_headers(scope, send, self.trusted_proxies))
