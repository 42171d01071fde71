"""Where the portal token lives: the OS keyring, or this process's memory.

A token is as good as a password for 12 hours, so it is never written to a plain
file. Where the computer has no usable keyring (no backend, the ``fail``/``null``
backends, or a plaintext file backend from ``keyrings.alt``), it is kept in memory
only, and the user signs in again after restarting the app.

Finding the OS keyring is slow: keyring loads every backend it knows and asks each
whether it works here (on Linux its macOS backend alone runs ``ldconfig``, and ``gcc``
where installed, to look for the Keychain libraries). `find_keyring_early` starts that
search on a thread, so a short-lived process (`fieldapp sync`) overlaps those waits with
opening its store; every function here waits for it before using the keyring.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from keyring.backend import KeyringBackend

log = logging.getLogger(__name__)

SERVICE_PREFIX = "fieldapp:"

_memory: dict[tuple[str, str], str] = {}
_memory_lock = threading.Lock()


_search: threading.Thread | None = None
_search_lock = threading.Lock()


def find_keyring_early() -> None:
    """Start looking for the OS keyring now, on a thread (at most once); the first use waits for it."""
    global _search
    with _search_lock:
        if _search is None:
            _search = threading.Thread(target=_find_keyring, name="keyring-search", daemon=True)
            _search.start()


def _find_keyring() -> None:
    try:
        import keyring

        keyring.get_keyring()
    except Exception as exc:  # noqa: BLE001 - the first real use meets and reports the same problem
        log.debug("keyring search failed early: %s", exc)


def _backend() -> "KeyringBackend":
    """The keyring's backend, once an early search (if one was started) has finished."""
    import keyring

    search = _search
    if search is not None and search is not threading.current_thread():
        search.join()
    return keyring.get_keyring()


def _service(portal_url: str) -> str:
    return SERVICE_PREFIX + portal_url.rstrip("/")


def _is_secure_backend(backend: "KeyringBackend") -> bool:
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
    return _is_secure_backend(_backend())


def save_token(portal_url: str, username: str, token: str) -> bool:
    """Keep the token; True if it went to the OS keyring, False if only to memory."""
    key = (_service(portal_url), username)
    with _memory_lock:
        _memory[key] = token
    if not keyring_available():
        return False
    from keyring.errors import KeyringError

    try:
        _backend().set_password(key[0], username, token)
        return True
    except KeyringError as exc:
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
    from keyring.errors import KeyringError

    try:
        return _backend().get_password(key[0], username)
    except KeyringError as exc:
        log.warning("OS keyring could not be read (%s)", exc)
        return None


def delete_token(portal_url: str, username: str) -> None:
    """Forget the token everywhere (sign-out, or the portal refused it)."""
    key = (_service(portal_url), username)
    with _memory_lock:
        _memory.pop(key, None)
    if not keyring_available():
        return
    from keyring.errors import KeyringError, PasswordDeleteError

    try:
        _backend().delete_password(key[0], username)
    except PasswordDeleteError:
        pass
    except KeyringError as exc:
        log.warning("OS keyring could not delete the token (%s)", exc)
