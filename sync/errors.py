"""The exceptions of the sync layer, each with a message a person can act on.

The client turns every transport failure and every protocol error body into one of
these, so callers (the engine, the desktop app, the CLI) never see a `requests`
exception or a raw status code.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class SyncError(Exception):
    """Base of every error the sync layer raises on purpose."""


class PortalUnreachable(SyncError):
    """The portal could not be reached (no network, DNS, refused, timed out, 5xx after retries)."""


class TLSVerificationFailed(PortalUnreachable):
    """The portal's certificate is not trusted by this computer (or the configured CA bundle)."""


class SettingsError(SyncError):
    """A sync setting that cannot work (portal address, CA bundle); the message says what to change."""


class InsecurePortalURL(SettingsError):
    """A portal address that would send passwords and data unencrypted, or is malformed."""


class PortalRedirected(SettingsError):
    """The portal answered with a redirect; nothing was re-sent, IT must set the new address."""

    def __init__(self, status: int, base_url: str, location: str) -> None:
        where = f"to {location}" if location else "without saying where"
        super().__init__(
            f"The portal at {base_url} answered with a redirect (HTTP {status}) {where}. Nothing was sent there: "
            "a redirect could carry your password or visits to another server. If the council's portal has "
            f"moved, ask IT to set the portal address to {location or 'its new address'}."
        )
        self.status = status
        self.location = location


class AuthRequired(SyncError):
    """The portal refused the token (401): the user must sign in again."""


class SyncBusy(SyncError):
    """Another sync already runs for this data folder."""


class SyncCancelled(SyncError):
    """The user cancelled; raised inside the engine and turned into ``report.cancelled``."""


class PortalError(SyncError):
    """The portal answered with a protocol error body (``{"error": {...}}``)."""

    def __init__(self, status: int, code: str, message: str, details: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details: dict[str, Any] = dict(details or {})

    def __repr__(self) -> str:
        return f"PortalError(status={self.status}, code={self.code!r}, message={self.message!r})"


class PortalUnavailable(PortalError, PortalUnreachable):
    """The portal kept answering 5xx or 429 after every retry: try again later."""

    def __init__(self, status: int, code: str, message: str, details: Mapping[str, Any] | None = None,
                 retry_after: float | None = None) -> None:
        super().__init__(status, code, message, details)
        self.retry_after = retry_after


class MalformedPage(SyncError):
    """A pulled page that does not have the protocol's shape; nothing of it was applied."""

    def __init__(self, fault: str) -> None:
        super().__init__(
            f"The portal sent changes this version of Fieldapp cannot read ({fault}). Nothing from them was "
            "saved and your unsent work is safe; sync again later, and tell IT if it keeps happening."
        )
        self.fault = fault


class BlobFailed(SyncError):
    """One photo could not be uploaded (unreadable file, refused by the portal); the others go on."""

    def __init__(self, sha256: str, message: str) -> None:
        super().__init__(message)
        self.sha256 = sha256
