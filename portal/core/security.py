"""Password hashing (scrypt) and session tokens (random, stored only as SHA-256)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from portal.core.config import KdfParams

_SALT_BYTES = 16
_KEY_BYTES = 32


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _derive(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    # maxmem must allow 128 * n * r bytes plus slack, or OpenSSL refuses larger costs.
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=_KEY_BYTES, maxmem=256 * n * r + 2**20)


def hash_password(password: str, params: KdfParams) -> str:
    """An encoded scrypt hash: ``scrypt$n$r$p$salt$key`` (parameters travel with the hash)."""
    salt = secrets.token_bytes(_SALT_BYTES)
    key = _derive(password, salt, params.n, params.r, params.p)
    return f"scrypt${params.n}${params.r}${params.p}${_b64(salt)}${_b64(key)}"


def verify_password(password: str, encoded: str) -> bool:
    """True when the password matches the encoded hash (constant-time comparison)."""
    try:
        scheme, n, r, p, salt, key = encoded.split("$")
        if scheme != "scrypt":
            return False
        derived = _derive(password, base64.b64decode(salt), int(n), int(r), int(p))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(derived, base64.b64decode(key))


def burn_kdf_time(password: str, params: KdfParams) -> None:
    """Spend one hash's time, so an unknown username answers as slowly as a wrong password."""
    _derive(password, b"\0" * _SALT_BYTES, params.n, params.r, params.p)


def new_token() -> str:
    """A fresh bearer token: 32 random bytes, URL-safe."""
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    """The SHA-256 under which a token is stored and looked up."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
