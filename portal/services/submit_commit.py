"""The writing end of a visit submit: store the visit, take its seq, record the op, commit.

Everything a submit reads and checks happens before ``commit_submit``; this module only
writes. On PostgreSQL (psycopg) the writes, the counter increment and ``COMMIT`` go to
the server as one pipeline: the counter lock (which makes seq order commit order) is
then held for the server's own work only, never across a round trip to a portal
process, where a busy interpreter could keep every other writer waiting for
milliseconds. Elsewhere (SQLite, whose writer holds the database lock from
``BEGIN IMMEDIATE`` anyway) the same writes run as ordinary statements.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, case, delete, insert, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal.core.db import SEQ_COUNTER, psycopg_connection
from portal.models import CaseRow, OpRow, VisitBlobRow, VisitRow
from portal.services import webhooks
from portal.services.sequence import next_seq, utcnow
from sync.protocol import VisitStatus

_VISITS = cast(Table, VisitRow.__table__)
_VISIT_BLOBS = cast(Table, VisitBlobRow.__table__)
_CASES = cast(Table, CaseRow.__table__)
_OPS = cast(Table, OpRow.__table__)
_MARKABLE = ("open", "scheduled")


@dataclass(frozen=True)
class SubmitWrite:
    """What an accepted submit writes."""

    op_id: str
    #: ``push.op_digest`` of the op: a replay with other content is told apart by it.
    digest: str
    user_id: str
    visit_id: str
    case_id: str
    #: The visit's new version: 1 for a new visit.
    version: int
    document: dict[str, Any]
    hashes: list[str]
    #: Move the case from open/scheduled to visited (it takes the seq before the visit's).
    mark_case: bool
    #: The case's new clock columns (investigation, clocks, awaab, due_at) when the visit
    #: concludes its investigation (portal/services/case_clocks.py); the case then
    #: changes (version, seq) whatever its status.
    case_clocks: dict[str, Any] | None = None

    def event(self) -> webhooks.Emission:
        """The ``visit.submitted`` event this submit writes into the webhook outbox, in its transaction."""
        return webhooks.submitted(self.visit_id, self.case_id, self.user_id, self.version, self.document)


_PG_INSERT_VISIT = """
INSERT INTO visits (id, version, seq, case_id, officer_id, document, status, review)
VALUES (%(visit_id)s, %(version)s, 0, %(case_id)s, %(user_id)s, %(document)s, %(status)s, NULL)
"""
_PG_UPDATE_VISIT = """
UPDATE visits SET version = %(version)s, case_id = %(case_id)s, document = %(document)s, status = %(status)s, review = NULL
WHERE id = %(visit_id)s
"""
_PG_CLEAR_BLOBS = "DELETE FROM visit_blobs WHERE visit_id = %(visit_id)s"
_PG_INSERT_BLOBS = "INSERT INTO visit_blobs (visit_id, sha256) SELECT %(visit_id)s, unnest(%(hashes)s::text[])"
# Takes the counter lock: from here to COMMIT nothing waits on this process.
_PG_MARK_VISITED = """
WITH next_seq AS (UPDATE counters SET value = value + 1 WHERE name = %(counter)s RETURNING value)
UPDATE cases SET status = 'visited', version = version + 1, seq = (SELECT value FROM next_seq)
WHERE id = %(case_id)s AND status IN ('open', 'scheduled')
"""
_PG_SET_CLOCKS = """
WITH next_seq AS (UPDATE counters SET value = value + 1 WHERE name = %(counter)s RETURNING value)
UPDATE cases SET status = CASE WHEN status IN ('open', 'scheduled') THEN 'visited' ELSE status END,
    investigation = %(investigation)s, clocks = %(clocks)s, awaab = %(awaab)s, due_at = %(due_at)s,
    version = version + 1, seq = (SELECT value FROM next_seq)
WHERE id = %(case_id)s
"""
_PG_STAMP_AND_RECORD = """
WITH next_seq AS (UPDATE counters SET value = value + 1 WHERE name = %(counter)s RETURNING value),
stamped AS (UPDATE visits SET seq = (SELECT value FROM next_seq) WHERE id = %(visit_id)s RETURNING seq)
INSERT INTO op_results (op_id, user_id, result, created_at, digest)
SELECT %(op_id)s::text, %(user_id)s::text,
       json_build_object('op_id', %(op_id)s::text, 'status', 'applied', 'version', %(version)s::int, 'seq', stamped.seq),
       %(now)s, %(digest)s::text
FROM stamped
RETURNING (result ->> 'seq')::bigint
"""


def commit_submit(session: Session, write: SubmitWrite, *, existed: bool) -> int:
    """Write the visit (``existed``: replace the stored one), stamp it, store the op result, commit; the seq."""
    dialect = session.get_bind().dialect
    if dialect.name == "postgresql" and dialect.driver == "psycopg":
        return _commit_pipelined(session, write, existed)
    return _commit_portable(session, write, existed)


def _commit_pipelined(session: Session, write: SubmitWrite, existed: bool) -> int:
    import psycopg  # the PostgreSQL driver; SQLite deployments need not have it
    from psycopg.types.json import Json

    raw = psycopg_connection(session)
    event = write.event()
    params = {
        "counter": SEQ_COUNTER, "op_id": write.op_id, "digest": write.digest, "user_id": write.user_id, "visit_id": write.visit_id,
        "case_id": write.case_id, "version": write.version, "document": Json(write.document),
        "status": VisitStatus.SUBMITTED.value, "hashes": write.hashes, "now": utcnow(),
        "event_id": event.id, "event_type": str(event.type), "event_data": Json(event.data),
    }
    try:
        with raw.pipeline():
            if existed:
                raw.execute(_PG_UPDATE_VISIT, params)
                raw.execute(_PG_CLEAR_BLOBS, params)
            else:
                raw.execute(_PG_INSERT_VISIT, params)
            if write.hashes:
                raw.execute(_PG_INSERT_BLOBS, params)
            if write.case_clocks is not None:
                clocks = write.case_clocks
                raw.execute(_PG_SET_CLOCKS, {
                    **params, "investigation": Json(clocks["investigation"]), "clocks": Json(clocks["clocks"]),
                    "awaab": clocks["awaab"], "due_at": clocks["due_at"],
                })
            elif write.mark_case:
                raw.execute(_PG_MARK_VISITED, params)
            raw.execute(webhooks.PG_INSERT_EVENT, params)
            cursor = raw.execute(_PG_STAMP_AND_RECORD, params)
            raw.commit()
    except psycopg.IntegrityError as exc:
        # A concurrent push of the same op or visit committed first; the caller evaluates again.
        raise IntegrityError(_PG_STAMP_AND_RECORD, params, exc, hide_parameters=True) from exc
    row = cursor.fetchone()
    assert row is not None  # RETURNING gives the stamped row
    # The session's own COMMIT on leaving its block finds no open transaction: a no-op.
    return int(row[0])


def _commit_portable(session: Session, write: SubmitWrite, existed: bool) -> int:
    values = {"case_id": write.case_id, "document": write.document, "status": VisitStatus.SUBMITTED.value, "review": None}
    if existed:
        session.execute(update(_VISITS).where(_VISITS.c.id == write.visit_id).values(version=write.version, **values))
        session.execute(delete(_VISIT_BLOBS).where(_VISIT_BLOBS.c.visit_id == write.visit_id))
    else:
        session.execute(insert(_VISITS).values(id=write.visit_id, officer_id=write.user_id, version=write.version, seq=0, **values))
    if write.hashes:
        session.execute(insert(_VISIT_BLOBS), [{"visit_id": write.visit_id, "sha256": sha} for sha in write.hashes])
    if write.case_clocks is not None:
        status = case((_CASES.c.status.in_(_MARKABLE), "visited"), else_=_CASES.c.status)
        session.execute(
            update(_CASES).where(_CASES.c.id == write.case_id)
            .values(status=status, version=_CASES.c.version + 1, seq=next_seq(session), **write.case_clocks)
        )
    elif write.mark_case:
        session.execute(
            update(_CASES).where(_CASES.c.id == write.case_id, _CASES.c.status.in_(_MARKABLE))
            .values(status="visited", version=_CASES.c.version + 1, seq=next_seq(session))
        )
    seq = next_seq(session)
    session.execute(update(_VISITS).where(_VISITS.c.id == write.visit_id).values(seq=seq))
    result = {"op_id": write.op_id, "status": "applied", "version": write.version, "seq": seq}
    session.execute(insert(_OPS).values(op_id=write.op_id, user_id=write.user_id, result=result, created_at=utcnow(), digest=write.digest))
    webhooks.emit(session, write.event())
    return seq


def is_markable(case_status: str) -> bool:
    """Whether a submit moves a case in this status to visited."""
    return case_status in _MARKABLE
