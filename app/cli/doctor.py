"""``fieldapp doctor``: check this installation and print a report IT can paste into a ticket.

Checks the configuration, the data folder (writable, local disk, free space), the
database (integrity, what is still waiting to be sent), the portal (reachable, TLS
certificate trusted), the keyring and the log folder. Exit status 0 when nothing is
wrong (warnings allowed), 1 when a check failed. Read-only except for a probe file in
the data and log folders; the database is opened read-only.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import socket
import sqlite3
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import urlsplit

from fieldapp import __version__

OK, WARN, FAIL, SKIP = "ok", "warning", "FAILED", "skipped"
DB_FILE = "fieldapp.db"
LOW_SPACE = 1024**3         # warn below 1 GB: a day of photos and the database backup before a migration
CRITICAL_SPACE = 200 * 1024**2
NETWORK_FILESYSTEMS = {"nfs", "nfs4", "cifs", "smb3", "smbfs", "fuse.sshfs", "9p", "afs"}


@dataclass(frozen=True)
class Check:
    """One line of the report: what was checked, the verdict and what was found or what to do."""

    name: str
    status: str
    detail: str


def register(subparsers: Any) -> None:
    """Add the ``doctor`` subcommand to the ``fieldapp`` parser."""
    parser = subparsers.add_parser("doctor", help="check this installation and print a report for IT",
                                   description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--offline", action="store_true", help="skip the portal checks (no network)")
    parser.add_argument("--timeout", type=float, default=8.0, help="seconds to wait for the portal (default 8)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """Run every check, print the report and return the exit status."""
    out = out or sys.stdout
    checks = collect(offline=bool(getattr(args, "offline", False)), timeout=float(getattr(args, "timeout", 8.0)))
    out.write(render(checks))
    out.flush()
    return 1 if any(c.status == FAIL for c in checks) else 0


def collect(*, offline: bool = False, timeout: float = 8.0) -> list[Check]:
    """All checks in report order; a check that crashes is reported, never hides the others."""
    from fieldapp.config import default_paths

    paths = default_paths()
    checks: list[Check] = [Check("Fieldapp", OK, _about())]
    settings, config_checks = _config(paths)
    checks += config_checks
    checks += _guard("Data folder", lambda: _folder(paths.data_dir, what="data"))
    checks += _guard("Disk space", lambda: _disk_space(paths.data_dir))
    state: dict[str, Any] = {}
    checks += _guard("Database", lambda: _database(paths.data_dir, state))
    portal_url = (getattr(settings, "portal_url", None) or state.get("portal_url"))
    ca_bundle = getattr(settings, "ca_bundle", None)
    if offline:
        checks.append(Check("Portal", SKIP, "--offline given"))
    else:
        checks += _guard("Portal", lambda: _portal(portal_url, ca_bundle, timeout))
    checks += _guard("Keyring", _keyring)
    checks += _guard("Log folder", lambda: _folder(paths.log_dir, what="log"))
    return checks


def render(checks: list[Check]) -> str:
    """The report as plain text (fixed-width verdicts so it survives being pasted into a ticket)."""
    failed = sum(c.status == FAIL for c in checks)
    warned = sum(c.status == WARN for c in checks)
    lines = [f"Fieldapp doctor report, {datetime.now(timezone.utc):%Y-%m-%d %H:%M:%S} UTC", ""]
    for check in checks:
        detail = check.detail.replace("\n", "\n" + " " * 25)
        lines.append(f"[{check.status:^7}] {check.name:<14} {detail}")
    lines += ["", f"Result: {failed} failed, {warned} warning(s)." if failed or warned else "Result: everything is fine.", ""]
    return "\n".join(lines)


def _guard(name: str, check: Callable[[], list[Check]]) -> list[Check]:
    try:
        return check()
    except Exception as exc:  # the report must always be printed, whatever broke
        return [Check(name, FAIL, f"the check itself failed: {type(exc).__name__}: {exc}")]


def _about() -> str:
    frozen = "installed bundle" if getattr(sys, "frozen", False) else f"Python environment {sys.prefix}"
    return (f"version {__version__}, {frozen}\nPython {platform.python_version()} on {platform.platform()}, "
            f"user {_user()}, computer {platform.node()}")


def _user() -> str:
    try:
        import getpass

        return getpass.getuser()
    except Exception:  # no login name in some service contexts
        return "?"


def _config(paths: Any) -> tuple[Any, list[Check]]:
    from fieldapp.config import load_settings
    from fieldapp.errors import ConfigError

    site_dirs = ", ".join(str(d) for d in paths.site_config_dirs) or "(none)"
    try:
        settings = load_settings(paths)
    except ConfigError as exc:
        return None, [Check("Configuration", FAIL, f"{exc}\nsearched for fieldapp.toml in: {site_dirs}")]
    extra = paths.site_config_files()[1:]
    lines = [f"site file: {settings.site_file or 'none (searched ' + site_dirs + ')'}",
             f"user file: {settings.user_file or 'none'} (folder {paths.config_dir})"]
    if extra:
        lines.append(f"ignored (an earlier one wins): {', '.join(str(p) for p in extra)}")
    sources = dict(settings.sources)
    policy = settings.photo_policy
    values = {
        "portal_url": settings.portal_url, "ca_bundle": settings.ca_bundle,
        "sync_interval_minutes": settings.sync_interval_minutes, "log_level": settings.log_level,
        "photo_long_edge": policy.long_edge, "photo_quality": policy.quality, "photo_keep_gps": policy.keep_gps,
    }
    for key, value in values.items():
        lock = ", locked" if key in settings.locked else ""
        lines.append(f"{key} = {value!r} ({sources.get(key, 'default')}{lock})")
    status = OK
    if settings.ca_bundle and not Path(settings.ca_bundle).is_file():
        status = FAIL
        lines.append(f"ca_bundle {settings.ca_bundle} does not exist: fix the path in the site file")
    return settings, [Check("Configuration", status, "\n".join(lines))]


def _folder(folder: Path, *, what: str) -> list[Check]:
    """The folder exists (or can be made), takes a durable write, and is on a local disk."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=folder, prefix=".doctor-")
        try:
            os.write(fd, b"fieldapp doctor probe")
            os.fsync(fd)
        finally:
            os.close(fd)
            os.unlink(probe)
    except OSError as exc:
        return [Check(f"{what.capitalize()} folder", FAIL,
                      f"{folder} is not writable ({exc.strerror or exc}); the user needs write access to it")]
    remote = _network_share(folder)
    if remote:
        return [Check(f"{what.capitalize()} folder", FAIL if what == "data" else WARN,
                      f"{folder} is on a network share ({remote}); Fieldapp's data must be on the laptop's own "
                      "disk (offline use, and SQLite is not safe over network file systems)")]
    detail = str(folder)
    if what == "log":
        log_file = folder / "fieldapp.log"
        if log_file.exists():
            detail += f"\ncurrent log {log_file.name}: {log_file.stat().st_size / 1024:.0f} KB"
    return [Check(f"{what.capitalize()} folder", OK, detail + " (writable, local disk)")]


def _network_share(folder: Path) -> str | None:
    """A description when the folder lives on a network file system, else None."""
    resolved = folder.resolve()
    if os.name == "nt":
        text = str(resolved)
        if text.startswith("\\\\"):
            return "UNC path"
        import ctypes

        drive_type = ctypes.windll.kernel32.GetDriveTypeW(text[:3])  # type: ignore[attr-defined]
        return "mapped network drive" if drive_type == 4 else None  # DRIVE_REMOTE
    mounts = Path("/proc/mounts")
    if not mounts.exists():
        return None  # macOS: no cheap check; the installer never puts data on a share
    best, best_type = "", ""
    for line in mounts.read_text().splitlines():
        fields = line.split()
        if len(fields) >= 3:
            point = fields[1].replace("\\040", " ")
            if (str(resolved) + "/").startswith(point.rstrip("/") + "/") and len(point) >= len(best):
                best, best_type = point, fields[2]
    return f"{best_type} at {best}" if best_type in NETWORK_FILESYSTEMS else None


def _disk_space(folder: Path) -> list[Check]:
    target = folder if folder.exists() else folder.parent
    free = shutil.disk_usage(target).free
    text = f"{free / 1024**3:.1f} GB free on the disk holding {folder}"
    if free < CRITICAL_SPACE:
        return [Check("Disk space", FAIL, text + ": too little to save photos safely; free some space")]
    if free < LOW_SPACE:
        return [Check("Disk space", WARN, text + ": running low")]
    return [Check("Disk space", OK, text)]


def _database(data_dir: Path, state: dict[str, Any]) -> list[Check]:
    """Integrity of the SQLite file (read-only), and what is waiting to be sent."""
    path = data_dir / DB_FILE
    if not path.exists():
        return [Check("Database", OK, f"{path} not created yet (first start); nothing waiting to be sent")]
    uri = f"{path.resolve().as_uri()}?mode=ro"
    try:
        connection = sqlite3.connect(uri, uri=True, timeout=5)
        try:
            integrity = [row[0] for row in connection.execute("PRAGMA integrity_check").fetchall()]
            foreign = connection.execute("PRAGMA foreign_key_check").fetchall()
        finally:
            connection.close()
    except sqlite3.DatabaseError as exc:
        integrity, foreign = [str(exc)], []
    if integrity != ["ok"] or foreign:
        problems = "; ".join(integrity[:5]) + (f"; {len(foreign)} broken references" if foreign else "")
        return [Check("Database", FAIL, f"{path} is damaged ({problems}). Do not delete it: copy the whole data "
                                        "folder and contact support; unsent visits may be recoverable.")]
    size = path.stat().st_size
    return [Check("Database", OK, f"{path}: integrity ok, {size / 1024**2:.1f} MB"), *_pending(data_dir, state)]


def _pending(data_dir: Path, state: dict[str, Any]) -> list[Check]:
    """What is still waiting to be sent, through the store (so the answer matches the app's)."""
    from fieldapp import FieldStore
    from fieldapp.errors import StoreBusyError
    from fieldapp.types import counted

    try:
        store = FieldStore.open(data_dir)
    except StoreBusyError as exc:
        return [Check("Unsent work", WARN, f"{exc} Close Fieldapp and run doctor again to see what waits to be sent.")]
    try:
        pending = store.pending()
        drafts = store.drafts()
        problems = len(store.problems())
        sync = store.sync_state()
    finally:
        store.close()
    state["portal_url"] = sync.portal_url
    who = f"signed in as {sync.user.username}" if sync.user is not None else "nobody signed in"
    last = f"last sync {sync.last_sync_at:%Y-%m-%d %H:%M}" if sync.last_sync_at else "never synced"
    if pending.empty and not problems:
        return [Check("Unsent work", OK, f"nothing waiting to be sent, no drafts ({who}, {last}); "
                                         "safe to wipe this laptop")]
    found = []
    if drafts:
        found.append(counted(len(drafts), "draft visit") + " not submitted")
    if not pending.nothing_queued:
        photos = [f"{counted(pending.photos, 'photo')} ({pending.bytes / 1024**2:.1f} MB)"] if pending.photos else []
        found.append(f"{', '.join(pending.queued_items() + photos)} waiting to be sent")
    if problems:
        found.append(f"{counted(problems, 'problem')} under Needs attention")
    lines = [f"{'; '.join(found)} ({who}, {last}). Not safe to wipe or reinstall this laptop: ask the officer "
             "to submit or discard each draft, resolve Needs attention, and sync."]
    lines += [_draft_line(d) for d in drafts]
    return [Check("Unsent work", WARN, "\n".join(lines))]


def _draft_line(draft: Any) -> str:
    """One draft as IT reads it to the officer: the case, when it was started, what it holds."""
    kind = "returned visit, corrected but not resubmitted" if draft.state == "returned" else "draft"
    form = f"{draft.template_name}; " if draft.template_name else ""
    return (f"- {kind}: case {draft.case_reference or draft.case_id}, started {draft.started_at:%Y-%m-%d %H:%M} UTC, "
            f"last changed {draft.updated_at:%Y-%m-%d %H:%M} UTC ({form}{draft.contents})")


def _portal(portal_url: str | None, ca_bundle: str | None, timeout: float) -> list[Check]:
    if not portal_url:
        return [Check("Portal", WARN, "no portal address set (site file portal_url, or the first sign-in)")]
    from sync.transport import check_portal_url

    try:
        base = check_portal_url(portal_url)
    except Exception as exc:
        return [Check("Portal", FAIL, str(exc))]
    checks = _tls(base, ca_bundle, timeout)
    if any(c.status == FAIL for c in checks):
        return checks
    return checks + _health(base, ca_bundle, timeout)


def _tls(base: str, ca_bundle: str | None, timeout: float) -> list[Check]:
    """Connect and verify the certificate exactly as sync does (OS trust store plus ca_bundle)."""
    import ssl

    from sync.transport import make_ssl_context

    parts = urlsplit(base)
    host, port = parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((host, port), timeout=timeout) as raw:
            if parts.scheme != "https":
                return [Check("TLS", WARN, f"{base} is plain http (allowed only on this computer, for demos)")]
            with make_ssl_context(ca_bundle).wrap_socket(raw, server_hostname=host) as tls:
                cert = tls.getpeercert() or {}
                version = tls.version()
    except ssl.SSLCertVerificationError as exc:
        return [Check("TLS", FAIL, f"the certificate of {host} is not trusted ({exc.verify_message}). If the council "
                                   "inspects HTTPS through a proxy, set ca_bundle to the proxy's CA certificate (PEM).")]
    except (OSError, ssl.SSLError) as exc:
        return [Check("Portal", FAIL, f"cannot connect to {host}:{port} ({exc}); check the address, the network "
                                      "and any proxy or firewall")]
    except Exception as exc:  # e.g. a missing ca_bundle file
        return [Check("TLS", FAIL, str(exc))]
    expires = cert.get("notAfter")
    issuer = ", ".join("=".join(item) for rdn in cert.get("issuer", ()) for item in rdn)
    detail = f"{version}, certificate issued by {issuer or '?'}"
    status = OK
    if isinstance(expires, str):
        days = (datetime.fromtimestamp(ssl.cert_time_to_seconds(expires), timezone.utc) - datetime.now(timezone.utc)).days
        detail += f", expires in {days} days"
        if days < 14:
            status = WARN
    return [Check("TLS", status, detail)]


def _health(base: str, ca_bundle: str | None, timeout: float) -> list[Check]:
    from sync.client import PortalClient
    from sync.retry import RetryPolicy

    client = PortalClient(base, ca_bundle=ca_bundle, retry=RetryPolicy(attempts=1), timeout=(timeout, timeout))
    try:
        health = client.health()
    except Exception as exc:
        return [Check("Portal", FAIL, f"{base} did not answer its health check: {exc}")]
    status = OK if health.status == "ok" and health.database == "ok" else FAIL
    return [Check("Portal", status, f"{base}: status {health.status}, database {health.database}")]


def _keyring() -> list[Check]:
    import keyring

    from sync.credentials import keyring_available

    backend = keyring.get_keyring()
    name = f"{type(backend).__module__}.{type(backend).__name__}"
    if keyring_available():
        return [Check("Keyring", OK, f"{name} (the sign-in token is kept there)")]
    return [Check("Keyring", WARN, f"no secure keyring ({name}): the sign-in token is kept in memory only, so "
                                   "officers sign in at every start. On Linux install and unlock a Secret Service "
                                   "(GNOME Keyring or KWallet).")]
