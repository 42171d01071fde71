"""Tiny factories of protocol change dicts (as `GET /sync/pull` returns them) for tests and benchmarks.

Each function returns one change: ``{"entity", "id", "version", "seq", "deleted", "data"}``.
Ids are fresh UUIDs unless given; ``seq`` comes from a module counter so that a list of
changes is in ascending order as the portal sends it. Keyword arguments override fields
of ``data``. `world` builds a small consistent set (team, officer, lead, template,
property, residents and cases) for store tests. `pushed` is the portal's answer to a pushed op.
"""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass, field
from typing import Any

from fieldapp.wire import OpResult

_seq = itertools.count(1)


def new_id() -> str:
    """A fresh UUID string."""
    return str(uuid.uuid4())


def change(entity: str, data: dict[str, Any] | None, *, id: str | None = None, version: int = 1,
           deleted: bool = False) -> dict[str, Any]:
    """One pulled change of any entity (``data`` None with ``deleted`` for a tombstone)."""
    return {"entity": entity, "id": id or new_id(), "version": version, "seq": next(_seq),
            "deleted": deleted, "data": None if deleted else data}


def pushed(op: Any, status: str, **fields: Any) -> OpResult:
    """The portal's result for a pushed op (an `OutboxOp`), as `POST /sync/push` answers it."""
    return OpResult.model_validate({"op_id": op.op_id, "status": status, **fields})


def tombstone(entity: str, id: str, version: int = 2) -> dict[str, Any]:
    """A pulled tombstone: the record left the caller's scope."""
    return change(entity, None, id=id, version=version, deleted=True)


def team(name: str = "North Team", **kw: Any) -> dict[str, Any]:
    """A team change."""
    id_, version = kw.pop("id", None), kw.pop("version", 1)
    return change("team", {"name": name, **kw}, id=id_, version=version)


def user(username: str = "olivia", *, role: str = "officer", team_id: str | None = None, **kw: Any) -> dict[str, Any]:
    """A user change."""
    id_, version = kw.pop("id", None), kw.pop("version", 1)
    data = {"username": username, "display_name": kw.pop("display_name", username.title()), "role": role,
            "team_id": team_id, **kw}
    return change("user", data, id=id_, version=version)


def property_(postcode: str = "SE1 4AB", *, lines: tuple[str, ...] = ("Flat 3", "12 Long Lane"), **kw: Any) -> dict[str, Any]:
    """A property change."""
    id_, version = kw.pop("id", None), kw.pop("version", 1)
    data = {"uprn": kw.pop("uprn", "100023336956"), "address_lines": list(lines), "town": kw.pop("town", "London"),
            "postcode": postcode, "property_type": kw.pop("property_type", "flat"),
            "bedrooms": kw.pop("bedrooms", 2), **kw}
    return change("property", data, id=id_, version=version)


def resident(property_id: str, full_name: str = "Amira Haskins", **kw: Any) -> dict[str, Any]:
    """A resident change."""
    id_, version = kw.pop("id", None), kw.pop("version", 1)
    data = {"property_id": property_id, "full_name": full_name, "phone": kw.pop("phone", "07700 900123"),
            "email": kw.pop("email", None), "vulnerabilities": kw.pop("vulnerabilities", []),
            "warnings": kw.pop("warnings", []), **kw}
    return change("resident", data, id=id_, version=version)


def case(property_id: str, team_id: str, *, reference: str = "DM-2025-00001", resident_ids: list[str] | None = None,
         officer_id: str | None = None, **kw: Any) -> dict[str, Any]:
    """A case change."""
    id_, version = kw.pop("id", None), kw.pop("version", 1)
    data = {"reference": reference, "case_type": kw.pop("case_type", "damp_mould"),
            "status": kw.pop("status", "open"), "priority": kw.pop("priority", "routine"),
            "summary": kw.pop("summary", "Black mould in bathroom"), "description": kw.pop("description", ""),
            "opened_at": kw.pop("opened_at", "2025-11-01T09:00:00Z"), "due_at": kw.pop("due_at", "2030-01-15T17:00:00Z"),
            "property_id": property_id, "resident_ids": resident_ids or [], "assigned_officer_id": officer_id,
            "team_id": team_id, **kw}
    return change("case", data, id=id_, version=version)


#: The questions of the default template: one of each kind the tests need.
QUESTIONS: list[dict[str, Any]] = [
    {"id": "mould", "label": "Mould present?", "kind": "yes_no", "required": True},
    {"id": "room", "label": "Worst room", "kind": "choice", "options": ["Kitchen", "Bathroom", "Bedroom"],
     "required": True},
    {"id": "rh", "label": "Relative humidity (%)", "kind": "number", "min": 0, "max": 100},
    {"id": "cause", "label": "Likely cause", "kind": "text"},
    {"id": "hz", "label": "Main hazard", "kind": "hazard"},
    {"id": "pics", "label": "Photos of the damage", "kind": "photo"},
]


def template(name: str = "Damp and mould inspection", *, number: int = 1, case_types: tuple[str, ...] = ("damp_mould",),
             questions: list[dict[str, Any]] | None = None, **kw: Any) -> dict[str, Any]:
    """A template change (``number`` is the template's own ``version`` field)."""
    id_, version = kw.pop("id", None), kw.pop("version", 1)
    data = {"name": name, "version": number, "case_types": list(case_types),
            "sections": [{"id": "main", "title": "Inspection", "questions": questions or QUESTIONS}], **kw}
    return change("template", data, id=id_, version=version)


def visit(case_id: str, officer_id: str, template_id: str, *, status: str = "submitted", version: int = 1,
          id: str | None = None, review: dict[str, Any] | None = None, **kw: Any) -> dict[str, Any]:
    """A pulled visit change (the visit document plus status and review)."""
    data = {"case_id": case_id, "officer_id": officer_id, "template_id": template_id,
            "template_version": kw.pop("template_version", 1), "started_at": kw.pop("started_at", "2025-11-20T10:00:00Z"),
            "completed_at": kw.pop("completed_at", "2025-11-20T10:45:00Z"), "outcome": kw.pop("outcome", "completed"),
            "answers": kw.pop("answers", {"mould": True, "room": "Bathroom"}), "notes": kw.pop("notes", ""),
            "hazards": kw.pop("hazards", []), "photos": kw.pop("photos", []), "status": status, "review": review, **kw}
    return change("visit", data, id=id, version=version)


@dataclass
class World:
    """A consistent small data set and its ids."""

    team_id: str
    officer_id: str
    lead_id: str
    template_id: str
    property_id: str
    resident_ids: list[str]
    case_ids: list[str]
    changes: list[dict[str, Any]] = field(default_factory=list)


def world(cases: int = 3) -> World:
    """A team with an officer and a lead, a damp-and-mould template, one property with two residents
    (one with a warning) and ``cases`` cases at that property."""
    t = team()
    officer = user("olivia", team_id=t["id"], display_name="Olivia Officer")
    lead = user("liam", role="lead", team_id=t["id"], display_name="Liam Lead")
    tpl = template()
    prop = property_()
    r1 = resident(prop["id"], "Amira Haskins", warnings=["Dog on premises"])
    r2 = resident(prop["id"], "Zoë Brennan-O'Neil")
    case_changes = [case(prop["id"], t["id"], reference=f"DM-2025-{n:05d}", resident_ids=[r1["id"], r2["id"]],
                         officer_id=officer["id"]) for n in range(1, cases + 1)]
    changes = [t, officer, lead, tpl, prop, r1, r2, *case_changes]
    return World(team_id=t["id"], officer_id=officer["id"], lead_id=lead["id"], template_id=tpl["id"],
                 property_id=prop["id"], resident_ids=[r1["id"], r2["id"]],
                 case_ids=[c["id"] for c in case_changes], changes=changes)
