"""The ``fieldapp`` command: opens the app, or runs a subcommand (``demo``, ``sync``, ``doctor``).

Each subcommand lives in its own module listed in ``SUBCOMMANDS`` and exposes
``register(subparsers) -> None``, which adds its parser and sets ``func`` to a callable
``(args: argparse.Namespace) -> int``. A module not written yet is skipped. Everything
heavy (Qt, SQLAlchemy, requests) is imported only by the code that runs, because start-up
time is what an officer notices first.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from fieldapp import __version__

SUBCOMMANDS = ("app.cli.demo", "app.cli.sync_cmd", "app.cli.doctor")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every available subcommand registered."""
    parser = argparse.ArgumentParser(
        prog="fieldapp", description="Fieldapp: record housing inspections offline and sync them with the portal.")
    parser.add_argument("--version", action="version", version=f"fieldapp {__version__}")
    parser.add_argument("--data-dir", dest="global_data_dir", type=Path, metavar="DIR",
                        help="keep the data (and logs) in DIR instead of the usual per-user folder")
    parser.add_argument("--smoke-test", action="store_true",
                        help="check this installation: store, migrations, photo import and the window, then exit")
    parser.add_argument("--screenshot", type=Path, metavar="PNG",
                        help="with --smoke-test: where to save the window's screenshot")
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND")
    for module_name in SUBCOMMANDS:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:  # a real missing dependency inside the module: report it
                raise
            continue
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``fieldapp`` command; returns the exit status."""
    args = build_parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    if args.global_data_dir is not None:
        # Through the environment so every part (settings, store, subcommands) sees the same folder.
        os.environ["FIELDAPP_DATA_DIR"] = str(args.global_data_dir.expanduser().resolve())
    from fieldapp.errors import FieldappError
    from fieldapp.private import use_private_umask

    # Everything this process writes (database, photos, logs, caches) is the officer's alone.
    use_private_umask()
    _start_logging()
    try:
        if args.smoke_test:
            from app.cli.smoke import run_smoke_test

            return run_smoke_test(args.screenshot)
        func = getattr(args, "func", None)
        if func is not None:
            return int(func(args) or 0)
        from ui.app import run_app

        return int(run_app(sys.argv[:1]) or 0)
    except FieldappError as exc:
        # Bad settings, a locked data folder...: say what to do, no traceback.
        print(f"fieldapp: {exc}", file=sys.stderr)
        return 2


def _start_logging() -> None:
    """Log to the per-user rotating file at the configured level; never stops a command from running."""
    from fieldapp.config import default_paths, load_settings
    from fieldapp.errors import ConfigError
    from fieldapp.logs import setup_logging

    paths = default_paths()
    try:
        level = load_settings(paths).log_level
    except ConfigError:
        level = "INFO"  # the command itself reports the broken file (doctor explains it)
    try:
        setup_logging(paths.log_dir, level)
    except OSError as exc:
        print(f"fieldapp: cannot write logs to {paths.log_dir} ({exc.strerror or exc}); continuing without", file=sys.stderr)
