"""Many rows into one local table in one executemany, stored exactly as the ORM stores them; long id lists.

A first sync inserts tens of thousands of properties, residents, cases and links. The
ORM's bulk insert (and even Core's executemany) spends more time per row building and
checking parameters than SQLite spends storing it; here each column's own bind
processor (JSON text, naive-UTC timestamps) is looked up once and the rows go to the
driver's executemany as tuples.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Column, ColumnDefault, ColumnElement, Select, Table, func, literal_column, select
from sqlalchemy.orm import Session

_MISSING = object()


def sqlite_connection(session: Session) -> sqlite3.Connection:
    """The session's own sqlite3 connection, inside its transaction: bulk statements without SQLAlchemy's per-row cost."""
    return cast(sqlite3.Connection, session.connection().connection.driver_connection)


def _default(column: Column[Any]) -> Any:
    """The column's scalar default, for rows that leave it out; a column without one must be given."""
    default = column.default
    if isinstance(default, ColumnDefault) and default.is_scalar:
        return default.arg
    return _MISSING


def insert_rows(session: Session, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert the rows (dicts by column name) in the session's transaction; the ORM's pending rows go first.

    Built a column at a time (a column without a bind processor is taken as it is), each
    processor remembering its answer for the values the rows share (`_memoised`).
    """
    if not rows:
        return
    session.flush()
    dialect = session.get_bind().dialect
    columns = [c for c in table.columns if c.key in rows[0] or _default(c) is not _MISSING]
    values: list[Iterable[Any]] = []
    for column in columns:
        key, default = column.key, _default(column)
        if default is _MISSING:
            try:
                given = [row[key] for row in rows]
            except KeyError:
                raise KeyError(f"{table.name}.{key} has no value and no default") from None
        else:
            given = [row.get(key, default) for row in rows]
        convert = column.type.dialect_impl(dialect).bind_processor(dialect)
        values.append(given if convert is None else map(_memoised(convert), given))
    names = ", ".join(f'"{c.name}"' for c in columns)
    marks = ", ".join("?" for _ in columns)
    sqlite_connection(session).executemany(f'INSERT INTO "{table.name}" ({names}) VALUES ({marks})', zip(*values))


def _memoised(convert: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """A bind processor that converts each distinct value once: a page's rows share their timestamps,
    empty lists and flags, and the processors (JSON text, naive-UTC timestamps) cost more than the look-up."""
    seen: dict[Any, Any] = {}

    def converted(value: Any) -> Any:
        key = _memo_key(value)
        if key is None:
            return convert(value)
        found = seen.get(key, _MISSING)
        if found is _MISSING:
            found = seen[key] = convert(value)
        return found

    return converted


#: Kinds whose equal values convert alike (not float: 0.0 == -0.0, yet their JSON differs).
_PLAIN = frozenset({str, int, bool, datetime, type(None)})


def _memo_key(value: Any) -> Any:
    """A key equal only for values that convert alike, or None to convert the value itself."""
    kind = type(value)
    if kind in _PLAIN:
        return (kind, value)   # the kind too: True == 1, yet they convert differently
    if kind is list and all(type(item) is str for item in value):
        return (list, *value)
    return None


def among(column: Any, ids: Iterable[str]) -> ColumnElement[bool]:
    """``column IN ids`` as one JSON parameter: one cached statement however many ids (no chunks of 500)."""
    listed: Select[Any] = select(literal_column("value")).select_from(func.json_each(json.dumps(list(ids))))
    return cast(ColumnElement[bool], column.in_(listed))
