"""Who is on the other end: the client's address and whether it came over HTTPS.

Behind a reverse proxy the connecting address is the proxy's; only then is
``X-Forwarded-For`` believed, and only the hops that trusted proxies appended. A
client that sends the header itself to a portal without a configured proxy gets its
real address recorded (and throttled), whatever it claims.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from starlette.requests import HTTPConnection

_Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def _networks(trusted: tuple[str, ...]) -> tuple[_Network, ...]:
    return tuple(ipaddress.ip_network(item, strict=False) for item in trusted)


def _is_trusted(address: str, trusted: tuple[str, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in _networks(trusted))


def _from_proxy(connection: HTTPConnection, trusted: tuple[str, ...]) -> bool:
    peer = connection.client.host if connection.client else None
    return bool(trusted) and peer is not None and _is_trusted(peer, trusted)


def client_address(connection: HTTPConnection, trusted: tuple[str, ...]) -> str | None:
    """The client's IP address: the peer's, or the first untrusted ``X-Forwarded-For`` hop from the right."""
    peer = connection.client.host if connection.client else None
    if not _from_proxy(connection, trusted):
        return peer
    hops = [hop.strip() for value in connection.headers.getlist("x-forwarded-for") for hop in value.split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _is_trusted(hop, trusted):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return peer  # a malformed hop: what the proxy itself saw is all we know
    return hops[0] if hops else peer


def is_https(connection: HTTPConnection, trusted: tuple[str, ...]) -> bool:
    """True when the client reached the portal over TLS (directly, or via a trusted proxy that says so)."""
    # The scope's scheme, not ``connection.url``: building the URL (to read one part of it) cost more than the rest of this check.
    if connection.scope.get("scheme") in ("https", "wss"):
        return True
    if _from_proxy(connection, trusted):
        proto = connection.headers.get("x-forwarded-proto", "").split(",")[-1].strip().lower()
        return proto == "https"
    return False
