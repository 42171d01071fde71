"""The transactional outbox: ops waiting to be pushed, and what their results do.

An op is written in the same transaction as the local change it carries. Results
are matched by ``op_id``: a result for an op that is no longer the visit's latest
(the visit changed while the push was under way) never touches the visit.

Push results (PROTOCOL.md "Ops"):

* ``applied`` / ``duplicate``: the op leaves the outbox; a visit becomes SUBMITTED
  at the portal's version, and its photos count as uploaded. A visit already pulled at
  a later version (a lead's decision that came while the answer was lost) takes that
  version's state instead, never an older version.
* ``conflict``: the op leaves the outbox and becomes a problem; the visit keeps
  everything typed. Code ``visit_locked`` (approved meanwhile) offers AMEND;
  otherwise RETRY (on the portal's current version) or DISCARD (take the portal's).
* ``rejected`` ``blob_missing``: the named blobs are marked not uploaded and the op
  is queued again under a new ``op_id`` (the protocol wants a new op), until it has
  failed `MAX_BLOB_RETRIES` times; then it becomes a problem.
* other ``rejected``: a problem with the portal's message; the visit becomes
  editable again so the officer can correct it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Select, Table, bindparam, delete, func, select, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, load_only

from fieldapp.bulk_rows import among
from fieldapp.clock import utc_now
from fieldapp.domain import ErrorCode, OpKind, OpStatus
from fieldapp.models import BlobRow, LocalReviewRow, OutboxRow, PhotoRow, ProblemRow, VisitHistoryRow, VisitRow
from fieldapp.types import BlobRef, OutboxOp, Problem, ProblemAction, VisitState
from fieldapp.visits import new_id, take_portal_state

if TYPE_CHECKING:
    from fieldapp.wire import OpResult

log = logging.getLogger(__name__)

MAX_BLOB_RETRIES = 3


def enqueue(session: Session, *, entity: str, record_id: str, kind: str, base_version: int,
            data: Mapping[str, Any]) -> OutboxRow:
    """Add an op at the end of the queue (in the caller's transaction)."""
    op_id = new_id()
    row = OutboxRow(op_id=op_id, entity=entity, record_id=record_id, kind=kind, base_version=base_version,
                    data=dict(data), size=0, created_at=utc_now(), attempts=0)
    row.size = op_size(row)
    session.add(row)
    return row


def op_size(row: OutboxRow) -> int:
    """Bytes of the op's JSON as it goes on the wire."""
    return len(json.dumps(to_record(row, size=0).to_wire(), separators=(",", ":")).encode())


def to_record(row: OutboxRow, size: int | None = None) -> OutboxOp:
    """The frozen record of an outbox row."""
    return OutboxOp(op_id=row.op_id, entity=row.entity, id=row.record_id, kind=row.kind,
                    base_version=row.base_version, data=row.data, size=row.size if size is None else size)


def oldest(session: Session, limit: int, max_bytes: int | None) -> list[OutboxOp]:
    """The oldest ops within ``limit`` and ``max_bytes`` (always at least one, so a big op is not stuck)."""
    ops: list[OutboxOp] = []
    total = 0
    for row in session.scalars(select(OutboxRow).order_by(OutboxRow.seq).limit(max(limit, 0))):
        if max_bytes is not None and ops and total + row.size > max_bytes:
            break
        ops.append(to_record(row))
        total += row.size
    return ops


def blobs_waiting(session: Session, photos_dir: Path) -> list[BlobRef]:
    """Photo files of visits with queued ops that the portal has not confirmed, oldest op first."""
    from fieldapp.photo_files import photo_path

    rows = session.execute(
        select(PhotoRow.sha256, PhotoRow.content_type, func.min(OutboxRow.seq))
        .join(OutboxRow, (OutboxRow.record_id == PhotoRow.visit_id) & (OutboxRow.entity == "visit"))
        .outerjoin(BlobRow, BlobRow.sha256 == PhotoRow.sha256)
        .where((BlobRow.uploaded.is_(None)) | (BlobRow.uploaded.is_(False)))
        .group_by(PhotoRow.sha256)
        .order_by(func.min(OutboxRow.seq))
    ).all()
    refs: list[BlobRef] = []
    for sha256, content_type, _seq in rows:
        path = photo_path(photos_dir, sha256, content_type)
        try:
            size = path.stat().st_size
        except OSError:
            # The portal will answer blob_missing and the op becomes a problem the officer sees.
            log.error("Photo file %s of a queued visit is missing from this laptop", path)
            continue
        refs.append(BlobRef(sha256=sha256, path=path, bytes=size, content_type=content_type))
    return refs


def confirm_uploaded(session: Session, hashes: Sequence[str]) -> None:
    """The portal holds these blobs: their rows loaded a few queries per thousand, not one look-up each."""
    held = _load(session, BlobRow, BlobRow.sha256, set(hashes))
    set_uploaded(session, hashes, True)
    del held


def set_uploaded(session: Session, hashes: Sequence[str], uploaded: bool) -> None:
    """Record whether the portal holds these blobs (rows already in the session are not looked up again)."""
    for sha256 in set(hashes):
        row = session.get(BlobRow, sha256)
        if row is None:
            session.add(BlobRow(sha256=sha256, uploaded=uploaded))
        else:
            row.uploaded = uploaded


# ---------------------------------------------------------------- problems


def add_problem(session: Session, *, kind: str, entity: str, record_id: str, message: str,
                actions: Sequence[ProblemAction], details: Mapping[str, Any] | None = None) -> ProblemRow:
    """Record a problem for the officer or lead, replacing an older one about the same record."""
    clear_problems(session, entity, record_id)
    row = ProblemRow(id=new_id(), kind=kind, entity=entity, record_id=record_id, message=message,
                     actions=[a.value for a in actions], details=dict(details or {}), created_at=utc_now())
    session.add(row)
    return row


def clear_problems(session: Session, entity: str, record_id: str) -> None:
    """Forget the problems about a record (answered, or the record is gone)."""
    session.execute(delete(ProblemRow).where(ProblemRow.entity == entity, ProblemRow.record_id == record_id))


def problem_record(row: ProblemRow) -> Problem:
    """The frozen record of a problem row."""
    return Problem(id=row.id, kind=row.kind, entity=row.entity, record_id=row.record_id, message=row.message,
                   actions=tuple(ProblemAction(a) for a in row.actions), created_at=row.created_at,
                   details=dict(row.details))


# ---------------------------------------------------------------- push results


def record_results(session: Session, ops: Sequence[OutboxOp], results: Sequence[OpResult]) -> int:
    """Apply push results, one per op, matched by op_id, in the caller's one transaction.

    Returns how many ops are queued again (a photo the portal lost: upload it, push again).

    The outbox rows, their visits and their photos' blob rows are loaded a few queries per
    batch first, so a batch of a thousand results costs a handful of statements, not
    thousands of look-ups; a visit's content is no business of a result, so only the columns
    results change are read. The usual batch, every result an accepted submit of its own
    visit, is recorded in three statements (`_record_accepted_submits`).
    """
    by_op = {r.op_id: r for r in results}
    answered = [(op, by_op[op.op_id]) for op in ops if op.op_id in by_op]
    if _all_accepted_submits(answered):
        _record_accepted_submits(session, answered)
        return 0
    rows = _outbox_rows(session, [op.op_id for op in ops if op.op_id in by_op])
    sent = [op for op in ops if op.op_id in rows and op.entity == "visit"]
    # Held here: the session's identity map keeps loaded rows only while something refers to them.
    held = _load(session, VisitRow, VisitRow.id, {op.id for op in sent}, _RESULT_COLUMNS)
    held += _load(session, BlobRow, BlobRow.sha256, {h for op in sent for h in _photo_hashes(op.data)})
    queued_again = 0
    for op in ops:
        result = by_op.get(op.op_id)
        if result is None:
            continue  # not answered: stays queued for the next push
        row = rows.get(op.op_id)
        if row is None:
            continue  # already handled (a replayed batch)
        if row.entity == "visit" and row.kind == OpKind.SUMMARY_ISSUED:
            # Imported here: the summary rules queue through this module.
            from fieldapp.summaries import record_result as summary_result

            summary_result(session, row, result)
        elif row.entity == "visit":
            queued_again += _visit_result(session, row, result, _photo_hashes(op.data))
        elif row.entity == "hazard_report":
            # Imported here: the report rules queue through this module.
            from fieldapp.hazard_reports import record_result

            record_result(session, row, result)
        else:
            _review_result(session, row, result)
    del held
    return queued_again


_CHUNK = 500  # ids per IN list, well inside SQLite's parameter limit
#: What a push result changes of a visit (`_visit_result`); its content stays unread.
_RESULT_COLUMNS = (VisitRow.state, VisitRow.server_version, VisitRow.op_id, VisitRow.local_edits)


def _photo_hashes(data: Mapping[str, Any]) -> list[str]:
    return [photo["sha256"] for photo in data.get("photos") or () if "sha256" in photo]


def _all_accepted_submits(answered: Sequence[tuple[OutboxOp, OpResult]]) -> bool:
    """Whether every result accepts a visit submit, no two of them about the same visit."""
    return bool(answered) and (all(op.entity == "visit" and op.kind == OpKind.SUBMIT and result.accepted for op, result in answered)
            and len({op.id for op, _result in answered}) == len(answered))


def _record_accepted_submits(session: Session, answered: Sequence[tuple[OutboxOp, OpResult]]) -> None:
    """`_visit_result` for accepted submits, set-based: ops deleted, visits submitted, their photos uploaded.

    A visit changes only while the op is still its latest submit (``op_id`` matches), as in
    `_latest_op_visit`; an op already recorded (a replayed batch) is gone and changes nothing.
    """
    op_ids = [op.op_id for op, _result in answered]
    session.execute(delete(OutboxRow).where(among(OutboxRow.op_id, op_ids)), execution_options={"synchronize_session": False})
    visits = cast(Table, VisitRow.__table__)
    version: Any = func.coalesce(bindparam("b_version"), visits.c.server_version)
    session.connection().execute(
        update(visits).where(visits.c.id == bindparam("b_id"), visits.c.op_id == bindparam("b_op"),
                             visits.c.server_version <= version)
        .values(_submitted_as_sent(version)),
        [{"b_id": op.id, "b_op": op.op_id, "b_version": result.version or None} for op, result in answered])
    # Left with their op: visits the portal changed after applying it (`_take_later_pulled`); rare, so one by one.
    for visit in session.scalars(select(VisitRow).where(among(VisitRow.op_id, op_ids))):
        _take_later_pulled(session, visit)
    hashes = sorted({h for op, _result in answered for h in _photo_hashes(op.data)})
    if hashes:
        blobs = sqlite_insert(cast(Table, BlobRow.__table__))
        session.connection().execute(blobs.on_conflict_do_update(index_elements=["sha256"], set_={"uploaded": True}),
                                     [{"sha256": h, "uploaded": True} for h in hashes])


def _take_later_pulled(session: Session, visit: VisitRow) -> None:
    """An accepted submit whose visit the portal changed since applying it: the visit takes the later version's state.

    Only a lost answer does this: the op was applied, a lead returned (or approved) the
    visit, the pull brought that version while the op was still queued here (so it kept
    the visit as it was, see `sync_apply`), and the replayed push answers ``duplicate``
    with the op's old version. Marking the visit submitted at that version would hide the
    lead's decision for good (the cursor is past it). The visit's content is what the op
    sent, so only its state is taken, from the pulled version in ``visit_history``, as the
    pull takes it (`take_portal_state`: changed now, and waiting for review from now if submitted).
    """
    status = session.scalar(select(VisitHistoryRow.status).where(
        VisitHistoryRow.visit_id == visit.id, VisitHistoryRow.version == visit.server_version))
    take_portal_state(visit, status, utc_now())
    visit.op_id = None
    visit.local_edits = False


def _submitted_as_sent(server_version: Any) -> dict[str, Any]:
    """A visit's columns once the portal accepted its latest submit: submitted, as sent, at the portal's version.

    ``server_version`` is the result's version, else the visit's own (a value, or a SQL
    expression for the set-based recording). The one definition both recordings use.
    """
    return {"state": VisitState.SUBMITTED.value, "op_id": None, "local_edits": False, "server_version": server_version}


def _outbox_rows(session: Session, op_ids: Sequence[str]) -> dict[str, OutboxRow]:
    rows: dict[str, OutboxRow] = {}
    for start in range(0, len(op_ids), _CHUNK):
        rows.update((row.op_id, row) for row in session.scalars(
            select(OutboxRow).where(OutboxRow.op_id.in_(op_ids[start:start + _CHUNK]))))
    return rows


def _load(session: Session, model: type, key: Any, ids: set[str], columns: Sequence[Any] = ()) -> list[Any]:
    """Bring these rows into the session, so the ``session.get`` calls of the result rules need no query.

    With ``columns``, only those (and the key) are read; any other loads when first used.
    """
    wanted = sorted(ids)
    query: Select[Any] = select(model).options(load_only(*columns)) if columns else select(model)
    loaded: list[Any] = []
    for start in range(0, len(wanted), _CHUNK):
        loaded += session.scalars(query.where(key.in_(wanted[start:start + _CHUNK])))
    return loaded


def op_error(result: OpResult, refused: str = "The portal refused this change.") -> tuple[str, str, dict[str, Any]]:
    """(code, message, details) of a refused op's result; ``refused`` when the portal gave no message."""
    if result.error is None:
        return "", refused, {}
    return result.error.code, result.error.message or refused, dict(result.error.details)


def _latest_op_visit(session: Session, row: OutboxRow) -> VisitRow | None:
    """The visit, only if this op still carries its latest submit."""
    visit = session.get(VisitRow, row.record_id)
    if visit is None or visit.op_id != row.op_id:
        return None
    return visit


def _reopen(visit: VisitRow) -> None:
    # Editable again, so the officer can correct it and submit it once more.
    visit.state = VisitState.RETURNED.value if visit.server_version else VisitState.DRAFT.value
    visit.op_id = None
    visit.local_edits = True


def _visit_result(session: Session, row: OutboxRow, result: OpResult, hashes: Sequence[str]) -> bool:
    """Whether the op is queued again (blob_missing, tries left); ``hashes`` are its photos'."""
    visit = _latest_op_visit(session, row)
    status = result.status
    if result.accepted:
        session.delete(row)
        # The portal holds every photo of an accepted submit, whether or not the visit still carries it.
        set_uploaded(session, hashes, True)
        if visit is not None and result.version and visit.server_version > result.version:
            _take_later_pulled(session, visit)
        elif visit is not None:
            for column, value in _submitted_as_sent(result.version or visit.server_version).items():
                setattr(visit, column, value)
        return False
    code, message, details = op_error(result)
    if status == OpStatus.REJECTED and code == ErrorCode.BLOB_MISSING and row.attempts + 1 < MAX_BLOB_RETRIES:
        set_uploaded(session, list(details.get("hashes") or []), False)
        row.attempts += 1
        row.op_id = new_id()
        row.size = op_size(row)
        if visit is not None:
            visit.op_id = row.op_id
        return True
    session.delete(row)
    if visit is None:
        return False
    current = result.current
    if status == OpStatus.CONFLICT:
        if current and isinstance(current.get("version"), int):
            visit.server_version = current["version"]
        elif result.version:
            visit.server_version = result.version
        if code == ErrorCode.VISIT_LOCKED:
            visit.state = VisitState.APPROVED.value
            visit.op_id = None
            visit.local_edits = True  # what was typed stays until the officer files the amendment
            add_problem(session, kind="visit_locked", entity="visit", record_id=visit.id,
                        message=("This visit was approved before your changes reached the portal. "
                                 "File an amendment to send them."),
                        actions=(ProblemAction.AMEND,), details={"current": current, "code": code})
        else:
            _reopen(visit)
            add_problem(session, kind="conflict", entity="visit", record_id=visit.id,
                        message=("This visit changed on the portal since you last synced. Send yours again "
                                 "on top of the portal's version, or discard your changes and keep the portal's."),
                        actions=(ProblemAction.RETRY, ProblemAction.DISCARD),
                        details={"current": current, "code": code})
        return False
    _reopen(visit)
    if code == ErrorCode.BLOB_MISSING:
        add_problem(session, kind="blob_missing", entity="visit", record_id=visit.id,
                    message=("Photos of this visit did not reach the portal after several tries. "
                             "Check the photos are still attached, then submit again."),
                    actions=(ProblemAction.RETRY, ProblemAction.DISMISS), details=details)
    elif code == ErrorCode.NOT_FOUND:
        # The case left the officer's scope (reassigned or closed): nothing to correct. The visit
        # is kept until the officer discards it, and until then it keeps its case on the laptop.
        add_problem(session, kind="rejected", entity="visit", record_id=visit.id,
                    message=(f"The portal refused this visit: {message} The case may have been reassigned "
                             "or closed; tell your team lead, then discard the visit here."),
                    actions=(ProblemAction.DISMISS, ProblemAction.DISCARD), details={"code": code, **details})
    else:
        add_problem(session, kind="rejected", entity="visit", record_id=visit.id,
                    message=f"The portal refused this visit: {message} Correct it and submit again.",
                    actions=(ProblemAction.DISMISS,), details={"code": code, **details})
    return False


def _review_result(session: Session, row: OutboxRow, result: OpResult) -> None:
    session.delete(row)
    review = session.get(LocalReviewRow, row.record_id)
    if result.accepted:
        if review is not None:
            review.sent = True
        return
    code, message, details = op_error(result)
    visit_id = str(row.data.get("visit_id", ""))
    if result.status == OpStatus.CONFLICT:
        text = ("This visit was no longer waiting for review when your decision arrived "
                "(another decision or a resubmission came first). Look at it again in the review queue.")
        kind = "conflict"
    else:
        text = f"The portal refused your decision: {message}"
        kind = "rejected"
    add_problem(session, kind=kind, entity="review", record_id=row.record_id, message=text,
                actions=(ProblemAction.DISMISS,),
                details={"visit_id": visit_id, "decision": row.data.get("decision"),
                         "comment": row.data.get("comment", ""), "code": code, **details})
    if review is not None:
        session.delete(review)  # the visit shows in the queue again, as the portal now has it


def pending_counts(session: Session, photos_dir: Path) -> tuple[int, int, int, int, int, int]:
    """(visits, reviews, photos, bytes, hazard reports, summaries issued) waiting to be sent."""
    counts = {(entity, kind): count for entity, kind, count in session.execute(
        select(OutboxRow.entity, OutboxRow.kind, func.count()).group_by(OutboxRow.entity, OutboxRow.kind))}
    by_entity: dict[str, int] = {}
    for (entity, _kind), count in counts.items():
        by_entity[entity] = by_entity.get(entity, 0) + count
    summaries = counts.get(("visit", OpKind.SUMMARY_ISSUED.value), 0)
    blobs = blobs_waiting(session, photos_dir)
    return (by_entity.get("visit", 0) - summaries, by_entity.get("review", 0), len(blobs),
            sum(b.bytes for b in blobs), by_entity.get("hazard_report", 0), summaries)


def drop_visit_ops(session: Session, visit_id: str) -> None:
    """Remove any queued submit of a visit (its content is about to be queued again or replaced).

    A queued summary_issued stays: the summary went out whatever the visit's content becomes.
    """
    session.execute(delete(OutboxRow).where(OutboxRow.record_id == visit_id, OutboxRow.entity == "visit",
                                            OutboxRow.kind == OpKind.SUBMIT))
    session.execute(update(VisitRow).where(VisitRow.id == visit_id).values(op_id=None))
