"""The one case search, and the case list it orders: SQLite FTS5 (trigram) over each case's list line.

The rule, for the case list window and every other caller alike: every word typed
must appear in the case's reference, address, postcode (with or without its space),
resident names or summary, as a whole word or a part of one, in any order and any of
those fields, ignoring case and accents. So "ill lane" finds Mill Lane, "se14ab" and
"SE1 4AB" find SE1 4AB, "zoe" finds Zoë, "o'neil" finds O’Neill. Words are split
at spaces; punctuation around a word (a comma after a postcode) is not part of it.

``case_index`` holds one line per case: every listed field, the folded search text
and the list position from `fieldapp.domain.case_list_position`, rebuilt here for the
cases a pulled page touched inside that page's transaction, and its search text is
indexed by the trigram FTS5 table ``case_fts`` (migration 0006). Words of three
characters or more are found through the trigram index; a shorter word (a trigram
index cannot hold it) by a scan of the folded text, a few milliseconds at 20,000
cases. What a person types is never FTS5 syntax: every word is quoted. New lines get
their FTS rows here, in one statement (migration 0010); deletes and updates by triggers.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from fieldapp.bulk_rows import sqlite_connection
from fieldapp.clock import as_utc, utc_now
from fieldapp.domain import case_list_position, is_case_overdue
from fieldapp.drafts import UNSENT_WORK_SQL
from fieldapp.errors import ValidationError
from fieldapp.types import CaseSummary

# The fields of a case's list line, from the case, its property and its residents.
_LINE_SOURCE = """
SELECT c.id, c.reference, c.case_type, c.status, c.priority, c.summary, c.opened_at, c.due_at, c.deleted,
       coalesce((SELECT group_concat(value, ', ') FROM json_each(p.address_lines)) || ', ' || p.town, ''),
       coalesce(p.postcode, ''),
       coalesce((SELECT group_concat(full_name, ', ') FROM (
                   SELECT r.full_name FROM case_residents cr JOIN residents r ON r.id = cr.resident_id
                   WHERE cr.case_id = c.id AND r.deleted = 0 ORDER BY cr.position)), ''),
       EXISTS (SELECT 1 FROM case_residents cr JOIN residents r ON r.id = cr.resident_id
               WHERE cr.case_id = c.id AND r.deleted = 0 AND json_array_length(r.warnings) > 0)
FROM cases c LEFT JOIN properties p ON p.id = c.property_id
"""
_LINE_INSERT = """
INSERT INTO case_index (case_id, reference, case_type, status, priority, summary, opened_at, due_at, deleted,
                        address, postcode, resident_names, has_warnings, due_sort, priority_rank, search_text)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
"""
_SOME = "(SELECT value FROM json_each(:ids))"

SORTS = ("due", "priority", "opened", "reference")  # the default first
#: The trigram index finds words of at least this many characters.
TRIGRAM = 3
_MISSING = object()
# Typed and printed punctuation that people do not tell apart (curly quotes from a
# pasted letter, dashes from a word processor).
_SAME_AS_TYPED = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201b": "'", "\u2032": "'", "\u201c": '"',
                                "\u201d": '"', "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-",
                                "\u2014": "-", "\u2212": "-"})
_EDGE_PUNCTUATION = "".join(chr(c) for c in range(128) if not chr(c).isalnum() and not chr(c).isspace())


def fold(value: str) -> str:
    """Text as the search compares it: no case, no accents, one kind of apostrophe and dash."""
    if value.isascii():
        # Nothing to decompose or strip, and no curly quote or dash to replace: the rule below
        # comes to lower case, without a Python step per character (20,000 cases a first sync).
        return value.lower()
    decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFKD", value).casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).translate(_SAME_AS_TYPED)


def search_words(typed: str) -> list[str]:
    """The words of what a person typed, folded, without punctuation around them; none means "everything"."""
    words: list[str] = []
    for part in fold(typed).split():
        word = part.strip(_EDGE_PUNCTUATION)
        if word and word not in words:
            words.append(word)
    return words


def search_text(reference: str, address: str, postcode: str, resident_names: str, summary: str) -> str:
    """The folded text a case is found by; fields on their own lines, so no word spans two."""
    return fold("\n".join((reference, address, postcode, postcode.replace(" ", ""), resident_names, summary)))


def _stored(moment: datetime) -> str:
    # The text form SQLAlchemy keeps for UTCDateTime columns, so SQL compares like with like.
    return as_utc(moment).strftime("%Y-%m-%d %H:%M:%S.%f")


def _loaded(text_value: str | None) -> datetime | None:
    return None if text_value is None else datetime.fromisoformat(text_value).replace(tzinfo=timezone.utc)


def _insert_lines(session: Session, where: str, params: dict[str, Any]) -> None:
    """Build the list lines of the selected cases: search text and list position computed here, once."""
    lines = []
    for (case_id, reference, case_type, status, priority, summary, opened_at, due_at, deleted,
         address, postcode, names, warnings) in session.execute(text(_LINE_SOURCE + where), params):
        due, rank, _ = case_list_position(_loaded(due_at), priority, reference, status)
        lines.append((case_id, reference, case_type, status, priority, summary, opened_at, due_at, deleted,
                      address, postcode, names, warnings, _stored(due), rank,
                      search_text(reference, address, postcode, names, summary)))
    if not lines:
        return
    connection = sqlite_connection(session)
    first = connection.execute("SELECT coalesce(max(id), 0) FROM case_index").fetchone()[0]
    connection.executemany(_LINE_INSERT, lines)
    # The new lines' FTS rows in one statement (migration 0010: no per-row trigger). Line ids only
    # grow within this transaction (the write lock is held), so the new lines are those above ``first``.
    connection.execute("INSERT INTO case_fts(rowid, search_text) SELECT id, search_text FROM case_index WHERE id > ?",
                       (first,))


def reindex_cases(session: Session, case_ids: Iterable[str]) -> None:
    """Rebuild the list lines (and so the FTS rows) of these cases."""
    ids = json.dumps(sorted(set(case_ids)))
    if ids == "[]":
        return
    session.execute(text(f"DELETE FROM case_index WHERE case_id IN {_SOME}"), {"ids": ids})
    _insert_lines(session, f"WHERE c.id IN {_SOME}", {"ids": ids})


def reindex_all(session: Session) -> None:
    """Rebuild every list line (after a reset)."""
    session.execute(text("DELETE FROM case_index"))
    _insert_lines(session, "", {})


def index_is_complete(session: Session) -> bool:
    """True when every case has its list line with its search text (migration 0006 leaves that to the app)."""
    # A built search text is never empty: it holds the line breaks between the fields at least.
    if session.execute(text("SELECT EXISTS (SELECT 1 FROM case_index WHERE search_text = '')")).scalar_one():
        return False
    cases = session.execute(text("SELECT count(*) FROM cases")).scalar_one()
    return bool(cases == session.execute(text("SELECT count(*) FROM case_index")).scalar_one())


def cases_touched(session: Session, case_ids: set[str], property_ids: set[str], resident_ids: set[str]) -> set[str]:
    """The cases whose list line depends on any of these records."""
    touched = set(case_ids)
    if property_ids:
        touched.update(session.scalars(
            text(f"SELECT id FROM cases WHERE property_id IN {_SOME}"), {"ids": json.dumps(sorted(property_ids))}))
    if resident_ids:
        touched.update(session.scalars(
            text(f"SELECT case_id FROM case_residents WHERE resident_id IN {_SOME}"),
            {"ids": json.dumps(sorted(resident_ids))}))
    return touched


_ORDER = {
    "due": "ci.due_sort, ci.priority_rank, ci.reference",
    "priority": "ci.priority_rank, ci.due_sort, ci.reference",
    "opened": "ci.opened_at DESC, ci.reference",
    "reference": "ci.reference",
}
_COLUMNS = ("ci.case_id, ci.reference, ci.case_type, ci.status, ci.priority, ci.summary, ci.address, "
            "ci.postcode, ci.resident_names, ci.opened_at, ci.due_at, ci.has_warnings")


def _in(column: str, name: str, values: Sequence[str], params: dict[str, Any]) -> str:
    params[name] = json.dumps(list(values))
    return f"{column} IN (SELECT value FROM json_each(:{name}))"


def _like(word: str) -> str:
    """A LIKE pattern finding ``word`` anywhere, its own % and _ taken literally."""
    return "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


@dataclass(frozen=True)
class CaseFilter:
    """Which cases the list shows: the words searched for and the filters (None: any)."""

    search: str = ""
    status: Sequence[str] | None = None
    case_type: Sequence[str] | None = None
    priority: Sequence[str] | None = None
    overdue: bool | None = None
    due_before: datetime | None = None


#: Every case (the list unfiltered).
ANY_CASE = CaseFilter()


def _conditions(wanted: CaseFilter, params: dict[str, Any]) -> list[str]:
    """The WHERE conditions of the case list for a search and its filters (parameters go into ``params``)."""
    # A case that left the officer's scope stays listed while their unsent work needs it,
    # so a draft never becomes unreachable.
    where = [f"(ci.deleted = 0 OR ci.case_id IN (SELECT v.case_id FROM visits v WHERE v.own = 1 AND {UNSENT_WORK_SQL}))"]
    words = search_words(wanted.search)
    indexed = [w for w in words if len(w) >= TRIGRAM]
    if indexed:
        # Each word a quoted FTS5 string (a quote inside doubled): one substring each, all required.
        params["match"] = " ".join('"' + w.replace('"', '""') + '"' for w in indexed)
        where.append("ci.id IN (SELECT rowid FROM case_fts WHERE case_fts MATCH :match)")
    for number, word in enumerate(w for w in words if len(w) < TRIGRAM):
        params[f"part{number}"] = _like(word)
        where.append(f"ci.search_text LIKE :part{number} ESCAPE '\\'")
    if wanted.status:
        where.append(_in("ci.status", "status", wanted.status, params))
    if wanted.case_type:
        where.append(_in("ci.case_type", "case_type", wanted.case_type, params))
    if wanted.priority:
        where.append(_in("ci.priority", "priority", wanted.priority, params))
    if wanted.due_before is not None:
        params["due_before"] = _stored(wanted.due_before)
        where.append("ci.due_at < :due_before")
    return where


def _select(columns: str, wanted: CaseFilter, sort: str | None, limit: int | None) -> tuple[str, dict[str, Any]]:
    """The case list's SQL for a search and its filters, in list order unless ``sort`` is None."""
    params: dict[str, Any] = {}
    where = _conditions(wanted, params)
    sql = f"SELECT {columns} FROM case_index ci WHERE {' AND '.join(where)}"
    if sort is not None:
        if sort not in _ORDER:
            raise ValidationError(f"Sort the cases by one of: {', '.join(SORTS)} (not {sort!r}).")
        sql += f" ORDER BY {_ORDER[sort]}"
    if limit is not None:
        params["limit"] = max(int(limit), 0)
        sql += " LIMIT :limit"
    return sql, params


def _moments() -> Any:
    """A parser of stored timestamps that parses each distinct text once (thousands of rows share few)."""
    parsed: dict[str | None, datetime | None] = {None: None}

    def moment(value: str | None) -> datetime | None:
        found = parsed.get(value, _MISSING)
        if found is _MISSING:
            found = parsed[value] = _loaded(value)
        return found  # type: ignore[return-value]

    return moment


def list_cases(session: Session, wanted: CaseFilter = ANY_CASE, *, sort: str = "due",
               limit: int | None = None) -> list[CaseSummary]:
    """The case list (tombstoned cases left out unless unsent work needs them), searched, filtered and sorted.

    Plain SQL over the one-table list line: this is the hottest read of the app, and
    the ORM's per-row work would cost more than the query itself.
    """
    overdue = wanted.overdue
    # The overdue rule is the domain's, applied to the rows; a limit then applies after it.
    sql, params = _select(_COLUMNS, wanted, sort, limit if overdue is None else None)
    now = utc_now()
    # The DBAPI cursor directly, and each distinct timestamp text parsed once: at thousands of
    # rows per broad search this per-row work is most of the time the list takes.
    cursor = sqlite_connection(session).execute(sql, params)
    moment = _moments()
    rows = []
    for r in cursor.fetchall():
        due_at = moment(r[10])
        late = is_case_overdue(due_at, r[3], now)
        if overdue is None or overdue == late:
            # Positional, in CaseSummary's field order (tests compare every field).
            rows.append(CaseSummary(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], moment(r[9]), due_at,
                                late, bool(r[11])))
    return rows if overdue is None or limit is None else rows[:max(int(limit), 0)]


def case_ids(session: Session, wanted: CaseFilter = ANY_CASE) -> set[str]:
    """The ids of the cases `list_cases` lists for this search and these filters, in no order.

    For the case list window, which holds every row in list order already: leaving
    out the sort and the rows makes a search of 20,000 cases a few milliseconds.
    """
    if wanted.overdue is None:
        sql, params = _select("ci.case_id", wanted, None, None)
        return {r[0] for r in sqlite_connection(session).execute(sql, params)}
    sql, params = _select("ci.case_id, ci.due_at, ci.status", wanted, None, None)
    now, moment = utc_now(), _moments()
    return {r[0] for r in sqlite_connection(session).execute(sql, params)
            if is_case_overdue(moment(r[1]), r[2], now) == wanted.overdue}
