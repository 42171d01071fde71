"""A keyring backend for benchmarks: the "OS keyring" of a bench laptop, in a file of the bench's scratch folder.

This machine has no keyring (keyring picks its ``fail`` backend), so a `fieldapp sync`
process could never find the token of the sign-in before it, and every sync would sign
in again. A bench that measures a signed-in officer's sync points keyring at this class
(``PYTHON_KEYRING_BACKEND=bench_keyring.FileKeyring``, with ``bench/`` on the path and
``FIELDAPP_BENCH_KEYRING`` naming the file). Never for real use: the file is plain JSON.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError


class FileKeyring(KeyringBackend):
    """Passwords in the JSON file named by ``FIELDAPP_BENCH_KEYRING``."""

    priority = 1.0  # type: ignore[assignment]  (a usable backend to fieldapp's check; keyring's own is a classproperty)

    @staticmethod
    def _file() -> Path:
        return Path(os.environ["FIELDAPP_BENCH_KEYRING"])

    def _read(self) -> dict[str, str]:
        try:
            return dict(json.loads(self._file().read_text()))
        except FileNotFoundError:
            return {}

    def get_password(self, service: str, username: str) -> str | None:
        return self._read().get(f"{service}\n{username}")

    def set_password(self, service: str, username: str, password: str) -> None:
        kept = self._read()
        kept[f"{service}\n{username}"] = password
        self._file().write_text(json.dumps(kept))

    def delete_password(self, service: str, username: str) -> None:
        kept = self._read()
        if kept.pop(f"{service}\n{username}", None) is None:
            raise PasswordDeleteError(username)
        self._file().write_text(json.dumps(kept))
