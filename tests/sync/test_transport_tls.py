"""TLS is verified: an unknown certificate is refused, the settings' CA bundle makes it trusted."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from sync.client import PortalClient
from sync.errors import SettingsError, TLSVerificationFailed

from httpstub import Reply, StubServer, server_tls

META = {"protocol": 1, "server_time": "2026-01-01T00:00:00Z", "max_push_ops": 1, "max_push_bytes": 1,
        "max_blob_bytes": 1, "chunk_bytes": 1, "tombstone_days": 1}


@pytest.fixture(scope="module")
def ca_and_cert(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """A private CA and a server certificate for 127.0.0.1 signed by it (made with openssl)."""
    d = tmp_path_factory.mktemp("pki")

    def run(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=d, check=True, capture_output=True)

    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
        "-subj", "/CN=Test Council CA", "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "srv.key", "-out", "srv.csr", "-subj", "/CN=127.0.0.1")
    (d / "ext.cnf").write_text("subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n"
                               "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\n")
    run("x509", "-req", "-in", "srv.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
        "-out", "srv.pem", "-days", "2", "-extfile", "ext.cnf")
    return d / "ca.pem", d / "srv.pem", d / "srv.key"


@pytest.fixture
def https_server(ca_and_cert: tuple[Path, Path, Path]) -> Any:
    _, cert, key = ca_and_cert
    server = StubServer(lambda r: Reply(200, META), ssl_context=server_tls(cert, key))
    yield server
    server.close()


def test_untrusted_certificate_is_refused_without_retry(https_server: Any) -> None:
    """A certificate not in the OS store fails at once with a message pointing at IT / the CA bundle."""
    client = PortalClient(https_server.url, token="t")
    with pytest.raises(TLSVerificationFailed) as info:
        client.meta()
    assert "CA bundle" in str(info.value)
    assert client.request_count == 1


def test_ca_bundle_from_settings_is_trusted(https_server: Any, ca_and_cert: tuple[Path, Path, Path]) -> None:
    """With the council's CA bundle configured, the same portal is trusted."""
    client = PortalClient(https_server.url, token="t", ca_bundle=str(ca_and_cert[0]))
    assert client.meta().protocol == 1


def test_missing_ca_bundle_file_is_a_clear_error(tmp_path: Path) -> None:
    """A CA bundle setting naming no file is reported, not silently ignored."""
    with pytest.raises(SettingsError, match="does not exist"):
        PortalClient("https://portal.example", ca_bundle=str(tmp_path / "nope.pem"))
