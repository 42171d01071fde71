"""Who may see what: the scope rules of PROTOCOL.md as SQL conditions, and scope changes.

- officer: cases assigned to them, those cases' properties and residents (the residents
  a case names and everyone recorded at its property), all templates, their own user
  and team, their own visits;
- lead: the same for their own assignments, plus every case of their team, the visits
  of their team's members and the team's users;
- admin: no field data through sync (a pull carries their own user record, and the
  rules every signed-in caller pulls: hazard vocabularies and the Awaab schedule);
- the officer who reported a hazard (revision 2) keeps the case it opened.

When a case changes hands, the records that enter or leave someone's scope without
changing themselves are written as ``ScopeChangeRow`` rows in the same transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import ColumnElement, Table, false, func, literal_column, or_, select, true
from sqlalchemy.orm import Session, aliased

from portal.models import CaseResidentRow, CaseRow, PropertyRow, ResidentRow, ScopeChangeRow, TeamRow, UserRow, VisitRow
from portal.services.bulk import among, insert_rows
from portal.services.sequence import next_seqs, utcnow
from sync.protocol import Role


@dataclass(frozen=True)
class Caller:
    """The authenticated user, as scope rules need it."""

    id: str
    username: str
    role: str
    team_id: str | None

    @property
    def is_lead(self) -> bool:
        return self.role == Role.LEAD

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN


def case_filter(caller: Caller, case: Any = CaseRow) -> ColumnElement[bool]:
    """Cases the caller sees (``case``: the Case model or an alias of it)."""
    if caller.is_admin:
        return false()
    mine = (case.assigned_officer_id == caller.id) | (case.reported_by_id == caller.id)
    if caller.is_lead and caller.team_id:
        mine = or_(mine, case.team_id == caller.team_id)
    visible: ColumnElement[bool] = case.purged.is_(False) & mine
    return visible


# Property and resident scope are correlated EXISTS, checked row by row through indexes,
# so a query that walks a table in seq order costs what it reads, not the size of the
# caller's scope. Two things keep databases from turning them back into "collect every
# case of the caller first": the case is checked by primary key in a subquery of its own
# (given ``assigned_officer_id = ?`` beside ``property_id = ?``, SQLite without
# statistics starts from the caller's cases), and each subquery has ``OFFSET 0``, which
# PostgreSQL never flattens into a join (it does otherwise, and with stale statistics
# after a bulk load it then hashes the caller's whole scope on every page).


def _row_check(*conditions: ColumnElement[bool]) -> ColumnElement[bool]:
    """EXISTS a row meeting the conditions, evaluated for each outer row (never flattened)."""
    return select(literal_column("1")).where(*conditions).offset(0).exists()


def _callers_case(caller: Caller, case_id: Any) -> ColumnElement[bool]:
    """The case with this id is in the caller's scope."""
    held = aliased(CaseRow)
    return _row_check(held.id == case_id, case_filter(caller, held))


def property_filter(caller: Caller) -> ColumnElement[bool]:
    """Properties of the caller's cases."""
    return _row_check(CaseRow.property_id == PropertyRow.id, _callers_case(caller, CaseRow.id))


def _resident_sources(caller: Caller) -> list[ColumnElement[bool]]:
    """Residents named by the caller's cases; residents living at their properties."""
    named = _row_check(CaseResidentRow.resident_id == ResidentRow.id, _callers_case(caller, CaseResidentRow.case_id))
    at_property = _row_check(CaseRow.property_id == ResidentRow.property_id, _callers_case(caller, CaseRow.id))
    return [named, at_property]


def resident_filter(caller: Caller) -> ColumnElement[bool]:
    """Residents named by the caller's cases or living at their properties."""
    return or_(*_resident_sources(caller))


#: Up to this many cases in scope, a pull gathers the caller's properties and residents
#: from their cases (its cost is the scope's, small); beyond it, it walks those tables in
#: seq order checking each row (its cost is what follows the cursor up to the page's end,
#: which for a small scope would be whole tables on a first sync).
FEW_CASES = 500


def _gathered_sources(caller: Caller) -> tuple[list[ColumnElement[bool]], list[ColumnElement[bool]]]:
    """Properties and residents as lists gathered from the caller's cases."""
    at = select(CaseRow.property_id).where(case_filter(caller))
    named = select(CaseResidentRow.resident_id).join(CaseRow, CaseRow.id == CaseResidentRow.case_id).where(case_filter(caller))
    return [PropertyRow.id.in_(at)], [ResidentRow.id.in_(named), ResidentRow.property_id.in_(at)]


def _has_few_cases(session: Session, caller: Caller) -> bool:
    some = select(CaseRow.id).where(case_filter(caller)).limit(FEW_CASES + 1).subquery()
    return int(session.scalar(select(func.count()).select_from(some)) or 0) <= FEW_CASES


def visit_filter(caller: Caller) -> ColumnElement[bool]:
    """Visits the caller sees: their own, and a lead's team members'."""
    if caller.is_admin:
        return false()
    mine = VisitRow.officer_id == caller.id
    if caller.is_lead and caller.team_id:
        return or_(mine, VisitRow.officer_id.in_(select(UserRow.id).where(UserRow.team_id == caller.team_id)))
    return mine


def user_filter(caller: Caller) -> ColumnElement[bool]:
    """Users the caller sees: themselves, and a lead's team."""
    me = UserRow.id == caller.id
    if caller.is_lead and caller.team_id:
        return or_(me, UserRow.team_id == caller.team_id)
    return me


def team_filter(caller: Caller) -> ColumnElement[bool]:
    """The caller's own team (not for admins)."""
    if caller.is_admin or not caller.team_id:
        return false()
    return TeamRow.id == caller.team_id


def template_filter(caller: Caller) -> ColumnElement[bool]:
    """All templates, for field roles."""
    return false() if caller.is_admin else true()


def pull_sources(session: Session, caller: Caller) -> dict[str, list[ColumnElement[bool]]]:
    """The caller's scope per entity, as disjuncts that each read an index in seq order.

    Their union is exactly the entity's filter above. A case or visit condition such as
    ``a OR b`` would make the database collect and sort every match before it can cut a
    page; each disjunct alone rides a ``(column, seq)`` index, so a page costs its own
    size. A lead's team visits are one disjunct per team member, and residents named or
    living at a property two disjuncts (PostgreSQL hashes every match of an EXISTS under OR).
    """
    if caller.is_admin:
        built = _pull_conditions(caller, False, ())
    else:
        officers: tuple[str, ...] = ()
        if caller.is_lead and caller.team_id:
            officers = tuple(sorted(session.scalars(select(UserRow.id).where(UserRow.team_id == caller.team_id))))
        built = _pull_conditions(caller, _has_few_cases(session, caller), officers)
    return {entity: list(conditions) for entity, conditions in built.items()}  # the cached lists stay as built


@lru_cache(maxsize=512)
def _pull_conditions(caller: Caller, few_cases: bool, team_officers: tuple[str, ...]) -> dict[str, list[ColumnElement[bool]]]:
    """`pull_sources` for what the database said of the caller: built once, not for every page.

    Building these expressions (aliases, correlated subqueries) cost a first sync of 81
    pages more than a second; they are immutable, so one copy serves every request.
    """
    rules: dict[str, list[ColumnElement[bool]]] = {"hazard_vocabulary": [true()], "awaab_schedule": [true()]}  # every signed-in caller
    if caller.is_admin:
        return {"user": [user_filter(caller)], **rules}  # no field data: nothing else to walk
    if few_cases:
        properties, residents = _gathered_sources(caller)
    else:
        properties, residents = [property_filter(caller)], _resident_sources(caller)
    sources: dict[str, list[ColumnElement[bool]]] = {
        "team": [team_filter(caller)], "user": [user_filter(caller)], "template": [template_filter(caller)],
        "property": properties, "resident": residents, **rules,
    }
    live = CaseRow.purged.is_(False)
    sources["case"] = [live & (CaseRow.assigned_officer_id == caller.id), live & (CaseRow.reported_by_id == caller.id)]
    officers = {caller.id, *team_officers}
    if caller.is_lead and caller.team_id:
        sources["case"].append(live & (CaseRow.team_id == caller.team_id))
    sources["visit"] = [VisitRow.officer_id == officer for officer in sorted(officers)]
    return sources


def caller_for(user: UserRow) -> Caller:
    """The scope view of a user row."""
    return Caller(user.id, user.username, user.role, user.team_id)


def affected_callers(session: Session, officer_ids: Iterable[str | None], team_ids: Iterable[str | None]) -> list[Caller]:
    """The officers named and the leads of the teams named: whose scope a case change can move."""
    officers = {i for i in officer_ids if i}
    teams = {i for i in team_ids if i}
    condition = or_(UserRow.id.in_(officers), (UserRow.role == Role.LEAD) & UserRow.team_id.in_(teams))
    return [caller_for(user) for user in session.scalars(select(UserRow).where(condition))]


@dataclass(frozen=True)
class Touched:
    """The records a case change can move in or out of someone's scope."""

    cases: frozenset[str]
    properties: frozenset[str]
    residents: frozenset[str]


def touched_by(session: Session, case_ids: str | Iterable[str], property_ids: Iterable[str], resident_ids: Iterable[str]) -> Touched:
    """The case (or cases), its old and new properties, and the residents named or living there."""
    props = frozenset(property_ids)
    living = session.scalars(select(ResidentRow.id).where(among(session, ResidentRow.property_id, props)))
    cases = frozenset({case_ids} if isinstance(case_ids, str) else case_ids)
    return Touched(cases, props, frozenset(resident_ids) | frozenset(living))


#: One ``Touched`` for every caller, or each caller's own (by user id: what a change can move for them).
TouchedBy = Touched | Mapping[str, Touched]


def _of(touched: TouchedBy, caller: Caller) -> Touched:
    return touched if isinstance(touched, Touched) else touched[caller.id]


def visible(session: Session, caller: Caller, touched: Touched) -> set[tuple[str, str]]:
    """Which of the touched records the caller sees now, as (entity, id) pairs."""
    cases = session.scalars(select(CaseRow.id).where(among(session, CaseRow.id, touched.cases), case_filter(caller)))
    props = session.scalars(select(PropertyRow.id).where(among(session, PropertyRow.id, touched.properties), property_filter(caller)))
    people = session.scalars(select(ResidentRow.id).where(among(session, ResidentRow.id, touched.residents), resident_filter(caller)))
    return {("case", i) for i in cases} | {("property", i) for i in props} | {("resident", i) for i in people}


def snapshot(session: Session, callers: list[Caller], touched: TouchedBy) -> dict[str, set[tuple[str, str]]]:
    """Each caller's view of the touched records, before a change."""
    return {c.id: visible(session, c, _of(touched, c)) for c in callers}


def _pairs(touched: Touched) -> set[tuple[str, str]]:
    return {("case", i) for i in touched.cases} | {("property", i) for i in touched.properties} | {("resident", i) for i in touched.residents}


def record_scope_changes(
    session: Session, callers: list[Caller], touched: TouchedBy, before: dict[str, set[tuple[str, str]]],
    *, new_cases: bool = False,
) -> None:
    """Write tombstones for what left each caller's scope and grants for what entered it.

    A case itself changes (new version and seq) when it moves, so its new holders pull
    it anyway; the grant rows matter for properties and residents, which do not change.
    ``new_cases``: the change only added live cases, and each caller's ``touched`` is what
    their own new cases touch (``touched_by``: the cases, their properties, the residents
    named or living there), all of which the rules above put in the caller's scope; it is
    then not read again (a case import adds thousands of cases a transaction).
    """
    session.flush()
    changes: list[tuple[str, str, str, bool]] = []
    for caller in callers:
        old = before.get(caller.id, set())
        after = old | _pairs(_of(touched, caller)) if new_cases else visible(session, caller, _of(touched, caller))
        changes += [(caller.id, entity, entity_id, True) for entity, entity_id in sorted(old - after)]
        changes += [(caller.id, entity, entity_id, False) for entity, entity_id in sorted(after - old) if entity != "case"]
    if not changes:
        return
    now = utcnow()
    # One block of numbers and one multi-row insert, however many rows (a case import moves thousands).
    insert_rows(session, cast(Table, ScopeChangeRow.__table__), [
        {"user_id": user_id, "entity": entity, "entity_id": entity_id, "deleted": deleted, "seq": seq, "created_at": now}
        for (user_id, entity, entity_id, deleted), seq in zip(changes, next_seqs(session, len(changes)))
    ])
