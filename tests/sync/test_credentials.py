"""Tokens go to the OS keyring when one exists, else stay in memory; never a plain file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.backends import fail, null

from sync import credentials


class SafeKeyring(KeyringBackend):
    """A stand-in for an OS keyring (in memory, positive priority)."""

    priority = 5  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.items: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.items.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.items[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.items.pop((service, username), None)


class PlaintextKeyring(SafeKeyring):
    """Looks like keyrings.alt's plaintext file backend."""


PlaintextKeyring.__module__ = "keyrings.alt.file"


@pytest.fixture
def backend() -> Iterator[None]:
    previous = keyring.get_keyring()
    credentials._memory.clear()
    yield
    keyring.set_keyring(previous)
    credentials._memory.clear()


@pytest.mark.parametrize("make", [fail.Keyring, null.Keyring, PlaintextKeyring])
def test_no_usable_keyring_keeps_token_in_memory_only(backend: None, make: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """fail, null and plaintext backends are not used: the token lives in memory and nowhere on disk."""
    monkeypatch.chdir(tmp_path)
    store = make()
    keyring.set_keyring(store)
    assert credentials.save_token("https://p", "ann", "secret-token") is False
    assert credentials.load_token("https://p", "ann") == "secret-token"
    assert getattr(store, "items", {}) == {}
    assert list(tmp_path.iterdir()) == []
    credentials._memory.clear()  # the app restarted
    assert credentials.load_token("https://p", "ann") is None


def test_os_keyring_keeps_token_across_restart(backend: None) -> None:
    """With a real keyring the token survives a restart and is deleted on sign-out."""
    store = SafeKeyring()
    keyring.set_keyring(store)
    assert credentials.save_token("https://p/", "ann", "tok") is True
    credentials._memory.clear()
    assert credentials.load_token("https://p", "ann") == "tok"
    credentials.delete_token("https://p", "ann")
    assert credentials.load_token("https://p", "ann") is None and store.items == {}
