"""Where a webhook may point, and one POST to it: no SSRF, TLS verified, no redirects, bounded in time and size.

A webhook's address is chosen by an admin, but the portal makes the request from
inside the council's network, so the address is checked twice: when it is registered
and at every delivery, after resolving it (a name can change what it points to).
Plain ``http`` is only for this machine: every address the name resolves to must be
loopback, and the connection goes to the address that was checked (no second lookup
an attacker's DNS could answer differently). ``https`` may go anywhere the CRM lives
except the unspecified, multicast and link-local ranges (cloud metadata services sit
at 169.254.169.254), and its certificate is verified against the name.

The request follows no redirect (a 3xx is a failed attempt: the CRM must give its
real address), reads at most ``MAX_RESPONSE_BYTES`` of the answer, and a watchdog
closes the connection when the whole exchange outlasts its deadline, so a receiver
that trickles bytes cannot hold a worker.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

MAX_URL_LENGTH = 2048
#: Of an answer only the status matters; this much of its body is read and dropped.
MAX_RESPONSE_BYTES = 64 * 1024
USER_AGENT = "Fieldapp-Portal-Webhooks/1"


class UnsafeTarget(ValueError):
    """The address may not receive webhooks; the message says what to use instead."""


@dataclass(frozen=True)
class Target:
    """A checked destination: the URL's parts and the resolved address to connect to."""

    scheme: str
    host: str
    port: int
    path: str
    address: str


@dataclass(frozen=True)
class Answer:
    """What one attempt got: a status code, or an error sentence; and how long it took."""

    status_code: int | None
    error: str | None
    duration_ms: int

    @property
    def ok(self) -> bool:
        """A 2xx answer: the receiver has the event."""
        return self.status_code is not None and 200 <= self.status_code < 300


def _refused_everywhere(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    return ip.is_unspecified or ip.is_multicast or ip.is_link_local or (ip.is_reserved and not ip.is_loopback)


def _resolve(host: str, port: int) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError, ValueError):
        raise UnsafeTarget(f"The host {host!r} cannot be resolved; check the address.") from None
    found: list[ipaddress.IPv4Address | ipaddress.IPv6Address] = []
    for info in infos:
        ip = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        mapped = getattr(ip, "ipv4_mapped", None)
        found.append(mapped or ip)
    return found


def check_url(url: str, *, resolve: bool = True) -> Target:
    """The checked target of a webhook address; UnsafeTarget with a sentence saying what to fix.

    ``resolve=False`` checks only the form (the registration also resolves; delivery
    always does).
    """
    if len(url) > MAX_URL_LENGTH:
        raise UnsafeTarget(f"The address is longer than {MAX_URL_LENGTH} characters.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise UnsafeTarget("The address is not a valid URL; give one like https://crm.example.gov.uk/hooks/fieldapp.") from None
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http"):
        raise UnsafeTarget("Use an https:// address (http:// only to this machine, e.g. http://127.0.0.1:9000/hook).")
    if parts.username is not None or parts.password is not None:
        raise UnsafeTarget("Put no user name or password in the address: deliveries are signed with the webhook's secret.")
    if parts.fragment or any(c.isspace() for c in url):
        raise UnsafeTarget("The address may not hold spaces or a #fragment.")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise UnsafeTarget("The address has no host; give one like https://crm.example.gov.uk/hooks/fieldapp.")
    port = port or (443 if scheme == "https" else 80)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    if not resolve:
        return Target(scheme, host, port, path, host)
    addresses = _resolve(host, port)
    if scheme == "http":
        if not addresses or not all(ip.is_loopback for ip in addresses):
            raise UnsafeTarget("Plain http:// is allowed only to this machine (a loopback address such as 127.0.0.1); "
                               "use an https:// address for anything else.")
    elif any(_refused_everywhere(ip) for ip in addresses):
        raise UnsafeTarget("The address resolves to a link-local, multicast or unspecified address, which may not receive webhooks.")
    return Target(scheme, host, port, path, str(addresses[0]))


def _connect(target: Target, timeout: float) -> socket.socket:
    sock = socket.create_connection((target.address, target.port), timeout=timeout)
    if target.scheme != "https":
        return sock
    # The system's trust store, hostname checked: a certificate that does not verify fails the attempt.
    context = ssl.create_default_context()
    try:
        return context.wrap_socket(sock, server_hostname=target.host)
    except BaseException:
        sock.close()
        raise


def _describe(exc: BaseException) -> str:
    if isinstance(exc, UnsafeTarget):
        return str(exc)
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"TLS certificate not trusted: {exc.verify_message or exc.reason}."
    if isinstance(exc, (socket.timeout, TimeoutError)):
        return _TIMED_OUT
    if isinstance(exc, ConnectionRefusedError):
        return "Connection refused."
    if isinstance(exc, (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError)):
        return "The receiver closed the connection without an answer."
    return f"{type(exc).__name__}: {exc}"[:300]


def post(url: str, body: bytes, headers: dict[str, str], timeout: float) -> Answer:
    """POST ``body`` once; never raises: a refusal, a network error or a timeout is the Answer's error."""
    started = time.monotonic()

    def done(status: int | None, error: str | None) -> Answer:
        return Answer(status, error, int((time.monotonic() - started) * 1000))

    try:
        target = check_url(url)
        sock = _connect(target, timeout)
    except Exception as exc:  # noqa: BLE001 - every failure is an attempt's recorded error
        return done(None, _describe(exc))
    # The whole exchange has one deadline: the watchdog shuts the socket when it passes
    # (an answer cut short by it is a timeout, whatever http.client made of the rest).
    cut = threading.Event()
    watchdog = threading.Timer(timeout, _shut, args=(sock, cut))
    watchdog.daemon = True
    watchdog.start()
    connection = http.client.HTTPConnection(target.host, target.port, timeout=timeout)
    connection.sock = sock  # already connected (and TLS-wrapped) to the checked address
    try:
        host_header = target.host if target.port in (80, 443) else f"{target.host}:{target.port}"
        connection.request("POST", target.path, body=body, headers={
            **headers, "Host": host_header, "Content-Type": "application/json", "User-Agent": USER_AGENT,
        })
        response = connection.getresponse()
        remaining = MAX_RESPONSE_BYTES
        while remaining > 0 and response.read(min(remaining, 8192)):
            remaining -= 8192
        status = response.status
    except Exception as exc:  # noqa: BLE001
        return done(None, _TIMED_OUT if cut.is_set() else _describe(exc))
    finally:
        watchdog.cancel()
        connection.close()
    if cut.is_set():
        return done(None, _TIMED_OUT)
    return done(status, None if 200 <= status < 300 else f"HTTP {status}")


_TIMED_OUT = "No answer within the timeout."


def _shut(sock: socket.socket, cut: threading.Event) -> None:
    cut.set()
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # already closed
