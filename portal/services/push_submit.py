"""A visit submit op (PROTOCOL "Ops", revision 2 included), decided against a push's loaded state.

The rules are checked in memory against ``PushState`` (read once per push, under row
locks); an accepted submit goes to ``SubmitWrites`` and into the state, so the push's
later ops see it. Nothing here writes to the database: a refused op leaves no trace.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from sqlalchemy.orm import Session

from portal.services import scope, webhooks
from portal.services.case_clocks import investigation_values
from portal.services.push_outcomes import OpOutcome, as_duplicate, conflict, not_found_outcome, rejected
from portal.services.push_state import PushState, visit_public
from portal.services.submit_writes import SubmitWrites
from portal.services.visit_rules import stored_document, visit_problems
from sync.protocol import ErrorCode, Op, Outcome, VisitDocument, VisitStatus, utc_now

_MARKABLE = ("open", "scheduled")


def stored_answer(state: PushState, writes: SubmitWrites, caller: scope.Caller, op: Op, digest: str) -> dict[str, Any] | None:
    """The op's stored result as a duplicate (this push's own included), or None when it was never applied."""
    stored = state.stored.get(op.op_id)
    if stored is None:
        return None
    duplicate = as_duplicate(caller, op, digest, stored.user_id, stored.result, stored.digest)
    if duplicate is not None:
        writes.echo(op.op_id, duplicate)
    return duplicate


def submit(
    session: Session, state: PushState, writes: SubmitWrites, caller: scope.Caller, op: Op, doc: VisitDocument, digest: str,
) -> dict[str, Any]:
    """Apply one submit (its stored result already looked for); OpOutcome when it is refused."""
    case = state.cases.get(doc.case_id)
    if case is None or doc.officer_id != caller.id:
        raise not_found_outcome(op.op_id, "case")
    visit = state.visits.get(op.id)
    if visit is not None:
        if visit.officer_id != caller.id:
            raise not_found_outcome(op.op_id, "visit")
        if visit.status == VisitStatus.APPROVED:
            raise _conflict_with(writes, op, ErrorCode.VISIT_LOCKED, "This visit was approved and is locked; record an amendment as a new visit.", visit)
        if op.base_version != visit.version:
            raise _conflict_with(writes, op, ErrorCode.CONFLICT, "The visit changed on the portal since you last saw it; review the current version.", visit)
    elif op.base_version != 0:
        raise conflict(op.op_id, ErrorCode.CONFLICT, "The portal has no earlier version of this visit; submit it with base_version 0.", None)
    if doc.amends is not None and doc.amends not in state.amendable:
        raise not_found_outcome(op.op_id, "visit to amend")
    template = state.templates.get(doc.template_id)
    if template is None:
        raise rejected(op.op_id, ErrorCode.INVALID_ANSWERS, "The visit's template does not exist on the portal.", {"fields": {"template_id": "unknown template"}})
    problems = visit_problems(session, template, doc, awaab=bool(case.awaab))
    if problems:
        raise rejected(op.op_id, ErrorCode.INVALID_ANSWERS, f"Some answers are not valid: {', '.join(sorted(problems))}.", {"questions": problems})
    hashes = sorted({p.sha256 for p in doc.photos})
    missing = [h for h in hashes if h not in state.blobs]
    if missing:
        raise rejected(op.op_id, ErrorCode.BLOB_MISSING, "Some photos have not reached the portal; upload them and push again.", {"hashes": missing})
    document = stored_document(template, doc)
    new_visit = SimpleNamespace(
        id=op.id, version=1 if visit is None else visit.version + 1, seq=0, case_id=doc.case_id, officer_id=caller.id,
        document=document, status=VisitStatus.SUBMITTED.value, review=None, summary_issued=None if visit is None else visit.summary_issued,
    )
    new_case, clocks_changed = _case_after(session, state, case, op, doc, document)
    result: dict[str, Any] = {"op_id": op.op_id, "status": "applied", "version": new_visit.version, "seq": None}
    writes.add(
        op_id=op.op_id, user_id=caller.id, digest=digest, result=result, visit=new_visit, existed=visit is not None,
        hashes=hashes, case=new_case, case_changed=new_case is not case, clocks_changed=clocks_changed,
        event=webhooks.submitted(op.id, doc.case_id, caller.id, new_visit.version, document),
    )
    state.applied(op.op_id, caller.id, result, digest, new_visit, new_case)
    return result


def _conflict_with(writes: SubmitWrites, op: Op, code: str, message: str, visit: Any) -> OpOutcome:
    current = visit_public(visit)
    writes.current(current)
    return conflict(op.op_id, code, message, current)


def _case_after(session: Session, state: PushState, case: Any, op: Op, doc: VisitDocument, document: dict[str, Any]) -> tuple[Any, bool]:
    """The case as this submit leaves it (``case`` itself when unchanged), and whether its clocks changed.

    The case now has a visit on record (open or scheduled becomes visited; its holders
    pull the new status); a completed, assessed visit of an Awaab's Law case concludes
    (or revises) its investigation, and the case's clocks are recomputed.
    """
    clocks = None
    if case.awaab and doc.outcome == Outcome.COMPLETED and doc.assessment is not None:
        clocks = investigation_values(session, case, op.id, doc.amends, document, utc_now(), plan=state.plan(session))
    markable = case.status in _MARKABLE
    if clocks is None and not markable:
        return case, False
    changed = SimpleNamespace(**vars(case))
    changed.status = "visited" if markable else case.status
    changed.version = case.version + 1
    if clocks is not None:
        for name, value in clocks.items():
            setattr(changed, name, value)
    return changed, clocks is not None
