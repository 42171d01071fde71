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
from datetime import datetime

from sqlalchemy import Select, case, literal_column, select, text
from sqlalchemy.orm import Session

from fieldapp.clock import as_utc, utc_now
from fieldapp.errors import ValidationError
from fieldapp.models import CaseIndexRow, CaseRecord
from fieldapp.types import CaseRow

# The list line of a case, from its property and residents. Also the backfill of
# migration 0002 (which keeps its own frozen copy, as migrations must).
_INDEX_SELECT = """
INSERT INTO case_index (case_id, reference, address, postcode, resident_names, has_warnings)
SELECT c.id, c.reference,
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

SORTS = ("due", "priority", "opened", "reference")
_PRIORITY_RANK = {"emergency": 0, "urgent": 1, "routine": 2}
_TOKEN = re.compile(r"\w+", re.UNICODE)


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


def _order(stmt: Select, sort: str) -> Select:
    rank = case(_PRIORITY_RANK, value=CaseRecord.priority, else_=9)
    due_nulls_last = (CaseRecord.due_at.is_(None), CaseRecord.due_at)
    if sort == "due":
        return stmt.order_by(*due_nulls_last, rank, CaseRecord.reference)
    if sort == "priority":
        return stmt.order_by(rank, *due_nulls_last, CaseRecord.reference)
    if sort == "opened":
        return stmt.order_by(CaseRecord.opened_at.desc(), CaseRecord.reference)
    return stmt.order_by(CaseRecord.reference)


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
    """The case list (tombstoned cases left out), searched, filtered and sorted."""
    if sort not in SORTS:
        raise ValidationError(f"Sort the cases by one of: {', '.join(SORTS)} (not {sort!r}).")
    now = utc_now()
    stmt = (
        select(CaseRecord.id, CaseRecord.reference, CaseRecord.case_type, CaseRecord.status,
               CaseRecord.priority, CaseRecord.summary, CaseIndexRow.address, CaseIndexRow.postcode,
               CaseIndexRow.resident_names, CaseRecord.opened_at, CaseRecord.due_at, CaseIndexRow.has_warnings)
        .join(CaseIndexRow, CaseIndexRow.case_id == CaseRecord.id)
        .where(CaseRecord.deleted.is_(False))
    )
    params: dict[str, str] = {}
    match = fts_query(search)
    if match is not None:
        params["match"] = match
        matching = select(literal_column("rowid")).select_from(text("case_fts")).where(
            text("case_fts MATCH :match"))
        stmt = stmt.where(CaseIndexRow.id.in_(matching))
    if status:
        stmt = stmt.where(CaseRecord.status.in_(list(status)))
    if case_type:
        stmt = stmt.where(CaseRecord.case_type.in_(list(case_type)))
    if priority:
        stmt = stmt.where(CaseRecord.priority.in_(list(priority)))
    is_overdue = (CaseRecord.due_at < now) & (CaseRecord.status != "closed")
    if overdue is True:
        stmt = stmt.where(is_overdue)
    elif overdue is False:
        stmt = stmt.where(~is_overdue | CaseRecord.due_at.is_(None))
    if due_before is not None:
        stmt = stmt.where(CaseRecord.due_at < as_utc(due_before))
    stmt = _order(stmt, sort)
    if limit is not None:
        stmt = stmt.limit(limit)
    return [
        CaseRow(id=r[0], reference=r[1], case_type=r[2], status=r[3], priority=r[4], summary=r[5],
                address=r[6], postcode=r[7], resident_names=r[8], opened_at=r[9], due_at=r[10],
                overdue=is_case_overdue(r[10], r[3], now), has_warnings=bool(r[11]))
        for r in session.execute(stmt, params)
    ]


def is_case_overdue(due_at: datetime | None, status: str, now: datetime) -> bool:
    """A case is overdue when its due time has passed and it is not closed."""
    return due_at is not None and due_at < now and status != "closed"
