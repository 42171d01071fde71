"""``fieldapp sync``: a headless sync for scripts and IT.

    echo "$PASSWORD" | fieldapp sync --data-dir DIR --portal URL --username U --password-stdin

Prints progress lines and a summary. Exit status:
0 everything queued was accepted (outbox empty, no new problems); 1 the sync ran but
something is left (conflicts, rejections, photos not uploaded, items still queued);
2 bad arguments or settings; 3 sign-in refused; 4 portal unreachable or failing;
5 another sync runs for this data folder; 130 cancelled (Ctrl+C).
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from fieldapp.store import FieldStore

EXIT_OK, EXIT_INCOMPLETE, EXIT_USAGE, EXIT_AUTH, EXIT_UNREACHABLE, EXIT_BUSY, EXIT_CANCELLED = 0, 1, 2, 3, 4, 5, 130


def register(subparsers: Any) -> None:
    """Add the ``sync`` subcommand to the ``fieldapp`` parser."""
    parser = subparsers.add_parser(
        "sync", help="sync a data folder with the portal (headless)",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_arguments(parser)
    parser.set_defaults(func=run)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", type=Path,
                        help="the field app's data folder (default: fieldapp --data-dir, then the usual per-user folder)")
    parser.add_argument("--portal", help="portal base URL (default: the settings, then the last one used)")
    parser.add_argument("--username", help="sign in as this user (with --password-stdin)")
    parser.add_argument("--password-stdin", action="store_true", help="read the password from the first line of stdin")
    parser.add_argument("--ca-bundle", help="extra CA certificates (PEM) to trust besides the OS store")
    parser.add_argument("--quiet", action="store_true", help="print only the summary")


def run(args: argparse.Namespace, *, stdin: TextIO | None = None, out: TextIO | None = None,
        err: TextIO | None = None) -> int:
    """Carry out ``fieldapp sync``; returns the exit status."""
    from app.cli.quick_imports import imports_without_gc
    from sync import credentials

    # The keyring's slow search for its backend (files, subprocesses, D-Bus) overlaps the imports below.
    credentials.find_keyring_early()
    # Imported here so that `fieldapp --help` stays fast and the core never imports sync at module level.
    # The store starts light (`fieldapp.lazy_store`): SQLAlchemy is loaded only when the sync has work for it.
    with imports_without_gc("sync.engine"):
        from fieldapp.errors import StoreError
        from fieldapp.lazy_store import LazyStore
        from sync import session
        from sync.engine import SyncEngine
        from sync.errors import AuthRequired, PortalError, PortalUnreachable, SettingsError, SyncBusy, SyncError

    stdin = stdin or sys.stdin
    out = out or sys.stdout
    err = err or sys.stderr

    def say(text: str) -> None:
        print(text, file=out, flush=True)

    def fail(text: str, status: int) -> int:
        print(f"error: {text}", file=err, flush=True)
        return status

    if args.username and not args.password_stdin:
        return fail("--username needs --password-stdin (the password is never taken on the command line).", EXIT_USAGE)
    password = ""
    if args.password_stdin:
        password = stdin.readline().rstrip("\r\n")
        if not password:
            return fail("--password-stdin was given but stdin held no password.", EXIT_USAGE)
    settings = _settings()
    data_dir = args.data_dir or _default_data_dir()
    ca_bundle = args.ca_bundle or getattr(settings, "ca_bundle", None)
    cancel = threading.Event()
    previous = _on_interrupt(cancel)
    try:
        store = LazyStore.open(data_dir, open_full=_open_field_store)
    except Exception as exc:  # the store's own errors carry the message to show
        return fail(f"cannot open the data folder {data_dir}: {exc}", EXIT_USAGE)
    try:
        portal = args.portal or getattr(settings, "portal_url", None) or store.sync_state().portal_url
        if args.username:
            if not portal:
                return fail("no portal address: pass --portal URL.", EXIT_USAGE)
            client = session.sign_in(store, portal, args.username, password, ca_bundle=ca_bundle)
        else:
            restored = session.restore(store, ca_bundle=ca_bundle)
            if restored is None:
                return fail("not signed in: pass --username U --password-stdin.", EXIT_AUTH)
            client = restored
        with client:
            report = SyncEngine(store, client).run(progress=None if args.quiet else _printer(say), cancel=cancel)
        requests_made = client.request_count
        drafts = store.draft_cases()   # from the file, as the rest of a no-op sync: no full store for them
    except SettingsError as exc:
        return fail(str(exc), EXIT_USAGE)
    except AuthRequired as exc:
        return fail(str(exc), EXIT_AUTH)
    except SyncBusy as exc:
        return fail(str(exc), EXIT_BUSY)
    except PortalUnreachable as exc:
        return fail(str(exc), EXIT_UNREACHABLE)
    except PortalError as exc:
        refused = exc.code in ("invalid_credentials", "too_many_attempts")
        return fail(exc.message, EXIT_AUTH if refused else EXIT_UNREACHABLE)
    except SyncError as exc:
        return fail(str(exc), EXIT_UNREACHABLE)
    except StoreError as exc:  # the full store, opened once the sync had work for it
        return fail(f"cannot open the data folder {data_dir}: {exc}", EXIT_USAGE)
    finally:
        store.close()
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
    say(report.message)
    if not args.quiet:
        say(f"{requests_made} HTTP requests to the portal.")
    for failure in report.blob_failures:
        say(f"photo not uploaded: {failure}")
    if drafts:
        # A sync sends only submitted work: say so, or "everything was accepted" reads as "nothing left".
        say(f"{len(drafts)} draft visit(s) on this laptop are not submitted, so were not sent "
            f"(cases {', '.join(sorted(set(drafts)))}): "
            "submit or discard them in the app.")
    if report.cancelled:
        return EXIT_CANCELLED
    if not report.ok:
        return fail("not everything was accepted: see the problems in the app, or sync again later.", EXIT_INCOMPLETE)
    return EXIT_OK


def _open_field_store(data_dir: Path) -> "FieldStore":
    """`FieldStore.open`, its libraries imported as the command's others are (`app.cli.quick_imports`)."""
    from app.cli.quick_imports import imports_without_gc

    with imports_without_gc("fieldapp.store"):
        from fieldapp.store import FieldStore
    return FieldStore.open(data_dir)


def _printer(say: Any) -> Any:
    def show(progress: Any) -> None:
        parts = [f"[{progress.phase}]"]
        if progress.total or progress.done:
            parts.append(f"{progress.done}/{progress.total}" if progress.total else f"{progress.done}")
        if progress.bytes_total:
            parts.append(f"{progress.bytes_done / 1e6:.1f}/{progress.bytes_total / 1e6:.1f} MB")
        if progress.message:
            parts.append(progress.message)
        say(" ".join(parts))
    return show


def _settings() -> Any:
    """The field app's settings, or None where they cannot be loaded (the CLI flags still work)."""
    try:
        from fieldapp.config import load_settings
        return load_settings()
    except Exception:  # noqa: BLE001 - a headless sync must not fail on an unrelated settings problem
        return None


def _default_data_dir() -> Path:
    """The folder the desktop app uses (``fieldapp --data-dir`` sets FIELDAPP_DATA_DIR for every part)."""
    from fieldapp.config import default_paths
    return default_paths().data_dir


def _on_interrupt(cancel: threading.Event) -> Any:
    """Ctrl+C cancels cleanly (between chunks and batches) instead of killing mid-write."""
    def handler(signum: int, frame: Any) -> None:
        cancel.set()
    try:
        return signal.signal(signal.SIGINT, handler)
    except ValueError:  # not the main thread (tests): leave signals alone
        return None


def main(argv: list[str] | None = None) -> int:
    """Stand-alone entry (``python -m app.cli.sync_cmd``), same options as ``fieldapp sync``."""
    parser = argparse.ArgumentParser(prog="fieldapp sync", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
