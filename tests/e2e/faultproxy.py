"""A fault-injecting HTTP/1.1 proxy on loopback, between the sync client and the portal.

For each request it draws a fault from a seeded random schedule:

- ``drop_before``: the connection is closed before the request reaches the portal;
- ``drop_after``: the request reaches the portal (which commits it), the answer is lost;
- ``mid_upload``: half of a blob chunk's body is forwarded, then both sides are cut;
- ``delay``: the answer is held back for a while (shorter than the client's read timeout);
- ``unavailable``: the proxy answers 503 with ``Retry-After`` itself;
- ``none``: passed through.

It understands just enough HTTP/1.1 to find message boundaries (Content-Length and
chunked bodies), so keep-alive connections are proxied request by request.
"""

from __future__ import annotations

import collections
import json
import random
import socket
import threading
import time
from dataclasses import dataclass
from typing import BinaryIO

FAULTS = ("drop_before", "drop_after", "mid_upload", "delay", "unavailable")


@dataclass(frozen=True)
class FaultPlan:
    """Probability of each fault per request (the rest pass through)."""

    drop_before: float = 0.06
    drop_after: float = 0.06
    mid_upload: float = 0.25        # of blob chunk uploads only
    delay: float = 0.08
    unavailable: float = 0.05
    max_delay: float = 0.3          # seconds
    retry_after: int = 1            # seconds, in the proxy's 503 answers
    paths: tuple[str, ...] = ()     # faults only on requests whose path starts with one of these (all when empty)


class _Closed(Exception):
    """One side hung up."""


def _read_head(stream: BinaryIO) -> bytes:
    head = b""
    while not head.endswith(b"\r\n\r\n"):
        line = stream.readline(65537)
        if not line:
            raise _Closed()
        head += line
        if head == b"\r\n":  # stray blank line between messages
            head = b""
    return head


def _headers(head: bytes) -> dict[str, str]:
    lines = head.decode("latin-1").split("\r\n")[1:]
    return {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines if ":" in line)}


def _read_exact(stream: BinaryIO, count: int) -> bytes:
    data = stream.read(count)
    if len(data) != count:
        raise _Closed()
    return data


def _read_chunked(stream: BinaryIO) -> bytes:
    """The raw bytes of a chunked body, trailers included (forwarded unchanged)."""
    raw = b""
    while True:
        size_line = stream.readline(65537)
        if not size_line:
            raise _Closed()
        raw += size_line
        size = int(size_line.split(b";")[0].strip(), 16)
        if size == 0:
            while True:
                trailer = stream.readline(65537)
                if not trailer:
                    raise _Closed()
                raw += trailer
                if trailer == b"\r\n":
                    return raw
        raw += _read_exact(stream, size + 2)


class FaultProxy:
    """Listens on 127.0.0.1 (``.url``) and forwards to ``upstream_url`` with seeded faults."""

    def __init__(self, upstream_url: str, seed: int, plan: FaultPlan | None = None) -> None:
        host_port = upstream_url.split("://", 1)[1].rstrip("/")
        host, _, port = host_port.rpartition(":")
        self._upstream = (host, int(port))
        self.plan = plan or FaultPlan()
        self.enabled = True
        self.counts: collections.Counter[str] = collections.Counter()
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self._closing = False
        self._sockets: set[socket.socket] = set()
        threading.Thread(target=self._accept_loop, daemon=True).start()

    # ------------------------------------------------------------ control

    def close(self) -> None:
        self._closing = True
        self._listener.close()
        with self._lock:
            for sock in list(self._sockets):
                _close(sock)

    def __enter__(self) -> "FaultProxy":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _choose(self, method: str, path: str) -> str:
        with self._lock:
            roll = self._rng.random()
            if not self.enabled or (self.plan.paths and not path.startswith(self.plan.paths)):
                return "none"
            is_chunk = method == "PUT" and "/blobs/" in path
            plan = self.plan
            for fault, p in (("mid_upload", plan.mid_upload if is_chunk else 0.0), ("drop_before", plan.drop_before),
                             ("drop_after", plan.drop_after), ("unavailable", plan.unavailable), ("delay", plan.delay)):
                if roll < p:
                    self.counts[fault] += 1
                    return fault
                roll -= p
            self.counts["none"] += 1
            return "none"

    def _delay(self) -> float:
        with self._lock:
            return self._rng.uniform(0.02, self.plan.max_delay)

    # ------------------------------------------------------------ plumbing

    def _accept_loop(self) -> None:
        while not self._closing:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _track(self, sock: socket.socket) -> socket.socket:
        with self._lock:
            self._sockets.add(sock)
        return sock

    def _serve(self, client: socket.socket) -> None:
        self._track(client)
        upstream: socket.socket | None = None
        client_in = client.makefile("rb")
        upstream_in: BinaryIO | None = None
        try:
            while True:
                head = _read_head(client_in)
                headers = _headers(head)
                body = _read_exact(client_in, int(headers.get("content-length", "0") or 0))
                method, path = head.split(b" ", 2)[:2]
                fault = self._choose(method.decode(), path.decode())
                if fault == "drop_before":
                    return
                if fault == "unavailable":
                    client.sendall(self._unavailable())
                    continue
                if upstream is None:
                    upstream = self._track(socket.create_connection(self._upstream))
                    upstream_in = upstream.makefile("rb")
                if fault == "mid_upload" and len(body) > 1:
                    upstream.sendall(head + body[: len(body) // 2])
                    return
                upstream.sendall(head + body)
                response, close_after = self._read_response(upstream_in)
                if fault == "drop_after":
                    return
                if fault == "delay":
                    time.sleep(self._delay())
                client.sendall(response)
                if close_after:
                    return
        except (_Closed, OSError, ValueError):
            return
        finally:
            for sock in (client, upstream):
                if sock is not None:
                    _close(sock)
                    with self._lock:
                        self._sockets.discard(sock)

    @staticmethod
    def _read_response(stream: BinaryIO) -> tuple[bytes, bool]:
        head = _read_head(stream)
        headers = _headers(head)
        status = int(head.split(b" ", 2)[1])
        close_after = headers.get("connection", "").lower() == "close"
        if status in (204, 304) or 100 <= status < 200:
            return head, close_after
        if "chunked" in headers.get("transfer-encoding", "").lower():
            return head + _read_chunked(stream), close_after
        if "content-length" in headers:
            return head + _read_exact(stream, int(headers["content-length"])), close_after
        return head + stream.read(), True

    def _unavailable(self) -> bytes:
        body = json.dumps({"error": {"code": "unavailable", "message": "The portal is busy. Try again shortly.",
                                     "details": {}}}).encode()
        return (f"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
                f"Retry-After: {self.plan.retry_after}\r\nContent-Length: {len(body)}\r\n\r\n").encode() + body


def _close(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()
