"""``fieldapp-portal``: serve, housekeeping, seed a demo council, add a user, import the CRM's cases."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from portal import import_cli
from portal.core import migrate
from portal.core.config import PortalSettings
from portal.core.db import Database
from portal.errors import ApiError
from portal.models import TeamRow
from portal.services import records
from sync.protocol import AdminUserCreate

log = logging.getLogger(__name__)
#: Where commands find the database when ``--database-url`` is not given. A command line is
#: readable by every local user (``ps``, ``/proc/PID/cmdline``) and kept in shell history;
#: a process's environment only by its own user and root.
DATABASE_URL_ENV = "FIELDAPP_PORTAL_DATABASE_URL"
_KEEP_PASSWORD_OUT = (f"set {DATABASE_URL_ENV} instead, or leave the password out of the URL and put it in a "
                      "pgpass file (~/.pgpass or the file PGPASSFILE names, mode 0600: HOST:PORT:DATABASE:USER:PASSWORD)")


def _serve(args: argparse.Namespace) -> int:
    from portal.server import serve
    from portal.workers import default_workers

    overrides = {"chunk_bytes": args.chunk_size} if args.chunk_size is not None else {}
    settings = PortalSettings.from_env(database_url=args.database_url, blob_dir=Path(args.blob_dir), **overrides)
    if settings.chunk_bytes > settings.max_blob_bytes:
        print(f"--chunk-size may be at most the largest photo the portal takes ({settings.max_blob_bytes} bytes).", file=sys.stderr)
        return 2
    serve(settings, args.host, args.port, access_log=args.access_log, workers=args.workers or default_workers())
    return 0


def _seed(args: argparse.Namespace) -> int:
    from portal.seed import format_accounts, seed

    result = seed(args.database_url, args.cases, seed=args.seed)
    print(f"Seeded Harrowmere Borough Council (fictional) with {result.cases} cases. Demo accounts:")
    print(format_accounts(result))
    return 0


def _add_user(args: argparse.Namespace) -> int:
    if not args.password_stdin:
        print("Give the password on standard input with --password-stdin (never on the command line).", file=sys.stderr)
        return 2
    password = sys.stdin.readline().rstrip("\r\n")
    settings = PortalSettings.from_env(database_url=args.database_url)
    db = Database(args.database_url)
    try:
        migrate.upgrade(db.engine)
        with db.write() as session:
            team_id = None
            if args.team:
                team = session.scalar(select(TeamRow).where(TeamRow.name == args.team))
                if team is None:
                    from sync.protocol import TeamData

                    team = records.create_team(session, TeamData(name=args.team))
                    session.flush()
                team_id = team.id
            body = AdminUserCreate(
                username=args.username, display_name=args.display_name or args.username,
                role=args.role, team_id=team_id, password=password,
            )
            user = records.create_user(session, body, settings.kdf)
            print(f"Created {user.role} {user.username} (id {user.id}).")
    except ApiError as exc:
        print(f"{exc.message} {exc.details or ''}".strip(), file=sys.stderr)
        return 1
    except ValueError as exc:
        print(f"Not created: {exc}", file=sys.stderr)
        return 1
    finally:
        db.dispose()
    return 0


def _housekeeping(args: argparse.Namespace) -> int:
    from portal.blobstore import FileBlobStore
    from portal.services import housekeeping

    settings = PortalSettings.from_env(database_url=args.database_url, blob_dir=Path(args.blob_dir))
    db = Database(args.database_url)
    try:
        migrate.upgrade(db.engine)
        report = housekeeping.run(db, FileBlobStore(settings.blob_dir), settings)
    finally:
        db.dispose()
    print(f"Housekeeping: {report.summary()}.")
    return 0


_UNITS = {"": 1, "k": 1000, "kb": 1000, "kib": 1024, "m": 1000**2, "mb": 1000**2, "mib": 1024**2}
#: A blob's first chunk must cover the proof of possession (``portal.services.blobs.PROOF_BYTES``).
MIN_CHUNK_BYTES = 64 * 1024


def byte_size(text: str) -> int:
    """A size on the command line: ``4194304``, ``4MiB``, ``512KiB``, ``1MB``."""
    value = text.strip()
    digits = value[:len(value) - len(value.lstrip("0123456789"))]
    unit = value[len(digits):].strip().lower()
    if not digits or unit not in _UNITS:
        raise argparse.ArgumentTypeError(f"{text!r} is not a size; write bytes, or a number with KiB or MiB (e.g. 4MiB)")
    size = int(digits) * _UNITS[unit]
    if size < MIN_CHUNK_BYTES:
        raise argparse.ArgumentTypeError(f"{text!r} is too small: chunks are at least {MIN_CHUNK_BYTES} bytes (64KiB)")
    return size


def _positive(text: str) -> int:
    """A whole number of at least 1 (argparse type)."""
    if not text.strip().isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of at least 1")
    return int(text)


def database_option(command: argparse.ArgumentParser, default: str | None = None) -> None:
    """``--database-url URL`` of a command: else ``$FIELDAPP_PORTAL_DATABASE_URL``, else ``default`` (None: one is required).

    ``main`` resolves it (`resolve_database_url`): argparse cannot tell a default from a given value.
    """
    fallback = f", else {default}" if default else " (one of the two is required)"
    command.add_argument("--database-url", metavar="URL", help=(
        f"the database, e.g. postgresql://portal@db.example:5432/portal; if not given, ${DATABASE_URL_ENV}{fallback}. "
        f"Never put a password here (every local user can read a command line): {_KEEP_PASSWORD_OUT}"))
    command.set_defaults(database_default=default, database_command=command)


def resolve_database_url(args: argparse.Namespace) -> None:
    """Set ``args.database_url``: the option, else the variable, else the default; warn once of a password in argv."""
    command: argparse.ArgumentParser = args.database_command
    given = args.database_url
    url = given or os.environ.get(DATABASE_URL_ENV) or args.database_default
    if not url:
        command.error(f"no database: set {DATABASE_URL_ENV}=URL or give --database-url URL")
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        # Never echo the text: it may hold a password.
        command.error(f"the database URL (--database-url or {DATABASE_URL_ENV}) cannot be read; "
                      "write postgresql://USER@HOST:PORT/DATABASE or sqlite:///FILE")
    if given and (parsed.password or "password" in parsed.query):
        log.warning("The database URL on the command line holds a password, which every user of this machine "
                    "can read (ps, /proc/PID/cmdline) and shell history keeps: %s.", _KEEP_PASSWORD_OUT)
    args.database_url = url


def build_parser() -> argparse.ArgumentParser:
    """The command line."""
    parser = argparse.ArgumentParser(prog="fieldapp-portal", description="The Fieldapp reference portal.")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve the portal (migrates the database first)")
    database_option(serve, PortalSettings.database_url)
    serve.add_argument("--blob-dir", default="fieldapp-portal-blobs")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--access-log", action="store_true", help="log every request (off by default)")
    serve.add_argument("--chunk-size", type=byte_size, metavar="SIZE",
                       help="the largest photo upload request (announced as chunk_bytes in /sync/meta); "
                            f"default {PortalSettings.chunk_bytes // 1024 // 1024}MiB: one request per photo")
    serve.add_argument("--workers", type=_positive, metavar="N",
                       help="processes serving requests; default one per CPU, at most 4")
    serve.set_defaults(func=_serve)
    tidy = sub.add_parser("housekeeping", help="remove stale uploads, unreferenced photos, old tombstones (for cron)")
    database_option(tidy, PortalSettings.database_url)
    tidy.add_argument("--blob-dir", default="fieldapp-portal-blobs")
    tidy.set_defaults(func=_housekeeping)
    seed = sub.add_parser("seed", help="create a fictional council with demo accounts")
    database_option(seed)
    seed.add_argument("--cases", type=int, default=200)
    seed.add_argument("--seed", type=int, default=1)
    seed.set_defaults(func=_seed)
    add = sub.add_parser("add-user", help="create an account (e.g. the first admin)")
    database_option(add)
    add.add_argument("--username", required=True)
    add.add_argument("--role", required=True, choices=["officer", "lead", "admin"])
    add.add_argument("--team", help="team name (created if new); required for officers and leads")
    add.add_argument("--display-name")
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    add.set_defaults(func=_add_user)
    database_option(import_cli.add_parser(sub), PortalSettings.database_url)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``fieldapp-portal``."""
    args = build_parser().parse_args(argv)
    if "database_url" in vars(args):
        resolve_database_url(args)
    return int(args.func(args))


if __name__ == "__main__":
    raise SystemExit(main())
