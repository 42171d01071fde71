"""A real loopback HTTP receiver for webhook tests: verifies every signature with the library, fails on purpose.

``script`` is what to do with each request in turn ("ok", "500", "timeout", "drop",
"redirect"); when it runs out every request is answered "ok". Every request is kept
with its headers, body, time and whether its signature verified.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks.webhooks import Webhook as Verifier
from standardwebhooks.webhooks import WebhookVerificationError


@dataclass
class Received:
    """One request as the receiver saw it."""

    path: str
    headers: dict[str, str]
    body: bytes
    at: float
    behaviour: str
    verified: bool

    @property
    def payload(self) -> dict[str, Any]:
        """The JSON body."""
        return json.loads(self.body)  # type: ignore[no-any-return]


@dataclass
class Receiver:
    """The server, its script and what it received; ``url`` is where to point a webhook."""

    script: list[str] = field(default_factory=list)
    secret: str = ""
    #: How long a "timeout" request hangs before answering (longer than the worker's timeout).
    hang_seconds: float = 1.5
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks/fieldapp"

    def next_behaviour(self) -> str:
        with self.lock:
            return self.script.pop(0) if self.script else "ok"

    def delivered(self) -> list[Received]:
        """The requests answered 2xx (what the CRM has)."""
        with self.lock:
            return [r for r in self.received if r.behaviour == "ok" and r.verified]

    def wait_for(self, predicate: Any, timeout: float = 20.0) -> None:
        """Wait until ``predicate(self)`` holds (polls; AssertionError on timeout)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate(self):
                return
            time.sleep(0.02)
        raise AssertionError(f"The receiver did not get what was expected within {timeout} s; it got {len(self.received)} requests.")

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                headers = {k.lower(): v for k, v in self.headers.items()}
                try:
                    Verifier(receiver.secret).verify(body, headers)
                    verified = True
                except (WebhookVerificationError, ValueError):
                    verified = False
                behaviour = receiver.next_behaviour() if verified else "bad-signature"
                with receiver.lock:
                    receiver.received.append(Received(self.path, headers, body, time.monotonic(), behaviour, verified))
                if behaviour == "drop":
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                if behaviour == "timeout":
                    time.sleep(receiver.hang_seconds)
                status = {"ok": 204, "500": 500, "timeout": 204, "redirect": 302, "bad-signature": 400}[behaviour]
                try:
                    self.send_response(status)
                    if behaviour == "redirect":
                        self.send_header("Location", "/elsewhere")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                except OSError:
                    pass  # the sender gave up waiting (the point of "timeout")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, name="webhook-receiver", daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
