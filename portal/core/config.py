"""Portal settings: one frozen object built from arguments and ``FIELDAPP_PORTAL_*`` variables."""

from __future__ import annotations

import json
import os
import typing
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from sync.protocol import PHOTO_MAX_EDGE


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


@dataclass(frozen=True)
class KdfParams:
    """scrypt cost parameters; the production default costs about 50 ms and 16 MiB per hash."""

    n: int = 2**14
    r: int = 8
    p: int = 1


@dataclass(frozen=True)
class PortalSettings:
    """Everything the portal needs to run; limits are also announced by ``GET /sync/meta``."""

    database_url: str = "sqlite:///fieldapp-portal.db"
    blob_dir: Path = Path("fieldapp-portal-blobs")
    token_hours: int = 12
    max_push_ops: int = 200
    max_push_bytes: int = 4 * 1024 * 1024
    max_blob_bytes: int = 25 * 1024 * 1024
    #: The largest blob PUT: a photo as the laptop stores it (~0.6 MB) or at full size (2-4 MB)
    #: goes in one request. A body is held in memory until it is checked, so not more.
    chunk_bytes: int = 4 * 1024 * 1024
    #: Body limit of every other endpoint (admin posts, login, blob queries).
    max_body_bytes: int = 1024 * 1024
    tombstone_days: int = 30
    #: Partial blob uploads not continued for this many days are discarded.
    partial_blob_days: int = 7
    #: Complete blobs no visit references are removed this many days after their last upload.
    unreferenced_blob_days: int = 7
    #: Unfinished uploads one user may hold at once; past it, one untouched for
    #: ``partial_busy_seconds`` makes room, else the upload is refused (429).
    max_partial_uploads: int = 16
    partial_busy_seconds: int = 10 * 60
    #: The long edge of the largest photo accepted (any photo policy stores less).
    max_photo_edge: int = PHOTO_MAX_EDGE
    #: How long a request body may take to arrive, and an idle keep-alive connection may stay open.
    body_timeout_seconds: float = 60.0
    idle_timeout_seconds: int = 5
    #: Closed cases leave the devices (tombstones) this many days after closing.
    closed_case_days: int = 14
    #: Wrong passwords per username (or per known device of a user) within the window.
    login_max_failures: int = 5
    login_window_seconds: int = 15 * 60
    #: Failed sign-ins from one client address, across usernames, within the window
    #: (password spraying); a council office behind one NAT address stays well below it.
    login_address_max_failures: int = 20
    #: Addresses (or CIDR networks) of reverse proxies whose X-Forwarded-For is believed;
    #: empty: the connecting address is the client's (``FIELDAPP_PORTAL_TRUSTED_PROXIES``).
    trusted_proxies: tuple[str, ...] = ()
    kdf: KdfParams = field(default_factory=KdfParams)
    #: The council's template for the tenant's letter (``FIELDAPP_PORTAL_LETTER_TEMPLATE``);
    #: None uses the shipped one. Read at each letter, so IT changes it without a restart.
    letter_template: Path | None = None
    #: The webhook delivery worker (portal/webhook_worker.py) runs in every served portal process.
    webhook_worker: bool = True
    #: A delivery's POST has this long for the whole exchange (connect, TLS, answer).
    webhook_timeout_seconds: float = 10.0
    #: Waits between attempts of a failing delivery (the last repeats, each with jitter),
    #: until ``webhook_retry_hours`` after the event; then the delivery has failed.
    webhook_retry_delays: tuple[float, ...] = (30.0, 120.0, 600.0, 1800.0, 3600.0)
    webhook_retry_hours: float = 24.0
    #: How often an idle worker looks for new events, and how often clocks are checked for amber and breach.
    webhook_poll_seconds: float = 1.0
    clock_check_seconds: float = 60.0
    #: Finished webhook deliveries (and their events) are kept this many days for IT to look at.
    webhook_days: int = 30

    @classmethod
    def from_env(cls, **overrides: object) -> "PortalSettings":
        """Defaults, then ``FIELDAPP_PORTAL_KDF_N`` (tests lower it), ``FIELDAPP_PORTAL_LETTER_TEMPLATE`` and ``..._TRUSTED_PROXIES``, then overrides."""
        letter = os.environ.get("FIELDAPP_PORTAL_LETTER_TEMPLATE")
        proxies = tuple(p.strip() for p in os.environ.get("FIELDAPP_PORTAL_TRUSTED_PROXIES", "").split(",") if p.strip())
        base = cls(kdf=KdfParams(n=_env_int("FIELDAPP_PORTAL_KDF_N", KdfParams.n)),
                   letter_template=Path(letter) if letter else None, trusted_proxies=proxies)
        return replace(base, **overrides)  # type: ignore[arg-type]

    def to_json(self) -> str:
        """Every setting as JSON, for the worker processes of ``serve`` (``from_json`` reads it back equal)."""
        return json.dumps(asdict(self), default=str)

    @classmethod
    def from_json(cls, text: str) -> "PortalSettings":
        """The settings ``to_json`` wrote, each value back in its field's type."""
        raw = json.loads(text)
        hints = typing.get_type_hints(cls)
        return cls(**{f.name: _typed(hints[f.name], raw[f.name]) for f in fields(cls)})


def _typed(hint: Any, value: Any) -> Any:
    """A JSON value as the annotated type: Path, an optional Path, a tuple, KdfParams; anything else as JSON has it."""
    if value is None:
        return None
    if hint is Path or hint == Path | None:
        return Path(value)
    if typing.get_origin(hint) is tuple:
        return tuple(value)
    if hint is KdfParams:
        return KdfParams(**value)
    return value
