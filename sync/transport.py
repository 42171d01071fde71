"""The HTTP session: TLS verified through the OS trust store, plain http only to this computer.

Councils often inspect TLS through a proxy whose root certificate IT installs in the
operating system's store; `certifi`'s bundle would not know it. `truststore` makes
Python verify against the OS store, and an optional CA bundle from the settings is
added on top for portals signed by a private CA.
"""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
import truststore
from requests.adapters import HTTPAdapter

from sync.errors import InsecurePortalURL, SettingsError

LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
USER_AGENT = "fieldapp-sync/1"


def check_portal_url(url: str) -> str:
    """The portal's base URL without a trailing slash; refuses plain http to another machine."""
    text = (url or "").strip()
    parts = urlsplit(text)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise InsecurePortalURL(
            f"The portal address {text!r} is not a web address. "
            "Enter it in full, for example https://portal.council.gov.uk."
        )
    if parts.scheme == "http" and parts.hostname.lower() not in LOCAL_HOSTS:
        raise InsecurePortalURL(
            f"The portal address {text!r} uses plain http, which would send passwords and residents' "
            "data unencrypted. Use its https:// address (plain http is only allowed to this computer)."
        )
    if parts.query or parts.fragment:
        raise InsecurePortalURL(f"The portal address {text!r} must not contain '?' or '#'. Enter only the base address.")
    return text.rstrip("/")


def make_ssl_context(ca_bundle: str | None = None) -> ssl.SSLContext:
    """A verifying client context on the OS trust store, plus ``ca_bundle`` when given."""
    context = truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if ca_bundle:
        path = Path(ca_bundle)
        if not path.is_file():
            raise SettingsError(
                f"The CA bundle {ca_bundle!r} from the settings does not exist. "
                "Ask IT for the right path or remove the setting."
            )
        context.load_verify_locations(cafile=str(path))
    return context


class TrustStoreAdapter(HTTPAdapter):
    """An HTTPAdapter whose connection pools verify TLS with the given SSL context."""

    def __init__(self, ssl_context: ssl.SSLContext, **kwargs: Any) -> None:
        self._ssl_context = ssl_context
        super().__init__(**kwargs)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:  # noqa: D401 (requests hook)
        kwargs["ssl_context"] = self._ssl_context
        super().init_poolmanager(*args, **kwargs)

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        # A council proxy tunnels TLS (CONNECT); the tunnelled connection must verify the same way.
        proxy_kwargs["ssl_context"] = self._ssl_context
        return super().proxy_manager_for(proxy, **proxy_kwargs)


class NoRedirectSession(requests.Session):
    """A session that never follows a redirect.

    requests would re-send a 307/308's body (a password, a push) to wherever the
    answer points, http included; the caller sees the 3xx answer instead.
    """

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        kwargs["allow_redirects"] = False
        return super().request(method, url, *args, **kwargs)


def build_session(ca_bundle: str | None = None, pool_size: int = 4) -> requests.Session:
    """One session for the life of a client: keep-alive pools, verified TLS, no hidden retries or redirects."""
    session = NoRedirectSession()
    session.headers["User-Agent"] = USER_AGENT
    session.headers["Accept"] = "application/json"
    # max_retries=0: every retry is ours (sync.retry), visible and bounded.
    session.mount("https://", TrustStoreAdapter(make_ssl_context(ca_bundle), pool_connections=pool_size,
                                                pool_maxsize=pool_size, max_retries=0))
    session.mount("http://", HTTPAdapter(pool_connections=pool_size, pool_maxsize=pool_size, max_retries=0))
    session.verify = True
    return session
