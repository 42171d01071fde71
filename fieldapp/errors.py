"""The exceptions the core raises. Every message is a sentence a person can act on."""

from __future__ import annotations

from collections.abc import Mapping


class FieldappError(Exception):
    """Base of every error Fieldapp raises on purpose."""


class NotFoundError(FieldappError):
    """A case, visit, photo, template or problem that is not in the local store."""


class ValidationError(FieldappError):
    """Input that breaks a rule; ``problems`` maps a field or question id to its message."""

    def __init__(self, message: str, problems: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.problems: dict[str, str] = dict(problems or {})


class VisitLockedError(FieldappError):
    """An edit to a visit that can no longer change (submitted and waiting, or approved)."""


class PhotoError(FieldappError):
    """A photo file that cannot be imported (corrupt, unsupported, too large...)."""

    def __init__(self, message: str, path: str | None = None) -> None:
        super().__init__(message)
        self.path = path


class ConfigError(FieldappError):
    """A broken configuration file; the message names the file and the line."""


class StoreError(FieldappError):
    """The local database cannot be opened, migrated or written."""


class StoreBusyError(StoreError):
    """Another process holds the data folder (for example a sync already running)."""
