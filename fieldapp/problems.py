"""What the officer's (or lead's) choice on a problem does: Needs attention's actions.

Problems are made by push results (`fieldapp.outbox`) and listed oldest first. Each
offers the actions that fit it (`ProblemAction`); only those are carried out:

* DISMISS: the problem goes, nothing else changes.
* AMEND (a visit approved before the officer's changes arrived): what was typed moves
  into a new amendment draft.
* RETRY: the visit is checked and queued again, on the portal's current version
  (a hazard report is queued again too).
* DISCARD: the officer's changes go and the portal's version stays; a visit that never
  reached the portal goes altogether (a hazard report is dropped).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from fieldapp import amendments, sync_apply
from fieldapp import hazard_reports as report_rules
from fieldapp.clock import utc_now
from fieldapp.errors import NotFoundError, ValidationError
from fieldapp.models import ProblemRow, VisitRow
from fieldapp.outbox import problem_record
from fieldapp.signin import signed_in_user
from fieldapp.types import Problem, ProblemAction
from fieldapp.visits import get_visit, submit, take_document, take_portal_state


def listed(session: Session) -> list[Problem]:
    """Every problem, oldest first."""
    return [problem_record(r) for r in session.scalars(select(ProblemRow).order_by(ProblemRow.created_at, ProblemRow.id))]


def resolve(session: Session, problem_id: str, action: ProblemAction) -> tuple[VisitRow | None, list[str]]:
    """Carry out one of the problem's actions: (the new or changed visit if any, photo hashes no longer used)."""
    problem = session.get(ProblemRow, problem_id)
    if problem is None:
        raise NotFoundError("That problem is already resolved.")
    if ProblemAction(action).value not in problem.actions:
        offered = ", ".join(problem.actions)
        raise ValidationError(f"This problem can be resolved by: {offered}.")
    session.delete(problem)
    session.flush()
    if problem.entity == report_rules.ENTITY:
        report_rules.resolve(session, problem.record_id, action)
        return None, []
    if action == ProblemAction.DISMISS or problem.entity != "visit":
        return None, []
    row = get_visit(session, problem.record_id)
    if action == ProblemAction.AMEND:
        draft = amendments.amend(session, row, signed_in_user(session).id)
        row.local_edits = False  # what was typed now lives in the amendment
        return draft, []
    current = problem.details.get("current")
    if action == ProblemAction.RETRY:
        submit(session, row)
        return row, []
    if row.server_version == 0 and not current:
        # It never reached the portal and the officer chose to drop it: the visit goes.
        dropped = [p.sha256 for p in sync_apply.row_photos(session, row.id)]
        session.delete(row)
        return None, dropped
    return row, _take_portals(session, row, current)


def _take_portals(session: Session, row: VisitRow, current: Mapping[str, Any] | None) -> list[str]:
    """Take the portal's version of a visit, as the officer chose; returns hashes no longer used."""
    row.local_edits = False
    if not current:
        return []
    dropped = take_document(session, row, current)
    take_portal_state(row, current.get("status"), utc_now())
    row.review = current.get("review")
    return dropped
