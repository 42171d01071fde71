"""The reading start of a visit submit, in one round trip that also opens the transaction.

It answers: was this op applied before (by whom, with what content digest), is the case in the caller's
scope (and its status), does the visit exist already. The statement is built from the
scope rules in ``portal.services.scope`` and, on PostgreSQL (psycopg), compiled once per
caller and sent in a pipeline behind the transaction's ``BEGIN``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import Dialect, Select, bindparam, exists, select
from sqlalchemy.orm import Session

from portal.core.db import psycopg_connection
from portal.models import CaseRow, OpRow, VisitRow
from portal.services import scope

_OPS = OpRow.__table__
_VISITS = VisitRow.__table__


@dataclass(frozen=True)
class SubmitLookup:
    """What a submit needs to know before it validates."""

    #: None when the case does not exist or is out of the caller's scope.
    case_status: str | None
    #: Whether the case is under Awaab's Law (its visits then need an assessment).
    case_awaab: bool
    stored_user_id: str | None
    stored_result: dict[str, Any] | None
    stored_digest: str | None
    visit_exists: bool


@lru_cache(maxsize=1024)
def _statement(caller: scope.Caller) -> Select[Any]:
    # Built once per caller: building the scope's subqueries cost a submit on SQLite
    # (where it is executed as it is) as much as running them.
    return select(
        select(CaseRow.status).where(CaseRow.id == bindparam("case_id"), scope.case_filter(caller)).scalar_subquery().label("case_status"),
        select(CaseRow.awaab).where(CaseRow.id == bindparam("case_id")).scalar_subquery().label("case_awaab"),
        select(_OPS.c.user_id).where(_OPS.c.op_id == bindparam("op_id")).scalar_subquery().label("user_id"),
        select(_OPS.c.result).where(_OPS.c.op_id == bindparam("op_id")).scalar_subquery().label("result"),
        select(_OPS.c.digest).where(_OPS.c.op_id == bindparam("op_id")).scalar_subquery().label("digest"),
        exists().where(_VISITS.c.id == bindparam("visit_id")).label("visit_exists"),
    )


@lru_cache(maxsize=1024)
def _compiled(caller: scope.Caller, dialect: Dialect) -> tuple[str, dict[str, Any]]:
    # The caller's ids are bound values of the statement; compiling per caller keeps
    # SQLAlchemy's per-execution work (cache key, compile lookup) off the hot path.
    compiled = _statement(caller).compile(dialect=dialect)
    return compiled.string, dict(compiled.params)


def lookup(session: Session, caller: scope.Caller, *, op_id: str, visit_id: str, case_id: str) -> SubmitLookup:
    """Stored result, case status in scope and visit existence, as of now (READ COMMITTED)."""
    params = {"op_id": op_id, "visit_id": visit_id, "case_id": case_id}
    dialect = session.get_bind().dialect
    if dialect.name == "postgresql" and dialect.driver == "psycopg":
        sql, bound = _compiled(caller, dialect)
        raw = psycopg_connection(session)
        # BEGIN and the query leave together; the pipeline's sync waits for both.
        with raw.pipeline():
            cursor = raw.execute(sql, {**bound, **params})
        row = cursor.fetchone()
        assert row is not None  # the query always returns its one row
        case_status, awaab, user_id, result, digest, visit_exists = row
    else:
        found = session.execute(_statement(caller), params).one()
        case_status, awaab, user_id, result, digest, visit_exists = found
    return SubmitLookup(case_status, bool(awaab), user_id, result, digest, bool(visit_exists))
