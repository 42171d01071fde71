"""Push: apply a device's ops in order, each in its own transaction, idempotent by op_id.

An applied op's result is stored under its ``op_id`` with the digest of its content; a
replay with the same content returns it again with status ``duplicate``, one with
other content is ``rejected`` ``op_id_reused`` (its content would otherwise be dropped
unseen). Conflicts and rejections are not stored: they change nothing and evaluate the
same way again.
"""

from __future__ import annotations

import hashlib
import json
import threading
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from sqlalchemy import Connection, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal.core.db import Database
from portal.errors import ApiError, field_errors, not_found
from portal.models import OpRow, ReviewRow, TemplateRow, UserRow, VisitRow
from portal.services import scope, summary, webhooks
from portal.services.blobs import held
from portal.services.case_clocks import investigation_values, locked_with_plan
from portal.services.hazard_reports import create_from_report
from portal.services.records import public
from portal.services.sequence import stamp, utcnow
from portal.services.submit_commit import SubmitWrite, commit_submit, is_markable
from portal.services.submit_lookup import lookup
from portal.services.visit_rules import stored_document, visit_problems
from sync.protocol import (
    UNSTORABLE,
    DecideData,
    Decision,
    ErrorCode,
    HazardReportData,
    Op,
    Outcome,
    SummaryIssuedData,
    VisitDocument,
    VisitStatus,
    format_timestamp,
    submitted_in_chain,
    utc_now,
)


class OpOutcome(Exception):
    """Ends an op early with a conflict or a rejection (the transaction rolls back)."""

    def __init__(self, result: dict[str, Any]) -> None:
        super().__init__(result.get("status"))
        self.result = result


def _rejected(op_id: str, code: str, message: str, details: dict[str, Any] | None = None) -> OpOutcome:
    return OpOutcome({"op_id": op_id, "status": "rejected", "error": {"code": code, "message": message, "details": details or {}}})


def _conflict(op_id: str, code: str, message: str, current: dict[str, Any] | None) -> OpOutcome:
    return OpOutcome({
        "op_id": op_id, "status": "conflict", "current": current,
        "error": {"code": code, "message": message, "details": {}},
    })


_Model = TypeVar("_Model", bound=BaseModel)


def _parse(model: type[_Model], data: Any, op_id: str, what: str) -> _Model:
    """Validate with the protocol model; a bad value rejects the op naming each field.

    The code is invalid_request, or invalid_answers for a value no database can store
    (NUL in text, an integer beyond 64 bits: PROTOCOL revision 2).
    """
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors()
        if any(err.get("type") == UNSTORABLE for err in errors):
            # Named as in the op's data (an answer's question id, "notes"), as invalid_answers names them.
            questions = {str(err["ctx"]["field"]).removeprefix("data."): str(err["ctx"]["reason"]) for err in errors if err.get("type") == UNSTORABLE}
            raise _rejected(op_id, ErrorCode.INVALID_ANSWERS, f"Some values cannot be stored: {', '.join(sorted(questions))}.", {"questions": questions}) from None
        fields = field_errors(errors)
        raise _rejected(op_id, ErrorCode.INVALID_REQUEST, f"The {what} is not valid; correct: {', '.join(sorted(fields))}.", {"fields": fields}) from None


def op_digest(op: Op) -> str:
    """SHA-256 of the op's content (all but its op_id), as canonical JSON."""
    content = {"entity": op.entity, "id": op.id, "kind": op.kind, "base_version": op.base_version, "data": op.data}
    return hashlib.sha256(json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()).hexdigest()


def _not_found(op_id: str, what: str) -> OpOutcome:
    err = not_found(what)
    return _rejected(op_id, err.code, err.message)


# Templates are never changed once created (a new version is a new template), so
# their data can be kept per process.
_TEMPLATES: dict[str, dict[str, Any]] = {}
_TEMPLATES_LOCK = threading.Lock()


def _template_data(session: Session, template_id: str) -> dict[str, Any] | None:
    with _TEMPLATES_LOCK:
        cached = _TEMPLATES.get(template_id)
    if cached is not None:
        return cached
    template = session.get(TemplateRow, template_id)
    if template is None:
        return None
    with _TEMPLATES_LOCK:
        _TEMPLATES[template_id] = template.data()
    return _TEMPLATES[template_id]


_VISITS = VisitRow.__table__
_OPS = OpRow.__table__


def _visit_public(row: Any) -> dict[str, Any]:
    """A visits row as ``public`` gives a Visit (for conflicts), without loading the ORM object."""
    return {"id": row.id, "version": row.version, "seq": row.seq, **row.document, "status": row.status, "review": row.review,
            "summary_issued": row.summary_issued}


def _submit(session: Session, caller: scope.Caller, op: Op) -> dict[str, Any]:
    # Core statements (and on PostgreSQL two pipelines: submit_lookup, submit_commit):
    # this is the hot path of every push, and the ORM's unit of work cost more than the
    # validation itself.
    doc = _parse(VisitDocument, op.data, op.op_id, "visit")
    found = lookup(session, caller, op_id=op.op_id, visit_id=op.id, case_id=doc.case_id)
    # (A doc that no longer parses is answered from the stored result by _apply_one.)
    stored = _as_duplicate(caller, op, found.stored_user_id, found.stored_result, found.stored_digest)
    if stored is not None:
        return stored
    if found.case_status is None or doc.officer_id != caller.id:
        raise _not_found(op.op_id, "case")
    visit = None
    if found.visit_exists:
        # The row lock makes a concurrent submit of the same visit wait and then see this
        # one; a new visit needs none (a concurrent insert fails on the key and is retried).
        visit = session.execute(select(_VISITS).where(_VISITS.c.id == op.id).with_for_update()).first()
    if visit is not None:
        if visit.officer_id != caller.id:
            raise _not_found(op.op_id, "visit")
        if visit.status == VisitStatus.APPROVED:
            raise _conflict(op.op_id, ErrorCode.VISIT_LOCKED, "This visit was approved and is locked; record an amendment as a new visit.", _visit_public(visit))
        if op.base_version != visit.version:
            raise _conflict(op.op_id, ErrorCode.CONFLICT, "The visit changed on the portal since you last saw it; review the current version.", _visit_public(visit))
    elif op.base_version != 0:
        raise _conflict(op.op_id, ErrorCode.CONFLICT, "The portal has no earlier version of this visit; submit it with base_version 0.", None)
    if doc.amends is not None and session.scalar(select(VisitRow.id).where(VisitRow.id == doc.amends, scope.visit_filter(caller))) is None:
        raise _not_found(op.op_id, "visit to amend")
    template = _template_data(session, doc.template_id)
    if template is None:
        raise _rejected(op.op_id, ErrorCode.INVALID_ANSWERS, "The visit's template does not exist on the portal.", {"fields": {"template_id": "unknown template"}})
    problems = visit_problems(session, template, doc, awaab=found.case_awaab)
    if problems:
        raise _rejected(op.op_id, ErrorCode.INVALID_ANSWERS, f"Some answers are not valid: {', '.join(sorted(problems))}.", {"questions": problems})
    hashes = sorted({p.sha256 for p in doc.photos})
    # Possession (revision 2): only blobs the caller uploaded or already sees in a visit.
    have = held(session, caller, hashes, lock=True)
    missing = [h for h in hashes if h not in have]
    if missing:
        raise _rejected(op.op_id, ErrorCode.BLOB_MISSING, "Some photos have not reached the portal; upload them and push again.", {"hashes": missing})
    document = stored_document(template, doc)
    write = SubmitWrite(
        op_id=op.op_id, digest=op_digest(op), user_id=caller.id, visit_id=op.id, case_id=doc.case_id,
        version=1 if visit is None else visit.version + 1, document=document, hashes=hashes,
        # The case now has a visit on record; its holders pull the new status.
        mark_case=is_markable(found.case_status),
        case_clocks=_concluded_investigation(session, op, doc, document) if found.case_awaab else None,
    )
    seq = commit_submit(session, write, existed=visit is not None)
    return {"op_id": op.op_id, "status": "applied", "version": write.version, "seq": seq}


def _concluded_investigation(session: Session, op: Op, doc: VisitDocument, document: dict[str, Any]) -> dict[str, Any] | None:
    """The case's new clocks when this completed, assessed visit concludes its investigation, else None."""
    if doc.outcome != Outcome.COMPLETED or doc.assessment is None:
        return None
    # Locked: a concurrent re-triage of the case waits, and then recomputes from this.
    found = locked_with_plan(session, doc.case_id)
    if found is None:
        return None
    case, plan = found
    return investigation_values(session, case, op.id, doc.amends, document, utc_now(), plan=plan)


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
    body = _parse(DecideData, op.data, op.op_id, "decision")
    visit = session.get(VisitRow, body.visit_id, with_for_update=True)
    officer = session.get(UserRow, visit.officer_id) if visit else None
    if visit is None or officer is None or not caller.is_lead or officer.team_id != caller.team_id:
        raise _not_found(op.op_id, "visit")
    if submitted_by(session, visit, caller.id):
        raise _rejected(
            op.op_id, ErrorCode.OWN_VISIT,
            "You submitted this visit (or the visit it amends); another lead of your team must decide it.",
        )
    if body.decision == Decision.RETURN and not body.comment.strip():
        raise _rejected(op.op_id, ErrorCode.INVALID_REQUEST, "Say what the officer must change: returning a visit needs a comment.", {"fields": {"comment": "required to return a visit"}})
    if session.get(ReviewRow, op.id) is not None:
        raise _rejected(op.op_id, ErrorCode.INVALID_REQUEST, "This review id is already used; decide again with a new id.", {"fields": {"id": "used"}})
    if visit.status != VisitStatus.SUBMITTED:
        raise _conflict(op.op_id, ErrorCode.CONFLICT, f"This visit is {visit.status}, not awaiting review.", public(visit))
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
    body = _parse(SummaryIssuedData, op.data, op.op_id, "summary_issued")
    visit = session.get(VisitRow, op.id, with_for_update=True)
    if visit is None or not summary.may_record(session, caller, visit):
        raise _not_found(op.op_id, "visit")
    if op.base_version != visit.version:
        raise _conflict(op.op_id, ErrorCode.CONFLICT, "The visit changed on the portal since you last saw it; send it again on its current version.", public(visit))
    try:
        summary.record_issued(session, caller.id, visit, body)
    except summary.SummaryRefused as refused:
        if refused.status == "conflict":
            raise _conflict(op.op_id, refused.code, refused.message, public(visit)) from None
        raise _rejected(op.op_id, refused.code, refused.message, {"fields": refused.fields}) from None
    return {"op_id": op.op_id, "status": "applied", "version": visit.version, "seq": visit.seq}


def _hazard_report(session: Session, caller: scope.Caller, op: Op) -> dict[str, Any]:
    body = _parse(HazardReportData, op.data, op.op_id, "hazard report")
    if op.base_version != 0:
        raise _conflict(op.op_id, ErrorCode.CONFLICT, "A hazard report creates a new case: push it with base_version 0.", None)
    try:
        case = create_from_report(session, caller, op.id, body)
    except ApiError as err:
        raise _rejected(op.op_id, err.code, err.message, err.details) from None
    return {"op_id": op.op_id, "status": "applied", "version": case.version, "seq": case.seq}



_HANDLERS = {
    ("visit", "submit"): _submit, ("review", "decide"): _decide, ("visit", "summary_issued"): _summary_issued,
    ("hazard_report", "create"): _hazard_report,
}
#: Handlers that store their op's result and commit themselves (see ``commit_submit``).
_SELF_RECORDING = {_submit}
#: Handlers that look up the op's stored result themselves (in their first query).
_SELF_CHECKING = {_submit}
_ATTEMPTS = 3


def _apply_one(db: Database, connection: Connection, caller: scope.Caller, raw: Any) -> dict[str, Any]:
    op_id = str(raw.get("op_id", "")) if isinstance(raw, dict) else ""
    try:
        op = _parse(Op, raw, op_id, "op")
    except OpOutcome as outcome:
        return outcome.result
    handler = _HANDLERS.get((op.entity, op.kind))
    if handler is None:
        return _rejected(op.op_id, ErrorCode.INVALID_REQUEST, f"Ops of kind {op.kind!r} do not apply to {op.entity!r}.", {"fields": {"kind": "not valid for this entity"}}).result
    for attempt in range(_ATTEMPTS):
        try:
            with db.write(serialise=False, connection=connection) as session:
                stored = None if handler in _SELF_CHECKING else _stored(session, caller, op)
                if stored is not None:
                    return stored
                result = handler(session, caller, op)
                if handler not in _SELF_RECORDING:
                    session.add(OpRow(op_id=op.op_id, user_id=caller.id, result=result, created_at=utcnow(), digest=op_digest(op)))
            return result
        except OpOutcome as outcome:
            # The same op may have committed from another device meanwhile: that makes it a duplicate.
            try:
                with db.plain() as session:
                    return _stored(session, caller, op) or outcome.result
            except OpOutcome as used:
                return used.result
        except IntegrityError:
            # A concurrent push of the same op or visit committed first: evaluate again,
            # now seeing it (duplicate or conflict).
            if attempt == _ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


def _stored(session: Session, caller: scope.Caller, op: Op) -> dict[str, Any] | None:
    """The stored result of an op applied before, as a duplicate; None when it was not."""
    row = session.execute(select(_OPS.c.user_id, _OPS.c.result, _OPS.c.digest).where(_OPS.c.op_id == op.op_id)).first()
    return _as_duplicate(caller, op, row.user_id, row.result, row.digest) if row is not None else None


def _as_duplicate(
    caller: scope.Caller, op: Op, user_id: str | None, result: dict[str, Any] | None, digest: str | None,
) -> dict[str, Any] | None:
    if user_id is None or result is None:
        return None
    # Results stored before digests were kept (digest NULL) are taken on trust.
    if user_id != caller.id or (digest is not None and digest != op_digest(op)):
        raise _rejected(
            op.op_id, ErrorCode.OP_ID_REUSED,
            "This op_id was already used for other content; the portal kept the first. Push the new content with a new op_id.",
            {"fields": {"op_id": "used for other content"}},
        )
    return {**result, "status": "duplicate"}


def push(db: Database, caller: scope.Caller, ops: list[Any]) -> list[dict[str, Any]]:
    """One result per op, in order."""
    # Each op is its own transaction, all on one pooled connection: one checkout (and
    # liveness ping) per push, not per op.
    with db.write_connection() as connection:
        return [_apply_one(db, connection, caller, raw) for raw in ops]
