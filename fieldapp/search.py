"""The case list: its search index (SQLite FTS5) and the list query.

``case_index`` holds one denormalised line per case (reference, address, postcode,
resident names, whether anyone has a warning); triggers copy it into the external
content FTS5 table ``case_fts`` (migration 0002). `reindex_cases` rebuilds the lines
of the cases a pulled page touched, inside that page's transaction.

What a person types is never passed to FTS5 as query syntax: it is cut into word
tokens, each quoted and matched as a prefix, so "SE1 4" finds "SE1 4AB", "hask"
finds "Haskins", and quotes or operators (``"``, ``*``, ``OR``, ``NEAR(``) are only text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from fieldapp.clock import as_utc, utc_now
from fieldapp.errors import ValidationError
from fieldapp.types import CaseRow

# The list line of a case, from the case, its property and its residents. Also the
# backfill of migration 0003 (which keeps its own frozen copy, as migrations must).
_INDEX_SELECT = """
INSERT INTO case_index (case_id, reference, case_type, status, priority, priority_rank, summary, opened_at,
                        due_at, due_sort, deleted, address, postcode, resident_names, has_warnings)
SELECT c.id, c.reference, c.case_type, c.status, c.priority,
       CASE c.priority WHEN 'emergency' THEN 0 WHEN 'urgent' THEN 1 WHEN 'routine' THEN 2 ELSE 9 END,
       c.summary, c.opened_at, c.due_at, coalesce(c.due_at, '9999-12-31'), c.deleted,
       coalesce((SELECT group_concat(value, ', ') FROM json_each(p.address_lines)) || ', ' || p.town, ''),
       coalesce(p.postcode, ''),
       coalesce((SELECT group_concat(full_name, ', ') FROM (
                   SELECT r.full_name FROM case_residents cr JOIN residents r ON r.id = cr.resident_id
                   WHERE cr.case_id = c.id AND r.deleted = 0 ORDER BY cr.position)), ''),
       EXISTS (SELECT 1 FROM case_residents cr JOIN residents r ON r.id = cr.resident_id
               WHERE cr.case_id = c.id AND r.deleted = 0 AND json_array_length(r.warnings) > 0)
FROM cases c LEFT JOIN properties p ON p.id = c.property_id
"""
_SOME = "(SELECT value FROM json_each(:ids))"

SORTS = ("due", "priority", "opened", "reference")  # the default first
_TOKEN = re.compile(r"\w+", re.UNICODE)
_MISSING = object()


def reindex_cases(session: Session, case_ids: Iterable[str]) -> None:
    """Rebuild the list lines (and so the FTS rows) of these cases."""
    ids = json.dumps(sorted(set(case_ids)))
    if ids == "[]":
        return
    session.execute(text(f"DELETE FROM case_index WHERE case_id IN {_SOME}"), {"ids": ids})
    session.execute(text(f"{_INDEX_SELECT} WHERE c.id IN {_SOME}"), {"ids": ids})


def reindex_all(session: Session) -> None:
    """Rebuild every list line (after a reset)."""
    session.execute(text("DELETE FROM case_index"))
    session.execute(text(_INDEX_SELECT))


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


def fts_query(search: str) -> str | None:
    """The FTS5 MATCH expression for what a person typed (every word as a prefix), or None to match all."""
    tokens = _TOKEN.findall(search)
    if not tokens:
        return None
    # Tokens hold only word characters, so quoting them makes any FTS5 syntax plain text.
    return " ".join(f'"{token}"*' for token in tokens)


_ORDER = {
    "due": "ci.due_sort, ci.priority_rank, ci.reference",
    "priority": "ci.priority_rank, ci.due_sort, ci.reference",
    "opened": "ci.opened_at DESC, ci.reference",
    "reference": "ci.reference",
}
_COLUMNS = ("ci.case_id, ci.reference, ci.case_type, ci.status, ci.priority, ci.summary, ci.address, "
            "ci.postcode, ci.resident_names, ci.opened_at, ci.due_at, ci.has_warnings")


def _stored(moment: datetime) -> str:
    # The text form SQLAlchemy keeps for UTCDateTime columns, so SQL compares like with like.
    return as_utc(moment).strftime("%Y-%m-%d %H:%M:%S.%f")


def _loaded(text_value: str | None) -> datetime | None:
    return None if text_value is None else datetime.fromisoformat(text_value).replace(tzinfo=timezone.utc)


def _in(column: str, name: str, values: Sequence[str], params: dict[str, Any]) -> str:
    params[name] = json.dumps(list(values))
    return f"{column} IN (SELECT value FROM json_each(:{name}))"


def list_cases(
    session: Session,
    search: str = "",
    *,
    status: Sequence[str] | None = None,
    case_type: Sequence[str] | None = None,
    priority: Sequence[str] | None = None,
    overdue: bool | None = None,
    due_before: datetime | None = None,
    sort: str = "due",
    limit: int | None = None,
) -> list[CaseRow]:
    """The case list (tombstoned cases left out unless unsent work needs them), searched, filtered and sorted.

    Plain SQL over the one-table list line: this is the hottest read of the app, and
    the ORM's per-row work would cost more than the query itself.
    """
    if sort not in _ORDER:
        raise ValidationError(f"Sort the cases by one of: {', '.join(SORTS)} (not {sort!r}).")
    now = utc_now()
    params: dict[str, Any] = {"now": _stored(now)}
    # A case that left the officer's scope stays listed while their unsent work needs it,
    # so a draft never becomes unreachable.
    where = ["(ci.deleted = 0 OR ci.case_id IN (SELECT v.case_id FROM visits v WHERE v.own = 1 AND "
             "(v.state IN ('draft', 'queued') OR v.local_edits = 1 OR v.op_id IS NOT NULL)))"]
    match = fts_query(search)
    if match is not None:
        params["match"] = match
        where.append("ci.id IN (SELECT rowid FROM case_fts WHERE case_fts MATCH :match)")
    if status:
        where.append(_in("ci.status", "status", status, params))
    if case_type:
        where.append(_in("ci.case_type", "case_type", case_type, params))
    if priority:
        where.append(_in("ci.priority", "priority", priority, params))
    is_overdue = "(ci.due_at IS NOT NULL AND ci.due_at < :now AND ci.status != 'closed')"
    if overdue is True:
        where.append(is_overdue)
    elif overdue is False:
        where.append(f"NOT {is_overdue}")
    if due_before is not None:
        params["due_before"] = _stored(due_before)
        where.append("ci.due_at < :due_before")
    sql = f"SELECT {_COLUMNS} FROM case_index ci WHERE {' AND '.join(where)} ORDER BY {_ORDER[sort]}"
    if limit is not None:
        params["limit"] = max(int(limit), 0)
        sql += " LIMIT :limit"
    # The DBAPI cursor directly, and each distinct timestamp text parsed once: at thousands of
    # rows per broad search this per-row work is most of the time the list takes.
    cursor = session.connection().connection.driver_connection.execute(sql, params)
    parsed: dict[str | None, datetime | None] = {None: None}

    def moment(value: str | None) -> datetime | None:
        found = parsed.get(value, _MISSING)
        if found is _MISSING:
            found = parsed[value] = _loaded(value)
        return found  # type: ignore[return-value]

    rows = []
    for r in cursor.fetchall():
        due_at = moment(r[10])
        # Positional, in CaseRow's field order (tests compare every field).
        rows.append(CaseRow(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], moment(r[9]), due_at,
                            due_at is not None and due_at < now and r[3] != "closed", bool(r[11])))
    return rows


def is_case_overdue(due_at: datetime | None, status: str, now: datetime) -> bool:
    """A case is overdue when its due time has passed and it is not closed."""
    return due_at is not None and due_at < now and status != "closed"
