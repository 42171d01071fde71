"""The rules a case's fields must meet, checked against lookups made once for many cases.

``CaseRefs.load`` reads, in a few set-based queries, everything the rows of a request
name: teams, properties, residents, officers, the hazard names of every vocabulary and
the cases already holding a ``reference`` or ``external_ref``. The checks below then
work from those lookups alone, so one case (``POST /admin/cases``, ``PATCH``) and a
batch of an import (portal/services/case_import.py) meet exactly the same rules.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.duedates import due_at
from portal.models import CaseRow, PropertyRow, ResidentRow, TeamRow, UserRow
from portal.services import case_clocks
from portal.services.bulk import among
from sync.protocol import Role, format_timestamp, parse_timestamp

#: Ids per ``IN (...)`` list: well under every backend's limit on bound parameters.
_CHUNK = 2000

_T = TypeVar("_T")


def _chunks(items: Iterable[_T]) -> Iterator[list[_T]]:
    chunk: list[_T] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == _CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


@dataclass(frozen=True)
class CaseRefs:
    """What the case rules need to know of the database, for a set of rows."""

    teams: frozenset[str]
    properties: frozenset[str]
    #: resident id → the property they live at
    residents: Mapping[str, str]
    #: user id → role
    users: Mapping[str, str]
    hazards: frozenset[str]
    #: reference → id of the case holding it (of the references the rows name)
    references: Mapping[str, str]
    #: external_ref → id of the case holding it
    external_refs: Mapping[str, str]

    @classmethod
    def load(cls, session: Session, rows: Iterable[Mapping[str, Any]]) -> CaseRefs:
        """The lookups for these rows (case field values; missing or None fields are skipped)."""
        wanted: dict[str, set[str]] = {n: set() for n in ("team_id", "property_id", "resident_ids", "assigned_officer_id", "reference", "external_ref")}
        for row in rows:
            for name, ids in wanted.items():
                value = row.get(name)
                if isinstance(value, list):
                    ids.update(v for v in value if isinstance(v, str))
                elif isinstance(value, str):
                    ids.add(value)

        def pairs(key: Any, value: Any, values: set[str]) -> dict[str, str]:
            found: dict[str, str] = {}
            for chunk in _chunks(sorted(values)):
                found.update((k, v) for k, v in session.execute(select(key, value).where(among(session, key, chunk))).all())
            return found

        return cls(
            teams=frozenset(pairs(TeamRow.id, TeamRow.id, wanted["team_id"])),
            properties=frozenset(pairs(PropertyRow.id, PropertyRow.id, wanted["property_id"])),
            residents=pairs(ResidentRow.id, ResidentRow.property_id, wanted["resident_ids"]),
            users=pairs(UserRow.id, UserRow.role, wanted["assigned_officer_id"]),
            hazards=case_clocks.known_hazards(session),
            references=pairs(CaseRow.reference, CaseRow.id, wanted["reference"]),
            external_refs=pairs(CaseRow.external_ref, CaseRow.id, wanted["external_ref"]),
        )


def timestamp(value: str | None, field: str, fields: dict[str, str]) -> str | None:
    """An ISO-8601 time in the protocol's form; a bad one is named in ``fields``."""
    if value is None:
        return None
    try:
        return format_timestamp(parse_timestamp(value))
    except ValueError:
        fields[field] = "Give an ISO-8601 timestamp, e.g. 2025-11-03T09:30:00Z."
        return None


def check_refs(refs: CaseRefs, values: Mapping[str, Any], fields: dict[str, str]) -> None:
    """The team, property, residents and officer a case names exist and fit together."""
    team, prop, officer = values.get("team_id"), values.get("property_id"), values.get("assigned_officer_id")
    if team is not None and team not in refs.teams:
        fields["team_id"] = f"No team has id {team}."
    if prop is not None and prop not in refs.properties:
        fields["property_id"] = f"No property has id {prop}."
    for index, resident_id in enumerate(values.get("resident_ids") or []):
        home = refs.residents.get(resident_id)
        if home is None:
            fields[f"resident_ids.{index}"] = f"No resident has id {resident_id}."
        elif prop in refs.properties and home != prop:
            fields[f"resident_ids.{index}"] = "This resident lives at another property."
    if officer is not None:
        role = refs.users.get(officer)
        if role is None:
            fields["assigned_officer_id"] = f"No user has id {officer}."
        elif role not in (Role.OFFICER, Role.LEAD):
            fields["assigned_officer_id"] = "Cases are assigned to officers or leads."


def check_hazards(refs: CaseRefs, names: list[str] | None, field: str, fields: dict[str, str]) -> None:
    """Reported hazards are names of a stored vocabulary, each once."""
    if not names:
        return
    strange = [name for name in names if name not in refs.hazards]
    if strange:
        fields[field] = f"Not hazards of any vocabulary: {', '.join(strange)}. Use the names of the hazard list, e.g. 'Damp and mould growth'."
    elif len(set(names)) != len(names):
        fields[field] = "Name each hazard once."


def check_unique(refs: CaseRefs, values: Mapping[str, Any], fields: dict[str, str], case_id: str | None = None) -> None:
    """No other case holds the ``reference`` or ``external_ref`` given."""
    for name, taken in (("reference", refs.references), ("external_ref", refs.external_refs)):
        value = values.get(name)
        holder = taken.get(value) if value is not None else None
        if holder is not None and holder != case_id:
            fields[name] = f"A case with {name} {value!r} exists."


def new_case_values(refs: CaseRefs, values: dict[str, Any], fields: dict[str, str]) -> dict[str, Any]:
    """A new case's column values from its fields (``CaseData.model_dump(mode="json")``), bad ones named in ``fields``.

    Times take the protocol's form, ``aware_at`` defaults to ``opened_at``, and
    ``service_due_at`` is the ``due_at`` given, else the council's service standard.
    """
    values = dict(values)
    values["opened_at"] = timestamp(values["opened_at"], "opened_at", fields)
    given_due = timestamp(values.pop("due_at", None), "due_at", fields)
    values["aware_at"] = timestamp(values.get("aware_at"), "aware_at", fields) or values["opened_at"]
    check_hazards(refs, values["reported_hazards"], "reported_hazards", fields)
    check_refs(refs, values, fields)
    check_unique(refs, values, fields)
    if values["opened_at"] is not None:
        values["service_due_at"] = given_due or service_date(values["case_type"], values["priority"], values["opened_at"])
    return values


def service_date(case_type: str, priority: str, opened_at: str) -> str:
    """The council's service standard for a case (portal/duedates.py)."""
    return format_timestamp(due_at(case_type, priority, parse_timestamp(opened_at)))
