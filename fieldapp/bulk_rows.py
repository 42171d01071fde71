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
    """Insert the rows (dicts by column name) in the session's transaction; the ORM's pending rows go first."""
    if not rows:
        return
    session.flush()
    dialect = session.get_bind().dialect
    columns = [c for c in table.columns if c.key in rows[0] or _default(c) is not _MISSING]
    converters: list[tuple[str, Any, Callable[[Any], Any] | None]] = [
        (c.key, _default(c), c.type.dialect_impl(dialect).bind_processor(dialect)) for c in columns]
    values = []
    for row in rows:
        line = []
        for key, default, convert in converters:
            value = row.get(key, default)
            if value is _MISSING:
                raise KeyError(f"{table.name}.{key} has no value and no default")
            line.append(convert(value) if convert is not None else value)
        values.append(line)
    names = ", ".join(f'"{c.name}"' for c in columns)
    marks = ", ".join("?" for _ in columns)
    sqlite_connection(session).executemany(f'INSERT INTO "{table.name}" ({names}) VALUES ({marks})', values)


def among(column: Any, ids: Iterable[str]) -> ColumnElement[bool]:
    """``column IN ids`` as one JSON parameter: one cached statement however many ids (no chunks of 500)."""
    listed: Select[Any] = select(literal_column("value")).select_from(func.json_each(json.dumps(list(ids))))
    return cast(ColumnElement[bool], column.in_(listed))
