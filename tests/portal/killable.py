"""``fieldapp-portal serve`` in a process of its own, for the tests that kill it (-9) and start it again."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Self

import requests

from portal.server import free_port, wait_healthy


class KillablePortal:
    """One database and blob folder, served on a fixed loopback port across restarts.

    Used in a ``with`` block, it is killed at the block's end if it still runs.
    """

    def __init__(self, database_url: str, blob_dir: Path, *serve_args: str) -> None:
        self.env = {**os.environ, "FIELDAPP_PORTAL_KDF_N": "16"}
        self.database_url, self.blob_dir, self.serve_args = database_url, blob_dir, serve_args
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/api/v1"
        self.process: subprocess.Popen[bytes] | None = None

    def add_user(self, username: str, password: str, *options: str) -> None:
        """``fieldapp-portal add-user`` (``--role`` and ``--team`` among ``options``)."""
        subprocess.run([sys.executable, "-m", "portal.cli", "add-user", "--database-url", self.database_url,
                        "--username", username, *options, "--password-stdin"],
                       input=f"{password}\n".encode(), env=self.env, check=True, capture_output=True)

    def start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "portal.cli", "serve", "--database-url", self.database_url,
             "--blob-dir", str(self.blob_dir), "--port", str(self.port), *self.serve_args],
            env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        process = self.process
        wait_healthy(self.url, lambda: process.poll() is None)

    def kill(self) -> None:
        """SIGKILL: no shutdown code of the portal's runs, as in a power cut."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(30)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_exc: object) -> None:
        if self.process is not None and self.process.poll() is None:
            self.kill()

    def sign_in(self, username: str, password: str, device_id: str) -> dict[str, str]:
        answer = requests.post(f"{self.url}/auth/login", timeout=30, json={
            "username": username, "password": password, "device_id": device_id})
        assert answer.status_code == 200, answer.text
        return {"Authorization": f"Bearer {answer.json()['token']}"}

