"""A tiny scripted HTTP/1.1 server on 127.0.0.1 for the sync client's unit tests.

A test gives a ``handler(request) -> Reply`` function; the server records every
request (method, path, query, headers, body, client port) so tests can count them.
``Reply(drop=True)`` closes the connection without answering (a network failure);
``Reply(delay=...)`` answers late (a read timeout).
"""

from __future__ import annotations

import json
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    client_port: int

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Reply:
    status: int = 200
    body: Any = None                    # dict/list -> JSON; bytes as is
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False                  # close the connection instead of answering
    delay: float = 0.0


def error(status: int, code: str, message: str, details: dict[str, Any] | None = None, **headers: str) -> Reply:
    """A protocol error reply."""
    return Reply(status, {"error": {"code": code, "message": message, "details": details or {}}},
                 {k.replace("_", "-"): v for k, v in headers.items()})


def server_tls(cert: Path, key: Path) -> ssl.SSLContext:
    """A server-side TLS context presenting ``cert`` (for ``StubServer(ssl_context=...)``)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return context


class StubServer:
    """Serve ``handler`` on a free loopback port until ``close()``; ``.url`` is the base URL."""

    def __init__(self, handler: Callable[[Request], Reply], ssl_context: ssl.SSLContext | None = None) -> None:
        self.handler = handler
        self.requests: list[Request] = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                request = Request(self.command, parts.path, {k: v[0] for k, v in parse_qs(parts.query).items()},
                                  {k: v for k, v in self.headers.items()}, body, self.client_address[1])
                stub.requests.append(request)
                reply = stub.handler(request)
                if reply.delay:
                    time.sleep(reply.delay)
                if reply.drop:
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                data = reply.body if isinstance(reply.body, bytes) else (
                    b"" if reply.body is None else json.dumps(reply.body).encode())
                self.send_response(reply.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for key, value in reply.headers.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = _serve

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        scheme = "http"
        if ssl_context is not None:
            self._server.socket = ssl_context.wrap_socket(self._server.socket, server_side=True)
            scheme = "https"
        self.port = self._server.server_address[1]
        self.url = f"{scheme}://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.02,), daemon=True)
        self._thread.start()

    def paths(self) -> list[str]:
        return [f"{r.method} {r.path}" for r in self.requests]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> "StubServer":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
