"""What a changed role or team moves in and out of people's scope.

A case reassignment changes the case row, so its new holders pull it; a user's new role
or team changes no case, visit or team row. So every record that enters someone's scope
here gets a grant row and every record that leaves it a tombstone (``ScopeChangeRow``), for
the user themselves and for the leads of their old and new teams: cases, properties and
residents of the teams' and the user's cases, the user's visits, the teams' members and
the teams themselves.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from portal.models import CaseResidentRow, CaseRow, PropertyRow, ResidentRow, ScopeChangeRow, TeamRow, UserRow, VisitRow
from portal.services.scope import (
    Caller,
    affected_callers,
    case_filter,
    property_filter,
    resident_filter,
    team_filter,
    user_filter,
    visit_filter,
)
from portal.services.sequence import next_seq, utcnow

Seen = set[tuple[str, str]]


@dataclass(frozen=True)
class AccountMove:
    """The people a role or team change affects, and what each of them saw before it."""

    user_id: str
    team_ids: frozenset[str]
    before: dict[str, Seen]


def _seen(session: Session, caller: Caller, user_id: str, team_ids: frozenset[str]) -> Seen:
    """The records of the affected teams and user that the caller sees now."""
    case_ids = select(CaseRow.id).where(or_(CaseRow.assigned_officer_id == user_id, CaseRow.team_id.in_(team_ids)))
    prop_ids = select(CaseRow.property_id).where(CaseRow.id.in_(case_ids))
    resident_ids = select(CaseResidentRow.resident_id).where(CaseResidentRow.case_id.in_(case_ids))
    queries = {
        "case": select(CaseRow.id).where(CaseRow.id.in_(case_ids), case_filter(caller)),
        "property": select(PropertyRow.id).where(PropertyRow.id.in_(prop_ids), property_filter(caller)),
        "resident": select(ResidentRow.id).where(
            or_(ResidentRow.id.in_(resident_ids), ResidentRow.property_id.in_(prop_ids)), resident_filter(caller)),
        "visit": select(VisitRow.id).where(VisitRow.officer_id == user_id, visit_filter(caller)),
        "user": select(UserRow.id).where(or_(UserRow.id == user_id, UserRow.team_id.in_(team_ids)), user_filter(caller)),
        "team": select(TeamRow.id).where(TeamRow.id.in_(team_ids), team_filter(caller)),
    }
    return {(entity, row_id) for entity, query in queries.items() for row_id in session.scalars(query)}


def _people(session: Session, user_id: str, team_ids: frozenset[str]) -> list[Caller]:
    return affected_callers(session, [user_id], team_ids)


def before_move(session: Session, user: UserRow, new_team_id: str | None) -> AccountMove:
    """Call before changing the user's role or team."""
    teams = frozenset(t for t in (user.team_id, new_team_id) if t)
    people = _people(session, user.id, teams)
    return AccountMove(user.id, teams, {c.id: _seen(session, c, user.id, teams) for c in people})


def record_move(session: Session, move: AccountMove) -> None:
    """Call after the change (flushed): tombstones and grants for everyone affected."""
    session.flush()
    now = utcnow()
    for caller in _people(session, move.user_id, move.team_ids):
        after = _seen(session, caller, move.user_id, move.team_ids)
        old = move.before.get(caller.id, set())
        for deleted, records in ((True, old - after), (False, after - old)):
            for entity, entity_id in sorted(records):
                session.add(ScopeChangeRow(user_id=caller.id, entity=entity, entity_id=entity_id, deleted=deleted,
                                        seq=next_seq(session), created_at=now))
