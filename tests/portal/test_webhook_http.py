"""One webhook POST against real loopback sockets: TLS verified, SSRF refused, bounded in time and size."""

from __future__ import annotations

import datetime as dt
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from portal.webhook_http import MAX_RESPONSE_BYTES, post


@contextmanager
def _serve(handle: Callable[[socket.socket], None], wrap: ssl.SSLContext | None = None) -> Iterator[int]:
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def run() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            try:
                handle(wrap.wrap_socket(conn, server_side=True) if wrap else conn)
            except (OSError, ssl.SSLError):
                pass
            finally:
                conn.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join(5)
    listener.close()


def _read_request(conn: socket.socket) -> None:
    data = b""
    while b"\r\n\r\n" not in data:
        data += conn.recv(4096)


@pytest.fixture
def self_signed(tmp_path: Path) -> ssl.SSLContext:
    """A server context with a certificate for localhost that no trust store knows."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
            .sign(key, hashes.SHA256()))
    (tmp_path / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                         serialization.NoEncryption()))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    return context


def test_an_untrusted_certificate_fails_the_attempt(self_signed: ssl.SSLContext) -> None:
    """https to a receiver whose certificate does not verify: no request is sent, the error says why."""
    seen: list[bytes] = []

    def handle(conn: socket.socket) -> None:
        seen.append(conn.recv(4096))

    with _serve(handle, self_signed) as port:
        answer = post(f"https://localhost:{port}/hook", b"{}", {}, timeout=3)
    assert answer.status_code is None and answer.error is not None and "TLS certificate not trusted" in answer.error
    assert not any(seen)


def test_plain_http_elsewhere_is_refused_at_delivery() -> None:
    """An http address that is not loopback (say the registration was bypassed) is never connected to."""
    answer = post("http://10.255.255.1/hook", b"{}", {}, timeout=3)
    assert answer.status_code is None and "only to this machine" in (answer.error or "") and answer.duration_ms < 1000


def test_a_huge_answer_is_read_only_in_part() -> None:
    """A receiver that streams an endless body: the status is taken, at most 64 KiB read, the connection closed."""
    sent = [0]

    def handle(conn: socket.socket) -> None:
        _read_request(conn)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000000000\r\n\r\n")
        chunk = b"x" * 65536
        while True:
            conn.sendall(chunk)
            sent[0] += len(chunk)

    with _serve(handle) as port:
        started = time.monotonic()
        answer = post(f"http://127.0.0.1:{port}/hook", b"{}", {}, timeout=5)
        elapsed = time.monotonic() - started
    assert answer.ok and answer.status_code == 200 and elapsed < 4
    assert sent[0] < 100 * MAX_RESPONSE_BYTES


def test_a_trickling_receiver_is_cut_at_the_deadline() -> None:
    """Headers sent a byte at a time never hold the worker past the attempt's whole deadline."""

    def handle(conn: socket.socket) -> None:
        _read_request(conn)
        for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"y" * 1000:
            conn.sendall(bytes([byte]))
            time.sleep(0.05)

    with _serve(handle) as port:
        answer = post(f"http://127.0.0.1:{port}/hook", b"{}", {}, timeout=1.0)
    assert answer.status_code is None and answer.error == "No answer within the timeout."
    assert 900 <= answer.duration_ms < 3000
