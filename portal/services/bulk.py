"""Many rows into one table, and long id lists in a query, without a statement per row or a parameter per id.

PostgreSQL: rows go in by ``COPY`` and id lists as one array parameter (``= ANY``); the
driver otherwise rewrites every placeholder of a statement in Python, which for the
thousands of ids and rows of a case import costs more than the database's work.
SQLite: an executemany (the driver's loop is in C) and ``IN``.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import JSON, ColumnElement, String, Table, any_, insert, literal
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session


def _is_postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def dialect_insert(session: Session) -> Any:
    """The backend's own ``insert`` (it has ``on_conflict_do_nothing``)."""
    return pg_insert if _is_postgresql(session) else sqlite_insert


def among(session: Session, column: Any, values: Collection[str]) -> ColumnElement[bool]:
    """``column IN values`` for text ids, as one array parameter on PostgreSQL."""
    if _is_postgresql(session):
        return column == any_(literal(list(values), ARRAY(String)))  # type: ignore[no-any-return]
    return column.in_(list(values))  # type: ignore[no-any-return]


def insert_rows(session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert the rows (each a dict of every column given) inside the session's transaction."""
    if not rows:
        return
    if not _is_postgresql(session):
        session.execute(insert(table), list(rows))
        return
    session.flush()  # the ORM's pending rows first: COPY goes past the session, on its connection
    names = list(rows[0])
    as_json = {name for name in names if isinstance(table.columns[name].type, JSON)}
    quoted = ", ".join(f'"{name}"' for name in names)
    driver = session.connection().connection.driver_connection
    with driver.cursor() as cursor, cursor.copy(f'COPY "{table.name}" ({quoted}) FROM STDIN') as copy:  # type: ignore[union-attr]
        for row in rows:
            copy.write_row([json.dumps(row[n]) if n in as_json and row[n] is not None else row[n] for n in names])
