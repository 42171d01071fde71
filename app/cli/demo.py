"""``fieldapp demo``: a portal in-process with demo data, signed in, synced, and the window open.

Starts the reference portal on SQLite in the demo folder (``--data-dir``, else a per-user
demo folder kept apart from real data), seeds it with a fictional council and, once, plays the
council's day so far through real syncs (`app.cli.demo_story`): submitted visits with
photos, one returned with a comment, a draft. Then it signs in as the demo officer
(``--role lead`` for their team lead), syncs and opens the window. This is what ``make run``
runs. Officer and lead runs share the folder, so ``fieldapp demo`` and ``fieldapp demo --role
lead`` in two terminals see one demo council. ``--fresh`` starts it again from scratch.
Everything stays on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path
from typing import Any

ROLES = ("officer", "lead")


def register(subparsers: Any) -> None:
    """Add the ``demo`` subcommand to the ``fieldapp`` parser."""
    parser = subparsers.add_parser(
        "demo", help="try the app: a local demo portal, demo data, signed in",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--data-dir", type=Path,
                        help="keep the demo portal and the app's data here (default: the per-user demo folder, "
                             "shared by the officer's and the lead's demo)")
    parser.add_argument("--fresh", action="store_true", help="delete the demo folder first and seed it again")
    parser.add_argument("--role", choices=ROLES, default="officer", help="sign in as a demo officer or team lead")
    parser.add_argument("--cases", type=int, default=200, help="how many demo cases to seed (default 200)")
    parser.add_argument("--no-window", action="store_true", help="set up and sync, then exit (for checks)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Carry out ``fieldapp demo``; returns the exit status."""
    folder = args.data_dir if args.data_dir is not None else default_demo_folder()
    if args.fresh and folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True, exist_ok=True)
    return _demo(folder, args)


def default_demo_folder() -> Path:
    """The per-user demo folder (``FIELDAPP_DEMO_DIR`` redirects it), apart from the officer's real data."""
    import platformdirs

    redirected = os.environ.get("FIELDAPP_DEMO_DIR")
    return Path(redirected) if redirected else Path(platformdirs.user_data_dir("Fieldapp-demo", "Fieldapp",
                                                                               roaming=False))


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _demo(folder: Path, args: argparse.Namespace) -> int:
    # Imported here so that `fieldapp --help` stays fast and needs no portal libraries.
    try:
        from portal.seed import seed
        from portal.server import start_background
    except ImportError as error:
        _say(f"The demo needs the portal libraries ({error.name} is missing): "
             "install them with `pip install -e '.[portal]'`.")
        return 2
    from fieldapp import FieldStore
    from app.cli.demo_story import demo_lead, demo_officer, store_folder, tell_story
    from sync.engine import SyncEngine
    from sync.session import sign_in, sign_out

    portal_dir = folder / "portal"
    portal_dir.mkdir(parents=True, exist_ok=True)
    database = portal_dir / "portal.sqlite3"
    database_url = f"sqlite:///{database}"
    if not database.exists():
        _say(f"Seeding a demo portal with {args.cases} cases…")
    portal = _start_portal(start_background, database_url, portal_dir, args.role)
    try:
        # Seeding happens once per database; on a kept --data-dir it just returns the accounts.
        accounts = seed(database_url, cases=args.cases).accounts
        tell_story(folder, portal.url, accounts)
        account = demo_lead(accounts) if args.role == "lead" else demo_officer(accounts)
        _say(f"Demo folder {folder}; demo portal at {portal.url}; "
             f"signed in as {account.display_name} ({account.username}, {account.role}).")
        store = FieldStore.open(store_folder(folder, account))
        client = None
        try:
            client = sign_in(store, portal.url, account.username, account.password)
            report = SyncEngine(store, client).run()
            _say(f"First sync: {report.pulled} changes received.")
            if args.no_window:
                return 0
            from ui.app import run_window

            return run_window(store, client=client, settings=_demo_settings(portal.url))
        finally:
            if client is not None:
                # The demo portal goes away with this process: revoke its token and forget it.
                sign_out(store, client)
            store.close()
    finally:
        portal.stop()


def _start_portal(start: Any, database_url: str, portal_dir: Path, role: str) -> Any:
    """The demo portal for ``role``, on the port this role's last run used when it is free.

    The laptop takes a portal at another address for another portal, and refuses to leave unsent
    work (the demo's own draft) for it: a new port each run made every second `fieldapp demo` fail.
    """
    kept = portal_dir / f"{role}.port"
    try:
        port = int(kept.read_text(encoding="ascii"))
    except (OSError, ValueError):
        port = 0
    try:
        portal = start(database_url, portal_dir / "blobs", port=port)
    except OSError:   # that port is taken now: any free one (the sign-in then says what to do)
        portal = start(database_url, portal_dir / "blobs")
    kept.write_text(portal.url.rsplit(":", 1)[1], encoding="ascii")
    return portal


def _demo_settings(portal_url: str) -> Any:
    """The user's settings with the demo portal's address; sync every minute so it can be seen."""
    from dataclasses import replace

    from fieldapp.config import load_settings

    try:
        settings = load_settings()
    except Exception:  # a broken personal settings file must not stop the demo
        from fieldapp.config import Settings

        settings = Settings()
    # paths=None: a demo sign-in must not become the address the real app offers next time.
    return replace(settings, portal_url=portal_url, sync_interval_minutes=1, paths=None)
