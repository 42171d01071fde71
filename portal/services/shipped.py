"""Records the portal ships: the ``hhsrs-2006`` hazard vocabulary and the Awaab's Law phase schedule.

Stored once, after the schema is migrated (``portal.core.migrate.upgrade``), with a seq
like any change, so every device pulls them; an admin later adds vocabularies and
replaces the schedule through the admin API.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.awaab import SHIPPED_SCHEDULE
from portal.models import AwaabScheduleRow, HazardVocabularyRow
from portal.services.case_clocks import SCHEDULE_ID
from portal.services.sequence import next_seq
from sync.protocol import HHSRS_2006

#: Ids derived from the keys, so every portal names the shipped vocabulary alike.
_NAMESPACE = uuid.UUID("a3c4e7f0-2d1b-4c9e-8f5a-6b7d9e0f1a2b")


def vocabulary_id(key: str) -> str:
    """The id of a shipped vocabulary."""
    return str(uuid.uuid5(_NAMESPACE, f"hazard_vocabulary:{key}"))


def ensure_shipped(session: Session) -> None:
    """Store the shipped records that are missing (inside a write transaction)."""
    if session.scalar(select(HazardVocabularyRow.id).where(HazardVocabularyRow.key == HHSRS_2006["key"])) is None:
        session.add(HazardVocabularyRow(id=vocabulary_id(HHSRS_2006["key"]), version=1, seq=next_seq(session), **HHSRS_2006))
    if session.get(AwaabScheduleRow, SCHEDULE_ID) is None:
        session.add(AwaabScheduleRow(id=SCHEDULE_ID, version=1, seq=next_seq(session), phases=SHIPPED_SCHEDULE["phases"]))
