"""In-memory search and filtering of the case list, fast at tens of thousands of rows.

The whole list is loaded once from the store (on the database thread); each keystroke
then filters that list here, which takes a few milliseconds for 20,000 cases.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone

from fieldapp.types import CaseRow

_PRIORITY_ORDER = {"emergency": 0, "urgent": 1, "routine": 2}
_FAR_FUTURE = datetime.max.replace(tzinfo=timezone.utc)


@dataclass(frozen=True)
class CaseQuery:
    """What the officer asked for: search words and filters (empty = any)."""

    text: str = ""
    statuses: frozenset[str] = field(default_factory=frozenset)
    case_types: frozenset[str] = field(default_factory=frozenset)
    priorities: frozenset[str] = field(default_factory=frozenset)
    overdue_only: bool = False


def _haystack(row: CaseRow) -> str:
    return " ".join((row.reference, row.summary, row.address, row.postcode, row.resident_names,
                     row.postcode.replace(" ", ""))).casefold()


def due_key(row: CaseRow) -> tuple[datetime, int, str]:
    """Sort key: soonest due first, no due date last, then priority, then reference."""
    due = row.due_at if row.due_at is None or row.due_at.tzinfo else row.due_at.replace(tzinfo=timezone.utc)
    return (due or _FAR_FUTURE, _PRIORITY_ORDER.get(row.priority, 9), row.reference)


class CaseIndex:
    """All cases in due-date order, with a lowercase text per case for searching.

    Typing usually extends the search, so a query that extends the previous one (same
    filters, text continuing the old text) only looks through the previous result.
    """

    def __init__(self, rows: Sequence[CaseRow] = ()) -> None:
        self._rows: list[CaseRow] = sorted(rows, key=due_key)
        self._texts: list[str] = [_haystack(r) for r in self._rows]
        self._last: tuple[CaseQuery, list[int]] | None = None

    def __len__(self) -> int:
        return len(self._rows)

    def _candidates(self, query: CaseQuery) -> list[int] | range:
        if self._last is not None:
            last, found = self._last
            same_filters = (last.statuses, last.case_types, last.priorities, last.overdue_only) == (
                query.statuses, query.case_types, query.priorities, query.overdue_only)
            if same_filters and query.text.casefold().startswith(last.text.casefold()):
                return found
        return range(len(self._rows))

    def filter(self, query: CaseQuery) -> list[CaseRow]:
        """The rows matching every word of the search and every filter, still in due order."""
        rows, texts = self._rows, self._texts
        found = self._candidates(query)
        # One pass per word or filter with a comprehension: a few ms for 20,000 rows.
        for word in query.text.casefold().split():
            found = [i for i in found if word in texts[i]]
        if query.statuses:
            found = [i for i in found if rows[i].status in query.statuses]
        if query.case_types:
            found = [i for i in found if rows[i].case_type in query.case_types]
        if query.priorities:
            found = [i for i in found if rows[i].priority in query.priorities]
        if query.overdue_only:
            found = [i for i in found if rows[i].overdue]
        found = list(found)
        self._last = (query, found)
        return [rows[i] for i in found]
