"""Slow clients cannot hold the portal: a body that trickles is cut with 408; serve sets uvicorn's idle timeout."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

from portal.core.config import PortalSettings
from portal.server import connection_limits, start_background


def _answer_to_an_unfinished_body(tmp_path: Path, request: bytes) -> bytes:
    """What a portal with a 0.3 s body deadline answers to ``request`` (its body stops short), until it closes."""
    settings = PortalSettings.from_env(database_url=f"sqlite:///{tmp_path / 'p.db'}", blob_dir=tmp_path / "b", body_timeout_seconds=0.3)
    with start_background(settings.database_url, settings.blob_dir, settings=settings) as portal:
        host, port = portal.url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=10) as sock:
            sock.sendall(request)
            answer = b""
            while chunk := sock.recv(4096):
                answer += chunk
    return answer


def test_a_body_that_never_finishes_is_answered_408(tmp_path: Path) -> None:
    """A request whose body stops arriving gets 408 request_timeout after the deadline, and the connection closes."""
    answer = _answer_to_an_unfinished_body(tmp_path, b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                                                     b"Content-Length: 500\r\n\r\n{\"username\":")
    assert answer.startswith(b"HTTP/1.1 408") and b"request_timeout" in answer


def test_a_photo_whose_body_never_finishes_is_answered_408_with_the_security_headers(tmp_path: Path) -> None:
    """The blob layer reads its bodies itself (portal.api.blob_put), under the same deadline; its 408 carries the headers."""
    answer = _answer_to_an_unfinished_body(tmp_path, f"PUT /api/v1/blobs/{'a' * 64} HTTP/1.1\r\nHost: x\r\n"
                                                     "Content-Range: bytes 0-499/500\r\nContent-Length: 500\r\n\r\n".encode() + b"\xff\xd8\xff")
    head = answer.split(b"\r\n\r\n")[0].lower()
    assert answer.startswith(b"HTTP/1.1 408") and b"request_timeout" in answer
    assert b"x-content-type-options: nosniff" in head and b"cache-control: no-store" in head and b"connection: close" in head


def test_serve_passes_the_idle_timeout_to_uvicorn() -> None:
    """The keep-alive idle timeout (and a bounded graceful shutdown) come from the settings."""
    limits = connection_limits(PortalSettings(idle_timeout_seconds=7))
    assert limits["timeout_keep_alive"] == 7 and limits["timeout_graceful_shutdown"] > 0


def test_housekeeping_command_runs(tmp_path: Path) -> None:
    """`fieldapp-portal housekeeping` migrates, runs every step and prints what it removed."""
    result = subprocess.run([sys.executable, "-m", "portal.cli", "housekeeping", "--database-url", f"sqlite:///{tmp_path / 'p.db'}",
                             "--blob-dir", str(tmp_path / "blobs")], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "unreferenced photos" in result.stdout
