"""Where the portal token lives: the OS keyring, or this process's memory.

A token is as good as a password for 12 hours, so it is never written to a plain
file. Where the computer has no usable keyring (no backend, the ``fail``/``null``
backends, or a plaintext file backend from ``keyrings.alt``), it is kept in memory
only, and the user signs in again after restarting the app.
"""

from __future__ import annotations

import logging
import threading

import keyring
import keyring.errors
from keyring.backend import KeyringBackend

log = logging.getLogger(__name__)

SERVICE_PREFIX = "fieldapp:"

_memory: dict[tuple[str, str], str] = {}
_memory_lock = threading.Lock()


def _service(portal_url: str) -> str:
    return SERVICE_PREFIX + portal_url.rstrip("/")


def _is_secure_backend(backend: KeyringBackend) -> bool:
    """False for backends that store nothing (fail, null) or store in a plain file."""
    module = type(backend).__module__
    name = type(backend).__name__
    if module.startswith(("keyring.backends.fail", "keyring.backends.null")):
        return False
    if module.startswith("keyrings.alt") and ("Plaintext" in name or "file" in module and "Encrypted" not in name):
        return False
    if module.startswith("keyring.backends.chainer"):
        inner = getattr(backend, "backends", [])
        return bool(inner) and any(_is_secure_backend(b) for b in inner)
    try:
        return float(getattr(backend, "priority", 0)) > 0
    except Exception:  # a backend whose priority probe fails is not usable
        return False


def keyring_available() -> bool:
    """Whether a token saved now would survive a restart of the app."""
    return _is_secure_backend(keyring.get_keyring())


def save_token(portal_url: str, username: str, token: str) -> bool:
    """Keep the token; True if it went to the OS keyring, False if only to memory."""
    key = (_service(portal_url), username)
    with _memory_lock:
        _memory[key] = token
    if not keyring_available():
        return False
    try:
        keyring.set_password(key[0], username, token)
        return True
    except keyring.errors.KeyringError as exc:
        log.warning("OS keyring refused the token (%s); keeping it in memory only", exc)
        return False


def load_token(portal_url: str, username: str) -> str | None:
    """The kept token, or None (then the user must sign in)."""
    key = (_service(portal_url), username)
    with _memory_lock:
        if key in _memory:
            return _memory[key]
    if not keyring_available():
        return None
    try:
        return keyring.get_password(key[0], username)
    except keyring.errors.KeyringError as exc:
        log.warning("OS keyring could not be read (%s)", exc)
        return None


def delete_token(portal_url: str, username: str) -> None:
    """Forget the token everywhere (sign-out, or the portal refused it)."""
    key = (_service(portal_url), username)
    with _memory_lock:
        _memory.pop(key, None)
    if not keyring_available():
        return
    try:
        keyring.delete_password(key[0], username)
    except keyring.errors.PasswordDeleteError:
        pass
    except keyring.errors.KeyringError as exc:
        log.warning("OS keyring could not delete the token (%s)", exc)
