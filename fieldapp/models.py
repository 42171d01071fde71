"""The typed SQLAlchemy 2 model of the local store (SQLite).

Portal-owned records (teams, users, properties, residents, cases, templates and
pulled visits) carry the portal's ``version`` and have no foreign keys between
them: a pull may deliver a case before its property (pages follow the portal's
change order), and an officer never receives some records a case names (its team).
Foreign keys guard only what the laptop itself owns: photos, history and reviews
of a visit, and the resident links and search row of a case.

Schema changes go through Alembic migrations (``fieldapp/migrations``); this module
describes the head revision and must agree with it (a test compares them).
"""

# No `from __future__ import annotations` here: the interpreter evaluates the column annotations
# once, where SQLAlchemy would compile each string again (~8 ms of every process that opens the store).

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from fieldapp.clock import as_utc


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out (SQLite keeps naive UTC text, which sorts)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return as_utc(value).replace(tzinfo=None) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return as_utc(value) if value is not None else None


class Base(DeclarativeBase):
    """Declarative base of every local table."""

    type_annotation_map = {
        datetime: UTCDateTime,
        dict[str, Any]: JSON,
        list[Any]: JSON,
    }


class SyncStateRow(Base):
    """The single row (id 1) of who works here, where they sync and how far they got."""

    __tablename__ = "sync_state"

    id: Mapped[int] = mapped_column(primary_key=True)
    device_id: Mapped[str] = mapped_column(String(64))
    cursor: Mapped[int] = mapped_column(default=0)
    last_sync_at: Mapped[datetime | None]
    portal_url: Mapped[str | None] = mapped_column(Text)
    user_id: Mapped[str | None] = mapped_column(String(64))
    username: Mapped[str | None] = mapped_column(Text)
    display_name: Mapped[str | None] = mapped_column(Text)
    role: Mapped[str | None] = mapped_column(String(20))
    team_id: Mapped[str | None] = mapped_column(String(64))


class TeamRow(Base):
    """A team, as pulled."""

    __tablename__ = "teams"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[int]
    name: Mapped[str] = mapped_column(Text)


class UserRow(Base):
    """A user the caller may see (themself; a lead also sees the team's users)."""

    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[int]
    username: Mapped[str] = mapped_column(Text)
    display_name: Mapped[str] = mapped_column(Text)
    role: Mapped[str] = mapped_column(String(20))
    team_id: Mapped[str | None] = mapped_column(String(64))


class PropertyRow(Base):
    """A property of a case in scope; ``deleted`` marks a tombstone waiting for the purge."""

    __tablename__ = "properties"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[int]
    uprn: Mapped[str] = mapped_column(String(20))
    address_lines: Mapped[list[Any]]
    town: Mapped[str] = mapped_column(Text)
    postcode: Mapped[str] = mapped_column(String(10))
    property_type: Mapped[str] = mapped_column(String(20))
    bedrooms: Mapped[int]
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)


class ResidentRow(Base):
    """A resident of a property in scope (personal data: purged when it leaves scope)."""

    __tablename__ = "residents"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[int]
    property_id: Mapped[str] = mapped_column(String(64), index=True)
    full_name: Mapped[str] = mapped_column(Text)
    phone: Mapped[str | None] = mapped_column(Text)
    email: Mapped[str | None] = mapped_column(Text)
    vulnerabilities: Mapped[list[Any]]
    warnings: Mapped[list[Any]]
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)


class CaseRow(Base):
    """A case in scope; ``deleted`` marks a tombstone waiting for the purge."""

    __tablename__ = "cases"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[int]
    reference: Mapped[str] = mapped_column(String(40))
    case_type: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))
    priority: Mapped[str] = mapped_column(String(20))
    summary: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text, default="")
    opened_at: Mapped[datetime]
    due_at: Mapped[datetime | None] = mapped_column(index=True)
    property_id: Mapped[str] = mapped_column(String(64), index=True)
    assigned_officer_id: Mapped[str | None] = mapped_column(String(64))
    team_id: Mapped[str | None] = mapped_column(String(64))
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    # Revision 2 (statutory clocks): as the portal computes them; the laptop only displays them.
    aware_at: Mapped[datetime | None]
    reported_hazards: Mapped[list[Any]] = mapped_column(default=list)
    source: Mapped[str] = mapped_column(String(20), default="crm")
    awaab: Mapped[bool] = mapped_column(Boolean, default=False)
    clocks: Mapped[list[Any]] = mapped_column(default=list)


class CaseResidentRow(Base):
    """Which residents a case names, in the portal's order."""

    __tablename__ = "case_residents"

    case_id: Mapped[str] = mapped_column(String(64), ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True)
    resident_id: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)
    position: Mapped[int] = mapped_column(default=0)


class CaseIndexRow(Base):
    """The case's line of the case list; its search text is mirrored into the FTS5 table ``case_fts`` (`fieldapp.search`).

    Holds every listed field, so the list needs no join, and the list position of
    `fieldapp.domain.case_list_position` (``due_sort``, ``priority_rank``), so the
    default order is read straight off an index. Kept up to date by
    `fieldapp.search.reindex_cases` (migrations 0002, 0003, 0006).
    """

    __tablename__ = "case_index"
    __table_args__ = (
        Index("ix_case_index_due_order", "due_sort", "priority_rank", "reference"),
        Index("ix_case_index_reference", "reference"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("cases.id", ondelete="CASCADE"), unique=True)
    reference: Mapped[str] = mapped_column(Text)
    case_type: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))
    priority: Mapped[str] = mapped_column(String(20))
    priority_rank: Mapped[int]
    summary: Mapped[str] = mapped_column(Text)
    opened_at: Mapped[datetime]
    due_at: Mapped[datetime | None]
    due_sort: Mapped[str] = mapped_column(Text)
    deleted: Mapped[bool] = mapped_column(Boolean)
    address: Mapped[str] = mapped_column(Text)
    postcode: Mapped[str] = mapped_column(Text)
    resident_names: Mapped[str] = mapped_column(Text)
    has_warnings: Mapped[bool] = mapped_column(Boolean)
    search_text: Mapped[str] = mapped_column(Text, default="", server_default="")  # folded; see fieldapp.search


class TemplateRow(Base):
    """One version of a template (drafts keep the version they were started from)."""

    __tablename__ = "templates"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    template_version: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int]
    name: Mapped[str] = mapped_column(Text)
    case_types: Mapped[list[Any]]
    sections: Mapped[list[Any]]
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)


class VisitRow(Base):
    """A visit: the officer's own (drafts included) or, for a lead, a team member's.

    ``state`` is a `fieldapp.types.VisitState` value. ``op_id`` is the outbox op that
    carries the visit's latest submit, so a push result for an older op is recognised.
    ``local_edits`` marks a returned visit edited here and not yet resubmitted: a pull
    must not overwrite what the officer typed.
    """

    __tablename__ = "visits"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    case_id: Mapped[str] = mapped_column(String(64), index=True)
    officer_id: Mapped[str] = mapped_column(String(64))
    template_id: Mapped[str] = mapped_column(String(64))
    template_version: Mapped[int]
    started_at: Mapped[datetime]
    completed_at: Mapped[datetime | None]
    outcome: Mapped[str | None] = mapped_column(String(20))
    answers: Mapped[dict[str, Any]]
    notes: Mapped[str] = mapped_column(Text, default="")
    hazards: Mapped[list[Any]]
    state: Mapped[str] = mapped_column(String(20), index=True)
    server_version: Mapped[int] = mapped_column(default=0)
    review: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    amends: Mapped[str | None] = mapped_column(String(64))
    own: Mapped[bool] = mapped_column(Boolean, default=True)
    local_edits: Mapped[bool] = mapped_column(Boolean, default=False)
    op_id: Mapped[str | None] = mapped_column(String(64))
    submitted_at: Mapped[datetime | None]
    received_at: Mapped[datetime | None]
    updated_at: Mapped[datetime]
    # The assessment of PROTOCOL.md revision 2, and the hazard vocabulary the visit is recorded under.
    assessment: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    vocabulary: Mapped[str | None] = mapped_column(String(64))
    # When the tenant's written summary was issued: the portal's record, or ours while its op waits.
    summary_issued: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class PhotoRow(Base):
    """A photo of a visit; the file is content-addressed, so rows may share one."""

    __tablename__ = "photos"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    visit_id: Mapped[str] = mapped_column(String(64), ForeignKey("visits.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    content_type: Mapped[str] = mapped_column(String(40))
    bytes: Mapped[int]
    width: Mapped[int]
    height: Mapped[int]
    caption: Mapped[str] = mapped_column(Text, default="")
    question_id: Mapped[str | None] = mapped_column(String(100))
    taken_at: Mapped[datetime | None]
    # The photo of the same visit this one is an annotated copy of (laptop only: the
    # protocol has no such field, the copy's caption says it to the lead).
    source_photo_id: Mapped[str | None] = mapped_column(String(64))
    # Marks drawn on this photo and not saved yet (`fieldapp.photos_marks.marks_to_data`),
    # kept on every change so a crash or power cut in the middle of annotating loses none.
    annotation_draft: Mapped[list[Any] | None] = mapped_column(JSON)


class BlobRow(Base):
    """Whether the portal has confirmed a photo file (by its SHA-256)."""

    __tablename__ = "blobs"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    uploaded: Mapped[bool] = mapped_column(Boolean, default=False)


class OutboxRow(Base):
    """An op waiting to be pushed, first in first out by ``seq``."""

    __tablename__ = "outbox"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    op_id: Mapped[str] = mapped_column(String(64), unique=True)
    entity: Mapped[str] = mapped_column(String(20))
    record_id: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    base_version: Mapped[int]
    data: Mapped[dict[str, Any]]
    size: Mapped[int]
    created_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(default=0)


class LocalReviewRow(Base):
    """A lead's decision made here, for one version of a team visit."""

    __tablename__ = "local_reviews"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    visit_id: Mapped[str] = mapped_column(String(64), ForeignKey("visits.id", ondelete="CASCADE"), index=True)
    visit_version: Mapped[int]
    decision: Mapped[str] = mapped_column(String(20))
    comment: Mapped[str] = mapped_column(Text, default="")
    lead_id: Mapped[str] = mapped_column(String(64))
    decided_at: Mapped[datetime]
    sent: Mapped[bool] = mapped_column(Boolean, default=False)


class ProblemRow(Base):
    """A push result the officer or lead must act on."""

    __tablename__ = "problems"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))
    entity: Mapped[str] = mapped_column(String(20))
    record_id: Mapped[str] = mapped_column(String(64), index=True)
    message: Mapped[str] = mapped_column(Text)
    actions: Mapped[list[Any]]
    details: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]


class VisitHistoryRow(Base):
    """Each pulled version of a visit, so a lead or officer can see what changed since a return."""

    __tablename__ = "visit_history"

    visit_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("visits.id", ondelete="CASCADE"), primary_key=True)
    version: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(String(20))
    document: Mapped[dict[str, Any]]
    received_at: Mapped[datetime]


class HazardVocabularyRow(Base):
    """A hazard vocabulary as pulled (``hhsrs-2006`` and any an admin added)."""

    __tablename__ = "hazard_vocabularies"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[int]
    key: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(Text)
    effective_from: Mapped[str] = mapped_column(String(40))
    hazards: Mapped[list[Any]]
    bands: Mapped[list[Any]]


class AwaabScheduleRow(Base):
    """The portal's one Awaab's Law phase schedule, as pulled."""

    __tablename__ = "awaab_schedule"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[int]
    phases: Mapped[list[Any]]


class HazardReportRow(Base):
    """A hazard an officer reported from the field: queued as a ``hazard_report`` op until the portal takes it.

    ``id`` is the new case's id (the client chooses it). ``state`` is ``queued``, ``sent``
    (the portal made the case; it arrives with the next pull) or ``rejected`` (a problem
    the officer acts on). Kept after sending so the officer can see what they reported.
    """

    __tablename__ = "hazard_reports"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    property_id: Mapped[str] = mapped_column(String(64))
    from_case_id: Mapped[str | None] = mapped_column(String(64))
    visit_id: Mapped[str | None] = mapped_column(String(64))
    hazards: Mapped[list[Any]]
    description: Mapped[str] = mapped_column(Text)
    observed_at: Mapped[datetime]
    priority: Mapped[str] = mapped_column(String(20))
    photo_ids: Mapped[list[Any]]
    vocabulary: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(20), index=True)
    op_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime]


Index("ix_outbox_entity", OutboxRow.entity)
