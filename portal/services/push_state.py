"""What the visit submits of one push read, loaded once for all of them and kept current as they apply.

Each submit needs its op's stored result (idempotency), its case (in the caller's scope),
its visit, the visit it amends, its template and the photo blobs the caller holds.
``PushState.load`` reads each of those for every submit of a run of ops in one query;
the submits then decide in memory, and ``applied`` keeps the state current, so a later op
of the push sees an earlier one exactly as if it had committed (a visit submitted twice,
two visits of one case, an op pushed twice in one batch).

Row locks: the cases first, then the visits, each in id order, so two pushes lock in the
same order and cannot deadlock on each other; a concurrent re-triage of a case waits for
the push and then sees it. Stored results are read after the locks: a concurrent push of
the same op, holding them, has committed by then and its result is seen here.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any, cast

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from portal.clocks import Calendar
from portal.models import CaseRow, OpRow, TemplateRow, VisitRow
from portal.services import scope
from portal.services.blobs import held
from portal.services.bulk import among
from portal.services.case_clocks import calendar, schedule
from sync.protocol import Op, VisitDocument

_CASES = cast(Table, CaseRow.__table__)
_VISITS = cast(Table, VisitRow.__table__)
_OPS = cast(Table, OpRow.__table__)

# Templates are never changed once created (a new version is a new template), so
# their data can be kept per process.
_TEMPLATES: dict[str, dict[str, Any]] = {}
_TEMPLATES_LOCK = threading.Lock()


@dataclass(frozen=True)
class Stored:
    """An op's stored result: who pushed it, what it answered, the digest of its content."""

    user_id: str
    result: dict[str, Any]
    digest: str | None


def visit_public(visit: Any) -> dict[str, Any]:
    """A visit's record as ``records.public`` gives it (for a conflict's ``current``)."""
    return {"id": visit.id, "version": visit.version, "seq": visit.seq, **visit.document, "status": visit.status,
            "review": visit.review, "summary_issued": visit.summary_issued}


@dataclass
class PushState:
    """The rows a run of submits reads, under lock, with the run's own changes applied in memory."""

    #: Cases in the caller's scope by id: their columns (``SimpleNamespace``), as changed by this push.
    cases: dict[str, Any]
    #: Visits by id, as changed by this push (``seq`` 0 until the push writes them).
    visits: dict[str, Any]
    #: Visits in the caller's scope that an amendment may name.
    amendable: set[str]
    stored: dict[str, Stored]
    #: The blobs the caller holds among those the run's photos name.
    blobs: set[str]
    templates: dict[str, dict[str, Any]]
    _plan: tuple[dict[str, Any], Calendar] | None = field(default=None)

    @classmethod
    def load(cls, session: Session, caller: scope.Caller, ops: list[Op], docs: list[VisitDocument]) -> PushState:
        """Read (and lock) what the submit ``ops`` and their documents (those that parse) need, one query per kind of row."""
        case_ids = {doc.case_id for doc in docs}
        visit_ids = {op.id for op in ops}
        cases = {
            row.id: SimpleNamespace(**row._mapping)
            for row in session.execute(
                select(_CASES).where(among(session, _CASES.c.id, case_ids), scope.case_filter(caller))
                .order_by(_CASES.c.id).with_for_update(of=_CASES)
            )
        }
        visits = {
            row.id: SimpleNamespace(**row._mapping)
            for row in session.execute(
                select(_VISITS).where(among(session, _VISITS.c.id, visit_ids)).order_by(_VISITS.c.id).with_for_update()
            )
        }
        amends = {doc.amends for doc in docs if doc.amends is not None}
        amendable = set(session.scalars(select(VisitRow.id).where(among(session, VisitRow.id, amends), scope.visit_filter(caller)))) if amends else set()
        stored = {
            row.op_id: Stored(row.user_id, row.result, row.digest)
            for row in session.execute(
                select(_OPS.c.op_id, _OPS.c.user_id, _OPS.c.result, _OPS.c.digest).where(among(session, _OPS.c.op_id, {op.op_id for op in ops}))
            )
        }
        hashes = sorted({p.sha256 for doc in docs for p in doc.photos})
        # Possession (revision 2): only blobs the caller uploaded or already sees in a visit;
        # share-locked so housekeeping cannot remove one before this push commits.
        blobs = set(held(session, caller, hashes, lock=True))
        return cls(cases, visits, amendable, stored, blobs, _templates(session, {doc.template_id for doc in docs}))

    def plan(self, session: Session) -> tuple[dict[str, Any], Calendar]:
        """The Awaab schedule and the working-day calendar, read once per push (after the case locks)."""
        if self._plan is None:
            self._plan = (schedule(session), calendar(session))
        return self._plan

    def applied(self, op_id: str, user_id: str, result: dict[str, Any], digest: str, visit: Any, case: Any) -> None:
        """Take in a submit this push applied: its result, its visit's and case's new state."""
        self.stored[op_id] = Stored(user_id, result, digest)
        self.visits[visit.id] = visit
        self.amendable.add(visit.id)
        self.cases[case.id] = case


def _templates(session: Session, wanted: set[str]) -> dict[str, dict[str, Any]]:
    """The templates' data by id (unknown ids left out), from the per-process cache or one query."""
    with _TEMPLATES_LOCK:
        missing = wanted - set(_TEMPLATES)
    if missing:
        loaded = {t.id: t.data() for t in session.scalars(select(TemplateRow).where(among(session, TemplateRow.id, missing)))}
        with _TEMPLATES_LOCK:
            _TEMPLATES.update(loaded)
    with _TEMPLATES_LOCK:
        return {key: _TEMPLATES[key] for key in wanted if key in _TEMPLATES}
