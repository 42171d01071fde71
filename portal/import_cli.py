"""``fieldapp-portal import-cases FILE``: IT imports the CRM's cases straight into the portal database.

The file is JSON (a list of cases) or CSV (a header of field names, one case a line),
told by its extension, else by its first character. Rows go in batches, each its own
transaction, through the same import as ``POST /admin/cases/import``
(portal/services/case_import.py); a progress bar shows the rows done, and the end
gives the counts and every rejected row with what to correct. The exit status is 0
when no row was rejected, 1 when some were, 2 when the file cannot be read at all.
"""

from __future__ import annotations

import argparse
import getpass
from pathlib import Path

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from portal.core import migrate
from portal.core.db import Database
from portal.services.audit import Where
from portal.services.case_import import BATCH_ROWS, CaseImport, RowResult, Totals
from portal.services.case_rows import ImportFileError, Row, read_file

_KINDS = {".json": "json", ".csv": "csv"}


def _read(path: Path) -> list[Row]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ImportFileError(f"Cannot read {path}: {exc.strerror or exc}.") from None
    return read_file(data, _KINDS.get(path.suffix.lower()))


def _rejected_line(result: RowResult) -> str:
    return f"  row {result.row}: {(result.error or {}).get('message', 'rejected')}"


def run(args: argparse.Namespace) -> int:
    """Import the file; the exit status (see the module's docstring)."""
    out, err = Console(highlight=False), Console(stderr=True, highlight=False)
    path = Path(args.file)
    try:
        rows = _read(path)
    except ImportFileError as exc:
        err.print(f"Nothing imported: {exc.message}", markup=False)
        return 2
    db = Database(args.database_url)
    totals = Totals()
    try:
        migrate.upgrade(db.engine)
        # Who imported is the account on this machine (there is no portal sign-in here).
        where = Where(None, f"cli:{getpass.getuser()}"[:100], None)
        columns = (TextColumn("Importing"), BarColumn(), MofNCompleteColumn(), TextColumn("rows"), TimeElapsedColumn(), TimeRemainingColumn())
        with Progress(*columns, console=err, disable=args.quiet) as progress:
            task = progress.add_task("import", total=len(rows))
            for results in CaseImport(db, where, "cli", args.batch_size).run(rows):
                totals.add(results)
                progress.advance(task, len(results))
    finally:
        db.dispose()
    counts = totals.counts
    out.print(f"Imported {path.name}: {counts['created']} created, {counts['updated']} updated, "
              f"{counts['unchanged']} unchanged, {counts['rejected']} rejected.", markup=False)
    if totals.rejected:
        out.print("Rejected rows (row 1 is the first case after the header; correct them and import the file again):", markup=False)
        for result in totals.rejected:
            out.print(_rejected_line(result), markup=False, soft_wrap=True)
        return 1
    return 0


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:  # type: ignore[type-arg]
    """The ``import-cases`` command (``portal.cli`` adds its ``--database-url``)."""
    command: argparse.ArgumentParser = sub.add_parser("import-cases", help="create or update cases from the CRM's JSON or CSV file, by external_ref")
    command.add_argument("file", help="a .json list of cases or a .csv with a header of field names")
    command.add_argument("--batch-size", type=int, default=BATCH_ROWS, help=f"rows per transaction (default {BATCH_ROWS})")
    command.add_argument("--quiet", action="store_true", help="no progress bar (the summary still prints)")
    command.set_defaults(func=run)
    return command
