"""Push: a device's ops applied in order, each on its own, in one transaction, idempotent by op_id.

PROTOCOL ("Sync", ``POST /sync/push``): ops are applied in order, each in its own
transaction; one result per op, in order; a replayed batch is always safe. Read here as
what a caller can observe: each op applies whole or not at all, independently of the
others (a refused op changes nothing and keeps nothing of itself), later ops see earlier
ones, and nothing is answered ``applied`` that is not committed. The push is one
database transaction committed once before the answer: a visit submit is decided in
memory and written with the push's others (``push_submit``, ``submit_writes``), any other
op runs in a SAVEPOINT of its own that a refusal rolls back. A crash before the commit
keeps nothing, and the laptop, told nothing, pushes the batch again, which then applies
in full (PROTOCOL: 5xx means retry the whole batch). A concurrent push of the same op
makes this one's insert fail: the whole push is evaluated again, then seeing it.

An applied op's result is stored under its ``op_id`` with the digest of its content; a
replay with the same content returns it again with status ``duplicate``, one with
other content is ``rejected`` ``op_id_reused`` (its content would otherwise be dropped
unseen). Conflicts and rejections are not stored: they change nothing and evaluate the
same way again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, insert, select
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from portal.core.db import Database
from portal.errors import ApiError
from portal.models import OpRow, ReviewRow, UserRow, VisitRow
from portal.services import scope, summary, webhooks
from portal.services.hazard_reports import create_from_report
from portal.services.push_outcomes import OpOutcome, as_duplicate, conflict, not_found_outcome, op_digest, parse, rejected
from portal.services.push_state import PushState
from portal.services.push_submit import stored_answer, submit
from portal.services.records import public
from portal.services.sequence import stamp, utcnow
from portal.services.submit_writes import SubmitWrites
from sync.protocol import (
    DecideData,
    Decision,
    ErrorCode,
    HazardReportData,
    Op,
    SummaryIssuedData,
    VisitDocument,
    VisitStatus,
    format_timestamp,
    submitted_in_chain,
)

_OPS = cast(Table, OpRow.__table__)


def submitted_by(session: Session, visit: VisitRow, user_id: str) -> bool:
    """Whether ``user_id`` submitted the visit or any visit its chain of ``amends`` leads back to."""
    def officer_and_amends(visit_id: str) -> tuple[str, str | None] | None:
        row = session.get(VisitRow, visit_id)
        if row is None:
            return None
        amends = row.document.get("amends")
        return row.officer_id, amends if isinstance(amends, str) else None

    return submitted_in_chain(visit.id, user_id, officer_and_amends)


def _decide(session: Session, caller: scope.Caller, op: Op) -> dict[str, Any]:
    body = parse(DecideData, op.data, op.op_id, "decision")
    visit = session.get(VisitRow, body.visit_id, with_for_update=True)
    officer = session.get(UserRow, visit.officer_id) if visit else None
    if visit is None or officer is None or not caller.is_lead or officer.team_id != caller.team_id:
        raise not_found_outcome(op.op_id, "visit")
    if submitted_by(session, visit, caller.id):
        raise rejected(
            op.op_id, ErrorCode.OWN_VISIT,
            "You submitted this visit (or the visit it amends); another lead of your team must decide it.",
        )
    if body.decision == Decision.RETURN and not body.comment.strip():
        raise rejected(op.op_id, ErrorCode.INVALID_REQUEST, "Say what the officer must change: returning a visit needs a comment.", {"fields": {"comment": "required to return a visit"}})
    if session.get(ReviewRow, op.id) is not None:
        raise rejected(op.op_id, ErrorCode.INVALID_REQUEST, "This review id is already used; decide again with a new id.", {"fields": {"id": "used"}})
    if visit.status != VisitStatus.SUBMITTED:
        raise conflict(op.op_id, ErrorCode.CONFLICT, f"This visit is {visit.status}, not awaiting review.", public(visit))
    now = utcnow()
    review = ReviewRow(id=op.id, visit_id=visit.id, lead_id=caller.id, decision=str(body.decision), comment=body.comment, decided_at=now)
    session.add(review)
    visit.status = VisitStatus.APPROVED if body.decision == Decision.APPROVE else VisitStatus.RETURNED
    visit.review = {"decision": str(body.decision), "comment": body.comment, "lead_id": caller.id, "decided_at": format_timestamp(now)}
    visit.version += 1
    session.flush()
    stamp(session, visit)
    # The CRM hears of the decision in the same transaction (whoever decides: any
    # other place that decides reviews must emit this too).
    webhooks.emit(session, webhooks.decided(visit, review))
    return {"op_id": op.op_id, "status": "applied", "version": visit.version, "seq": visit.seq}


def _summary_issued(session: Session, caller: scope.Caller, op: Op) -> dict[str, Any]:
    body = parse(SummaryIssuedData, op.data, op.op_id, "summary_issued")
    visit = session.get(VisitRow, op.id, with_for_update=True)
    if visit is None or not summary.may_record(session, caller, visit):
        raise not_found_outcome(op.op_id, "visit")
    if op.base_version != visit.version:
        raise conflict(op.op_id, ErrorCode.CONFLICT, "The visit changed on the portal since you last saw it; send it again on its current version.", public(visit))
    try:
        summary.record_issued(session, caller.id, visit, body)
    except summary.SummaryRefused as refused:
        if refused.status == "conflict":
            raise conflict(op.op_id, refused.code, refused.message, public(visit)) from None
        raise rejected(op.op_id, refused.code, refused.message, {"fields": refused.fields}) from None
    return {"op_id": op.op_id, "status": "applied", "version": visit.version, "seq": visit.seq}


def _hazard_report(session: Session, caller: scope.Caller, op: Op) -> dict[str, Any]:
    body = parse(HazardReportData, op.data, op.op_id, "hazard report")
    if op.base_version != 0:
        raise conflict(op.op_id, ErrorCode.CONFLICT, "A hazard report creates a new case: push it with base_version 0.", None)
    try:
        case = create_from_report(session, caller, op.id, body)
    except ApiError as err:
        raise rejected(op.op_id, err.code, err.message, err.details) from None
    return {"op_id": op.op_id, "status": "applied", "version": case.version, "seq": case.seq}



_HANDLERS: dict[tuple[str, str], Callable[[Session, scope.Caller, Op], dict[str, Any]]] = {
    ("review", "decide"): _decide, ("visit", "summary_issued"): _summary_issued, ("hazard_report", "create"): _hazard_report,
}
_SUBMIT = ("visit", "submit")
#: Whole-push evaluations: a concurrent push of the same op, or a deadlock, ends one early.
_ATTEMPTS = 3
#: PostgreSQL's deadlock and serialisation failures: the transaction is lost, the push is not.
_RETRIED_STATES = {"40P01", "40001"}


@dataclass(frozen=True)
class _Prepared:
    """An op as validated once, for every evaluation of the push."""

    #: The answer when the op can never apply (not an op, or a kind no entity has).
    refusal: dict[str, Any] | None
    op: Op | None = None
    digest: str = ""
    #: A submit's document, or (``doc_refusal``) why it does not parse: answered unless the op was applied before.
    doc: VisitDocument | None = None
    doc_refusal: dict[str, Any] | None = None

    @property
    def is_submit(self) -> bool:
        return self.op is not None and (self.op.entity, self.op.kind) == _SUBMIT


def _prepare(raw: Any) -> _Prepared:
    op_id = str(raw.get("op_id", "")) if isinstance(raw, dict) else ""
    try:
        op = parse(Op, raw, op_id, "op")
    except OpOutcome as outcome:
        return _Prepared(outcome.result)
    kind = (op.entity, op.kind)
    if kind != _SUBMIT and kind not in _HANDLERS:
        return _Prepared(rejected(op.op_id, ErrorCode.INVALID_REQUEST, f"Ops of kind {op.kind!r} do not apply to {op.entity!r}.", {"fields": {"kind": "not valid for this entity"}}).result)
    if kind != _SUBMIT:
        return _Prepared(None, op, op_digest(op))
    try:
        return _Prepared(None, op, op_digest(op), parse(VisitDocument, op.data, op.op_id, "visit"))
    except OpOutcome as outcome:
        return _Prepared(None, op, op_digest(op), doc_refusal=outcome.result)


def push(
    db: Database, caller: scope.Caller, ops: list[Any], *, then: Callable[[Session, list[dict[str, Any]]], None] | None = None,
) -> list[dict[str, Any]]:
    """One result per op, in order, committed before they are returned; ``then`` writes more in the same transaction."""
    prepared = [_prepare(raw) for raw in ops]
    for attempt in range(_ATTEMPTS):
        try:
            with db.write(serialise=False) as session:
                results = _apply_all(session, caller, prepared)
                if then is not None:
                    then(session, results)
            return results
        except DBAPIError as exc:
            retried = isinstance(exc, IntegrityError) or getattr(exc.orig, "sqlstate", None) in _RETRIED_STATES
            if not retried or attempt == _ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


def _apply_all(session: Session, caller: scope.Caller, prepared: list[_Prepared]) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = []
    state: PushState | None = None
    writes = SubmitWrites()
    for index, item in enumerate(prepared):
        if item.refusal is not None:
            results.append(item.refusal)
        elif item.is_submit:
            if state is None:
                state = PushState.load(session, caller, *_submit_run(prepared, index))
            results.append(_apply_submit(session, state, writes, caller, item))
        else:
            # The submits so far are written first: this op reads the database as it is.
            writes.flush(session)
            writes, state = SubmitWrites(), None
            session.expire_all()
            results.append(_apply_inline(session, caller, item))
    writes.flush(session)
    return results


def _submit_run(prepared: list[_Prepared], start: int) -> tuple[list[Op], list[VisitDocument]]:
    """The submits from ``start`` up to the next op of another kind: their ops, and the documents that parse."""
    ops, docs = [], []
    for item in prepared[start:]:
        if item.refusal is not None:
            continue
        if not item.is_submit:
            break
        assert item.op is not None
        ops.append(item.op)
        if item.doc is not None:
            docs.append(item.doc)
    return ops, docs


def _apply_submit(session: Session, state: PushState, writes: SubmitWrites, caller: scope.Caller, item: _Prepared) -> dict[str, Any]:
    assert item.op is not None
    try:
        # A stored result wins over a document that no longer parses (rules may have tightened).
        duplicate = stored_answer(state, writes, caller, item.op, item.digest)
        if duplicate is not None:
            return duplicate
        if item.doc is None:
            assert item.doc_refusal is not None
            return item.doc_refusal
        return submit(session, state, writes, caller, item.op, item.doc, item.digest)
    except OpOutcome as outcome:
        return outcome.result


def _apply_inline(session: Session, caller: scope.Caller, item: _Prepared) -> dict[str, Any]:
    """An op other than a submit, in a SAVEPOINT: a refusal rolls back what it wrote, and only that."""
    op = item.op
    assert op is not None
    try:
        with session.begin_nested():
            stored = _stored(session, caller, op, item.digest)
            if stored is not None:
                return stored
            result = _HANDLERS[(op.entity, op.kind)](session, caller, op)
            session.execute(insert(_OPS).values(op_id=op.op_id, user_id=caller.id, result=result, created_at=utcnow(), digest=item.digest))
        return result
    except OpOutcome as outcome:
        # The same op may have committed from another device meanwhile: that makes it a duplicate.
        try:
            return _stored(session, caller, op, item.digest) or outcome.result
        except OpOutcome as used:
            return used.result


def _stored(session: Session, caller: scope.Caller, op: Op, digest: str) -> dict[str, Any] | None:
    """The stored result of an op applied before, as a duplicate; None when it was not."""
    row = session.execute(select(_OPS.c.user_id, _OPS.c.result, _OPS.c.digest).where(_OPS.c.op_id == op.op_id)).first()
    return as_duplicate(caller, op, digest, row.user_id, row.result, row.digest) if row is not None else None
