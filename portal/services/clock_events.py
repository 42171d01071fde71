"""The periodic clock check: ``clock.amber`` and ``clock.breached`` events, each (case, stage, kind) once ever.

The portal process runs ``check`` every minute or so (``portal.webhook_worker``). It
reads the unmet clocks of open cases under the regulations whose earliest deadline
is near (``due_at`` within ``WINDOW``: one working day left can span a long weekend
and the Christmas holidays, never more), and emits an event for each clock that has
turned amber (one working day left or less, ``portal.clocks.clock_state``) or breached.
Only the kinds some webhook subscribes to are emitted. The event's dedupe key (unique in the outbox) makes it once only, across processes
and restarts. A clock first seen already breached (the portal was down through its
amber day) gets only ``clock.breached``: an amber alert for a missed deadline would
mislead.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from portal.clocks import AMBER, BREACHED, clock_state
from portal.core.db import Database
from portal.models import CaseRow
from portal.models_webhooks import WebhookEventRow, WebhookRow
from portal.services import case_clocks
from portal.services.webhooks import Emission, EventType, clock_event, emit
from sync.protocol import format_timestamp

#: Cases whose earliest unmet deadline is further off than this have no amber clock.
WINDOW = timedelta(days=10)
#: Keys looked up per statement (well under SQLite's limit of bound parameters).
_CHUNK = 500
_KIND = {AMBER: EventType.CLOCK_AMBER, BREACHED: EventType.CLOCK_BREACHED}


def due_events(db: Database, now: datetime) -> list[Emission]:
    """The clock events that ``now`` calls for and that were not emitted before."""
    with db.read() as session:
        # Only kinds some webhook wants: an event nobody hears would only fill the outbox.
        wanted_kinds = {kind for events in session.scalars(select(WebhookRow.events)) for kind in events} & set(_KIND.values())
        if not wanted_kinds:
            return []
        rows = session.execute(
            select(CaseRow.id, CaseRow.reference, CaseRow.clocks).where(
                CaseRow.awaab.is_(True), CaseRow.status != "closed", CaseRow.purged.is_(False),
                CaseRow.due_at <= format_timestamp(now + WINDOW),
            )
        ).all()
        holidays = case_clocks.calendar(session).holidays
        wanted: list[Emission] = []
        for case_id, reference, clocks in rows:
            for clock in clocks or []:
                state = clock_state(clock, now, holidays)
                if state in _KIND and _KIND[state] in wanted_kinds:
                    wanted.append(clock_event(_KIND[state], case_id, reference, clock))
        if not wanted:
            return []
        keys = [e.dedupe_key for e in wanted]
        seen: set[str | None] = set()
        for start in range(0, len(keys), _CHUNK):
            chunk = keys[start:start + _CHUNK]
            seen.update(session.scalars(select(WebhookEventRow.dedupe_key).where(WebhookEventRow.dedupe_key.in_(chunk))))
    return [e for e in wanted if e.dedupe_key not in seen]


def check(db: Database, now: datetime) -> int:
    """Emit the clock events that are due; how many were written (0 when another process was first)."""
    events = due_events(db, now)
    if not events:
        return 0
    with db.plain(writes=True) as session:
        return sum(emit(session, event) for event in events)
