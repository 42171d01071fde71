"""The audit events of sync: what a pull handed out and which pushed ops applied.

Counts and ids only: a pull's event says how many records of which entities left the
portal, an applied op's event names the record, the op and its kind, never its data.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from portal.core.db import Database
from portal.services import audit
from portal.services import push as push_service
from portal.services.audit import Action, Event
from portal.services.scope import Caller


def pull_event(page: dict[str, Any], cursor: int) -> Event:
    """One event per pull page: records (and tombstones) per entity."""
    records: Counter[str] = Counter()
    deleted: Counter[str] = Counter()
    for change in page["changes"]:
        (deleted if change["deleted"] else records)[change["entity"]] += 1
    return Event(Action.PULL, None, None, {
        "records": dict(sorted(records.items())), "deleted": dict(sorted(deleted.items())),
        "cursor": cursor, "next_cursor": page["next_cursor"],
    })


def push_events(ops: list[Any], results: list[dict[str, Any]]) -> list[Event]:
    """An event per applied op (a replayed duplicate changed nothing: none); a review decision says which."""
    events: list[Event] = []
    for raw, result in zip(ops, results):
        if result.get("status") != "applied" or not isinstance(raw, dict):
            continue
        entity, kind = str(raw.get("entity")), str(raw.get("kind"))
        details = {"op_id": result.get("op_id"), "kind": kind, "version": result.get("version"), "seq": result.get("seq")}
        events.append(Event(Action.OP_APPLIED, entity, str(raw.get("id")), details))
        data = raw.get("data")
        if entity == "review" and kind == "decide" and isinstance(data, dict):
            events.append(Event(Action.REVIEW_DECIDED, "visit", str(data.get("visit_id")),
                                {"review_id": str(raw.get("id")), "decision": str(data.get("decision"))}))
    return events


def push_recorded(db: Database, caller: Caller, ops: list[Any], where: audit.Where) -> list[dict[str, Any]]:
    """Apply the ops (``portal.services.push``) and record their events: the laptop's push and the web's review form alike."""
    # In the push's own transaction: the events commit, or vanish, with the ops they record.
    return push_service.push(db, caller, ops, then=lambda session, results: audit.add(session, where, push_events(ops, results)))
