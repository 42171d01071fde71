"""Statutory clocks for UI tests: re-pull some of a filled store's cases with revision-2 clocks."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

#: Per case (in reference order): (stage, due in hours from now, met) of each clock.
PLANS: tuple[tuple[tuple[str, float, bool], ...], ...] = (
    (("investigate", -30, False),),                                        # breached
    (("investigate", -200, True), ("summary", 20, False), ("safety_work", 60, False)),   # amber
    (("investigate", 24 * 9, False),),                                     # running
    (("investigate", -100, True), ("summary", -90, True), ("supplementary_start", 24 * 4, False),
     ("supplementary_works", 24 * 80, False)),
)


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def case_data(store: Any, case_id: str) -> dict[str, Any]:
    """The pulled data of a stored case, as the portal would send it again."""
    case = store.case(case_id)
    return {"reference": case.reference, "case_type": case.case_type, "status": case.status,
            "priority": case.priority, "summary": case.summary, "description": case.description,
            "opened_at": _iso(case.opened_at), "due_at": _iso(case.due_at) if case.due_at else None,
            "property_id": case.property.id, "resident_ids": [r.id for r in case.residents],
            "assigned_officer_id": case.assigned_officer_id, "team_id": case.team_id}


def add_clocks(store: Any, now: datetime | None = None, start: int = 0) -> list[str]:
    """Give the cases ``start``.. (by reference) the clocks of `PLANS`; returns their ids in plan order."""
    now = now or datetime.now(timezone.utc)
    rows = sorted(store.cases(), key=lambda r: r.reference)[start:start + len(PLANS)]
    changes = []
    for number, (row, plan) in enumerate(zip(rows, PLANS)):
        clocks = [{"stage": stage, "due_at": _iso(now + timedelta(hours=hours)),
                   "met_at": _iso(now - timedelta(hours=1)) if met else None,
                   "basis": f"{stage.replace('_', ' ')}: rule of SI 2025/1042"} for stage, hours, met in plan]
        unmet = [c["due_at"] for c in clocks if c["met_at"] is None]
        data = {**case_data(store, row.id), "due_at": min(unmet) if unmet else None, "awaab": True,
                "aware_at": _iso(now - timedelta(days=2)), "reported_hazards": ["Damp and mould growth"],
                "source": "crm", "clocks": clocks}
        changes.append({"entity": "case", "id": row.id, "version": 50, "seq": 900_000 + number,
                        "deleted": False, "data": data})
    store.apply_changes(changes, store.sync_state().cursor)
    return [row.id for row in rows]
