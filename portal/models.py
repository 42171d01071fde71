"""The portal's tables, as typed SQLAlchemy 2 models.

Every field record carries ``version`` (1 on create, +1 per change) and ``seq`` (the
global change sequence of its last change). ``data()`` gives the record as the protocol's
``data`` of a pulled change.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, DateTime, ForeignKey, Index, Integer, String, Text, false, true
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from portal.services.usernames import username_key


class Base(DeclarativeBase):
    """Declarative base of every portal table."""


class CounterRow(Base):
    """Named counters: the change sequence and the tombstone horizon."""

    __tablename__ = "counters"
    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)


class Versioned:
    """Columns shared by every record that sync carries.

    Each record's ``data()`` reads only its own table's columns, by their names: a pull
    calls it on Core rows of those columns as well as on ORM objects (services/pull.py).
    """

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    seq: Mapped[int] = mapped_column(BigInteger, index=True)


class TeamRow(Versioned, Base):
    """A team of officers under one lead."""

    __tablename__ = "teams"
    name: Mapped[str] = mapped_column(String(200))

    def data(self) -> dict[str, Any]:
        """The protocol ``team`` data."""
        return {"name": self.name}


def _username_key_of_row(context: Any) -> str:
    """The key of the username being inserted (so no insert can leave it out)."""
    return username_key(context.get_current_parameters()["username"])


class UserRow(Versioned, Base):
    """A portal account: officer, lead or admin."""

    __tablename__ = "users"
    username: Mapped[str] = mapped_column(String(150), unique=True)
    #: ``portal.services.usernames.username_key`` of the username: what sign-in and uniqueness compare.
    username_key: Mapped[str] = mapped_column(String(600), unique=True, default=_username_key_of_row)
    display_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    team_id: Mapped[str | None] = mapped_column(ForeignKey("teams.id"), index=True)
    password_hash: Mapped[str] = mapped_column(String(300))
    #: A disabled account (a leaver) cannot sign in and has no live token.
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())

    def data(self) -> dict[str, Any]:
        """The protocol ``user`` data (never the password hash)."""
        return {"username": self.username, "display_name": self.display_name, "role": self.role, "team_id": self.team_id}


class PropertyRow(Versioned, Base):
    """A council-owned home."""

    __tablename__ = "properties"
    uprn: Mapped[str] = mapped_column(String(12), index=True)
    address_lines: Mapped[list[str]] = mapped_column(JSON)
    town: Mapped[str] = mapped_column(String(100))
    postcode: Mapped[str] = mapped_column(String(8))
    property_type: Mapped[str] = mapped_column(String(20))
    bedrooms: Mapped[int] = mapped_column(Integer)

    def data(self) -> dict[str, Any]:
        """The protocol ``property`` data."""
        return {
            "uprn": self.uprn, "address_lines": list(self.address_lines), "town": self.town,
            "postcode": self.postcode, "property_type": self.property_type, "bedrooms": self.bedrooms,
        }


class ResidentRow(Versioned, Base):
    """A tenant or household member, with cautionary-contact warnings."""

    __tablename__ = "residents"
    property_id: Mapped[str] = mapped_column(ForeignKey("properties.id"), index=True)
    full_name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(40))
    email: Mapped[str | None] = mapped_column(String(254))
    vulnerabilities: Mapped[list[str]] = mapped_column(JSON)
    warnings: Mapped[list[str]] = mapped_column(JSON)

    def data(self) -> dict[str, Any]:
        """The protocol ``resident`` data."""
        return {
            "property_id": self.property_id, "full_name": self.full_name, "phone": self.phone,
            "email": self.email, "vulnerabilities": list(self.vulnerabilities), "warnings": list(self.warnings),
        }


class CaseRow(Versioned, Base):
    """A piece of casework at a property, assigned to an officer of a team."""

    __tablename__ = "cases"
    # A pull reads a caller's cases in seq order by these (PROTOCOL pull: a page costs its size).
    __table_args__ = (
        Index("ix_cases_officer_seq", "assigned_officer_id", "seq"),
        Index("ix_cases_team_seq", "team_id", "seq"),
        Index("ix_cases_reporter_seq", "reported_by_id", "seq"),
        # The CRM's reference: a case import creates or updates by it (migration 0012).
        Index("ix_cases_external_ref", "external_ref", unique=True),
    )
    reference: Mapped[str] = mapped_column(String(40), unique=True)
    case_type: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))
    priority: Mapped[str] = mapped_column(String(20))
    summary: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    opened_at: Mapped[str] = mapped_column(String(40))
    due_at: Mapped[str | None] = mapped_column(String(40))
    property_id: Mapped[str] = mapped_column(ForeignKey("properties.id"), index=True)
    resident_ids: Mapped[list[str]] = mapped_column(JSON)
    assigned_officer_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"), index=True)
    team_id: Mapped[str] = mapped_column(ForeignKey("teams.id"), index=True)
    #: When the case was closed; a closed case is purged from devices after a retention.
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)
    #: Purged cases are out of every field scope (their holders got tombstones).
    purged: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Revision 2, statutory clocks (portal/clocks.py): ``due_at`` above is the earliest
    # unmet clock's, else ``service_due_at`` (the service standard, or the date given).
    aware_at: Mapped[str | None] = mapped_column(String(40))
    reported_hazards: Mapped[list[str] | None] = mapped_column(JSON, default=list)
    source: Mapped[str] = mapped_column(String(10), default="crm", server_default="crm")
    awaab: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    clocks: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON, default=list)
    service_due_at: Mapped[str | None] = mapped_column(String(40))
    #: The visit that concluded the investigation: {"visit_id", "completed_at", "assessment"}.
    investigation: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    #: The officer who reported the hazard (source ``officer``): they keep the case in scope.
    reported_by_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    #: The CRM's reference of the case (unique; None for cases the CRM did not send).
    external_ref: Mapped[str | None] = mapped_column(String(100))

    def data(self) -> dict[str, Any]:
        """The protocol ``case`` data."""
        return {
            "reference": self.reference, "case_type": self.case_type, "status": self.status,
            "priority": self.priority, "summary": self.summary, "description": self.description,
            "opened_at": self.opened_at, "due_at": self.due_at, "property_id": self.property_id,
            "resident_ids": list(self.resident_ids), "assigned_officer_id": self.assigned_officer_id,
            "team_id": self.team_id, "aware_at": self.aware_at or self.opened_at,
            "reported_hazards": list(self.reported_hazards or []), "source": self.source or "crm",
            "awaab": bool(self.awaab), "clocks": [dict(c) for c in self.clocks or []],
            "external_ref": self.external_ref,
        }


class HazardVocabularyRow(Versioned, Base):
    """A hazard vocabulary (``hhsrs-2006`` ships); never changed once created, so visits keep theirs."""

    __tablename__ = "hazard_vocabularies"
    key: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    effective_from: Mapped[str] = mapped_column(String(10))
    hazards: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    bands: Mapped[list[dict[str, Any]]] = mapped_column(JSON)

    def data(self) -> dict[str, Any]:
        """The protocol ``hazard_vocabulary`` data."""
        return {"key": self.key, "name": self.name, "effective_from": self.effective_from, "hazards": self.hazards, "bands": self.bands}


class AwaabScheduleRow(Versioned, Base):
    """The one record of which hazards Awaab's Law covers from when (portal/awaab.py)."""

    __tablename__ = "awaab_schedules"
    phases: Mapped[list[dict[str, Any]]] = mapped_column(JSON)

    def data(self) -> dict[str, Any]:
        """The protocol ``awaab_schedule`` data."""
        return {"phases": self.phases}


class CouncilHolidayRow(Base):
    """A one-off day off of the council's (a coronation, a jubilee), beyond England's usual bank holidays."""

    __tablename__ = "council_holidays"
    day: Mapped[str] = mapped_column(String(10), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime)


class CaseResidentRow(Base):
    """Which residents a case concerns (the queryable form of ``CaseRow.resident_ids``)."""

    __tablename__ = "case_residents"
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), primary_key=True)
    resident_id: Mapped[str] = mapped_column(ForeignKey("residents.id"), primary_key=True, index=True)


class TemplateRow(Versioned, Base):
    """An inspection template (checklist of sections and questions)."""

    __tablename__ = "templates"
    name: Mapped[str] = mapped_column(String(200))
    template_version: Mapped[int] = mapped_column(Integer)
    case_types: Mapped[list[str]] = mapped_column(JSON)
    sections: Mapped[list[dict[str, Any]]] = mapped_column(JSON)

    def data(self) -> dict[str, Any]:
        """The protocol ``template`` data."""
        return {"name": self.name, "version": self.template_version, "case_types": list(self.case_types), "sections": self.sections}


class VisitRow(Versioned, Base):
    """A submitted visit: the officer's document plus its review state."""

    __tablename__ = "visits"
    __table_args__ = (Index("ix_visits_officer_seq", "officer_id", "seq"),)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    officer_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(20), index=True)
    review: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    #: Revision 2: ``{"method", "issued_at", "by_id"}`` once the tenant's written summary went out.
    summary_issued: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))

    def data(self) -> dict[str, Any]:
        """The protocol ``visit`` data: the document plus status, review and summary_issued."""
        return {**self.document, "status": self.status, "review": self.review, "summary_issued": self.summary_issued}


class VisitBlobRow(Base):
    """A photo blob a visit references (for download authorisation)."""

    __tablename__ = "visit_blobs"
    visit_id: Mapped[str] = mapped_column(ForeignKey("visits.id"), primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)


class ReviewRow(Base):
    """A lead's decision on a visit (the id is the client's review id)."""

    __tablename__ = "reviews"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    visit_id: Mapped[str] = mapped_column(ForeignKey("visits.id"), index=True)
    lead_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    decision: Mapped[str] = mapped_column(String(10))
    comment: Mapped[str] = mapped_column(Text, default="")
    decided_at: Mapped[datetime] = mapped_column(DateTime)


class ScopeChangeRow(Base):
    """A record entering or leaving one user's scope without changing itself.

    Written in the same transaction as the change that caused it, with its own ``seq``,
    so a pull carries a tombstone (``deleted``) or the record's current state (a grant).
    """

    __tablename__ = "scope_changes"
    __table_args__ = (Index("ix_scope_changes_user_seq", "user_id", "seq"),)
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column(String(36))
    entity: Mapped[str] = mapped_column(String(20))
    entity_id: Mapped[str] = mapped_column(String(36))
    deleted: Mapped[bool] = mapped_column(Boolean)
    seq: Mapped[int] = mapped_column(BigInteger, index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, index=True)


class PullChainRow(Base):
    """A cursor this portal handed out in the middle of a pull that began at 0.

    Such a cursor may lie below the tombstone horizon, yet the device missed nothing: a pull
    from 0 never carried a record whose purged tombstone is older than the pull. So it is
    accepted while no tombstone written since the pull began can have been purged, that is
    for ``tombstone_days`` after ``started_at``.
    """

    __tablename__ = "pull_chains"
    user_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    cursor: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    started_at: Mapped[datetime] = mapped_column(DateTime, index=True)


class OpRow(Base):
    """The stored result of an applied push op, for idempotent replays."""

    __tablename__ = "op_results"
    op_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(36))
    result: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    #: SHA-256 of the op's content, to tell a replay from a reused op_id (NULL: stored before 0004).
    digest: Mapped[str | None] = mapped_column(String(64))


class AuthTokenRow(Base):
    """A session token, stored only as its SHA-256."""

    __tablename__ = "auth_tokens"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    device_id: Mapped[str] = mapped_column(String(100))
    device_name: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)



class BlobRow(Base):
    """A complete photo blob (``state`` "complete", ``offset`` = ``total``); partial uploads are ``BlobPartialRow``.

    ``updated_at`` is when its bytes were last uploaded or proven by an uploader:
    housekeeping never removes a blob within its grace period from then.
    """

    __tablename__ = "blobs"
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    state: Mapped[str] = mapped_column(String(10))
    offset: Mapped[int] = mapped_column(BigInteger, default=0)
    total: Mapped[int] = mapped_column(BigInteger)
    content_type: Mapped[str | None] = mapped_column(String(40))
    updated_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    #: Pixel size read from the image's header when it completed (NULL: stored before 0005).
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)


class BlobPartialRow(Base):
    """One caller's unfinished upload of a blob: only they may continue it (PROTOCOL revision 2)."""

    __tablename__ = "blob_partials"
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(36), primary_key=True, index=True)
    offset: Mapped[int] = mapped_column(BigInteger, default=0)
    total: Mapped[int] = mapped_column(BigInteger)
    content_type: Mapped[str | None] = mapped_column(String(40))
    updated_at: Mapped[datetime] = mapped_column(DateTime, index=True)


class BlobUploaderRow(Base):
    """Who uploaded (or proved they hold) the complete bytes of a blob: they may reference and download it."""

    __tablename__ = "blob_uploaders"
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(36), primary_key=True)
