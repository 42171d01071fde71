"""The case list's search, asked of the core (`fieldapp.search`: one rule for the window and everyone).

The window holds every case's row in the core's list order (loaded once); each
keystroke asks the core only which cases match (`FieldStore.case_ids`, a few
milliseconds at 20,000 cases) and picks those rows out of the list, both on the
pool, beside the database thread, so a search never queues behind a save or a photo
being attached and the GUI thread only shows the answer. At most one search runs; while
it does, only the newest query waits, and an answer to a query that has since been
replaced is dropped, so a slow answer to an old keystroke never overwrites a newer one.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from fieldapp.search import CaseFilter
from fieldapp.types import CaseSummary
from ui.tasks import Op, TaskFailure

if TYPE_CHECKING:
    from fieldapp.store import FieldStore


@dataclass(frozen=True)
class CaseQuery:
    """What the officer asked for: search words and filters (empty = any)."""

    text: str = ""
    statuses: frozenset[str] = field(default_factory=frozenset)
    case_types: frozenset[str] = field(default_factory=frozenset)
    priorities: frozenset[str] = field(default_factory=frozenset)
    overdue_only: bool = False


def find_case_ids(store: FieldStore, query: CaseQuery) -> set[str]:
    """The core's answer to a query of the window (runs on a worker thread)."""
    return store.case_ids(CaseFilter(query.text, status=sorted(query.statuses) or None,
                                     case_type=sorted(query.case_types) or None,
                                     priority=sorted(query.priorities) or None,
                                     overdue=True if query.overdue_only else None))


def in_list_order(rows: Sequence[CaseSummary], ids: Collection[str]) -> list[CaseSummary]:
    """The rows (already in the core's list order) whose ids the search found."""
    return [row for row in rows if row.id in ids]


def find_rows(store: FieldStore, query: CaseQuery, rows: Sequence[CaseSummary]) -> list[CaseSummary]:
    """The rows of ``rows`` (an immutable snapshot, in list order) that the core finds for ``query``."""
    return in_list_order(rows, find_case_ids(store, query))


class CaseSearchRunner(QObject):
    """Runs the core's case search off the GUI thread and delivers only the newest query's answer."""

    sig_found = Signal(object, object)  # CaseQuery, list[CaseSummary] found, in list order
    sig_failed = Signal(object)         # TaskFailure

    def __init__(self, store: FieldStore, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._store = store
        self._newest = 0                              # number of the newest query asked
        self._running = False
        self._waiting: tuple[int, CaseQuery, tuple[CaseSummary, ...]] | None = None

    def request(self, query: CaseQuery, rows: tuple[CaseSummary, ...]) -> None:
        """Find the rows of ``rows`` (every case, in list order) matching ``query``; supersedes earlier requests."""
        self._newest += 1
        if self._running:
            self._waiting = (self._newest, query, rows)  # replaces any older waiting query
            return
        self._start(self._newest, query, rows)

    def _start(self, number: int, query: CaseQuery, rows: tuple[CaseSummary, ...]) -> None:
        self._running = True
        store = self._store
        Op(self, lambda: find_rows(store, query, rows), network=True, what="search the cases") \
            .success(lambda found: self._on_found(number, query, found)) \
            .failure(lambda failure: self._on_failed(number, failure)) \
            .finally_(self._on_done).run()

    def _on_found(self, number: int, query: CaseQuery, found: list[CaseSummary]) -> None:
        if number == self._newest:
            self.sig_found.emit(query, found)

    def _on_failed(self, number: int, failure: TaskFailure) -> None:
        if number == self._newest:
            self.sig_failed.emit(failure)

    def _on_done(self) -> None:
        self._running = False
        if self._waiting is not None:
            number, query, rows = self._waiting
            self._waiting = None
            self._start(number, query, rows)
