"""The writes of a push's accepted visit submits, gathered in memory and written together.

Each accepted submit brings its visit (new, or replacing the stored one), the visit's
blob references, its case's change (visited; new clocks when it concludes the
investigation), its stored result and its ``visit.submitted`` event for the webhook
outbox. ``flush`` writes them in a few statements: the change numbers in one (the counter
row is locked from there to the commit only, never across the ops' evaluation), then
one statement per table. A row changed by several ops of the push is written once, in
its last state; each op's result keeps the seq it was given, as if each had committed
in turn.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, update
from sqlalchemy.orm import Session

from portal.models import CaseRow, OpRow, VisitBlobRow, VisitRow
from portal.models_webhooks import WebhookEventRow
from portal.services import webhooks
from portal.services.bulk import among, insert_rows
from portal.services.sequence import next_seqs, utcnow

_VISITS = cast(Table, VisitRow.__table__)
_VISIT_BLOBS = cast(Table, VisitBlobRow.__table__)
_CASES = cast(Table, CaseRow.__table__)
_OPS = cast(Table, OpRow.__table__)
_EVENTS = cast(Table, WebhookEventRow.__table__)
_CLOCK_COLUMNS = ("investigation", "clocks", "awaab", "due_at")


@dataclass(frozen=True)
class _Applied:
    op_id: str
    user_id: str
    digest: str
    #: The result answered for the op: its ``seq`` is set by ``flush``.
    result: dict[str, Any]
    visit_id: str
    #: The case this op changed (None: it changed no case).
    case_id: str | None


@dataclass
class SubmitWrites:
    """Accepted submits not yet written."""

    _applied: list[_Applied] = field(default_factory=list)
    #: The visits' and cases' last state (namespaces of their columns), by id.
    _visits: dict[str, Any] = field(default_factory=dict)
    _cases: dict[str, Any] = field(default_factory=dict)
    #: Visits stored before the push (updated, not inserted), cases whose clocks changed.
    _existed: set[str] = field(default_factory=set)
    _clocked: set[str] = field(default_factory=set)
    _hashes: dict[str, list[str]] = field(default_factory=dict)
    _events: list[webhooks.Emission] = field(default_factory=list)
    #: Answers that quote a seq not yet given out: a duplicate of an op of this push
    #: (by op_id), a conflict's ``current`` of a visit this push wrote (by visit id).
    _echoes: list[tuple[dict[str, Any], str]] = field(default_factory=list)
    _currents: list[dict[str, Any]] = field(default_factory=list)

    def add(
        self, *, op_id: str, user_id: str, digest: str, result: dict[str, Any], visit: Any, existed: bool, hashes: list[str],
        case: Any, case_changed: bool, clocks_changed: bool, event: webhooks.Emission,
    ) -> None:
        """Take an accepted submit: ``visit`` and ``case`` in their new state."""
        self._applied.append(_Applied(op_id, user_id, digest, result, visit.id, case.id if case_changed else None))
        if existed and visit.id not in self._visits:
            self._existed.add(visit.id)
        self._visits[visit.id] = visit
        self._hashes[visit.id] = hashes
        if case_changed:
            self._cases[case.id] = case
        if clocks_changed:
            self._clocked.add(case.id)
        self._events.append(event)

    def echo(self, op_id: str, duplicate: dict[str, Any]) -> None:
        """A duplicate answer of an op: its seq is filled in if the op is one of these."""
        if any(a.op_id == op_id for a in self._applied):
            self._echoes.append((duplicate, op_id))

    def current(self, current: dict[str, Any]) -> None:
        """A conflict's copy of a visit: its seq is filled in if the visit is one of these."""
        if current["id"] in self._visits:
            self._currents.append(current)

    def flush(self, session: Session) -> None:
        """Write everything gathered inside the session's transaction (once: then take a new ``SubmitWrites``)."""
        if not self._applied:
            return
        self._give_seqs(session)
        self._write_visits(session)
        self._write_cases(session)
        now = utcnow()
        insert_rows(session, _OPS, [
            {"op_id": a.op_id, "user_id": a.user_id, "result": a.result, "created_at": now, "digest": a.digest} for a in self._applied
        ])
        insert_rows(session, _EVENTS, [event.row() for event in self._events])

    def _give_seqs(self, session: Session) -> None:
        # In op order, a case's number before its visit's (as when each op committed alone).
        numbers = iter(next_seqs(session, sum(2 if a.case_id else 1 for a in self._applied)))
        by_op: dict[str, int] = {}
        for applied in self._applied:
            if applied.case_id:
                self._cases[applied.case_id].seq = next(numbers)
            seq = self._visits[applied.visit_id].seq = by_op[applied.op_id] = next(numbers)
            applied.result["seq"] = seq
        for duplicate, op_id in self._echoes:
            duplicate["seq"] = by_op[op_id]
        for current in self._currents:
            current["seq"] = self._visits[current["id"]].seq

    def _write_visits(self, session: Session) -> None:
        new = [v for v in self._visits.values() if v.id not in self._existed]
        insert_rows(session, _VISITS, [
            {"id": v.id, "version": v.version, "seq": v.seq, "case_id": v.case_id, "officer_id": v.officer_id, "document": v.document,
             "status": v.status, "review": None, "summary_issued": None}
            for v in new
        ])
        if self._existed:
            session.execute(
                update(_VISITS).where(_VISITS.c.id == bindparam("b_id")).values(
                    version=bindparam("b_version"), seq=bindparam("b_seq"), case_id=bindparam("b_case_id"),
                    document=bindparam("b_document", type_=_VISITS.c.document.type), status=bindparam("b_status"), review=None,
                ),
                [{"b_id": v.id, "b_version": v.version, "b_seq": v.seq, "b_case_id": v.case_id, "b_document": v.document, "b_status": v.status}
                 for v in self._visits.values() if v.id in self._existed],
            )
            session.execute(delete(_VISIT_BLOBS).where(among(session, _VISIT_BLOBS.c.visit_id, self._existed)))
        insert_rows(session, _VISIT_BLOBS, [{"visit_id": visit_id, "sha256": sha} for visit_id, hashes in self._hashes.items() for sha in hashes])

    def _write_cases(self, session: Session) -> None:
        for clocked in (False, True):
            cases = [c for c in self._cases.values() if (c.id in self._clocked) == clocked]
            if not cases:
                continue
            columns = ("status", "version", "seq", *(_CLOCK_COLUMNS if clocked else ()))
            statement = update(_CASES).where(_CASES.c.id == bindparam("b_id")).values(
                {name: bindparam(f"b_{name}", type_=_CASES.c[name].type) for name in columns}
            )
            session.execute(statement, [{"b_id": c.id, **{f"b_{name}": getattr(c, name) for name in columns}} for c in cases])
