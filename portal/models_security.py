"""The tables of accounts, sign-in throttling and the audit log.

Kept apart from the field records of ``portal.models`` (same declarative base): they
are never synced, never carry ``seq`` and change for security reasons only.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, DateTime, ForeignKey, Index, Integer, String
from sqlalchemy import false as sa_false
from sqlalchemy.orm import Mapped, mapped_column

from portal.models import Base


class KnownDeviceRow(Base):
    """A device that signed in successfully as a user: a throttled username still lets it try."""

    __tablename__ = "known_devices"
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), primary_key=True)
    device_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    first_at: Mapped[datetime] = mapped_column(DateTime)
    last_at: Mapped[datetime] = mapped_column(DateTime)


class ThrottleKeyRow(Base):
    """One row per throttled key (username, device or client address): the row its checks lock."""

    __tablename__ = "login_throttle"
    key: Mapped[str] = mapped_column(String(300), primary_key=True)
    last_at: Mapped[datetime] = mapped_column(DateTime, index=True)


class LoginAttemptRow(Base):
    """A sign-in counted against a key; written before the password is checked, marked when it has been."""

    __tablename__ = "login_attempts"
    __table_args__ = (Index("ix_login_attempts_key_at", "key", "at"),)
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(300))
    #: One sign-in writes a row per key it counts against; they share this id.
    attempt: Mapped[str] = mapped_column(String(32), index=True)
    at: Mapped[datetime] = mapped_column(DateTime)
    succeeded: Mapped[bool] = mapped_column(Boolean, default=False)
    #: The password has been checked (until then the attempt counts as a failure).
    checked: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())
    #: It succeeded while an earlier attempt at the key was still being checked (a burst of guesses).
    overlapped: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())


class AuditEventRow(Base):
    """Who did what to which record, from which device and address (never a password, token or field value).

    Ids come from the ``audit_seq`` counter, taken inside the writing transaction, so
    they are handed out in commit order and a reader paging by id never skips one.
    The database refuses UPDATE and DELETE on this table (triggers, migration 0007).
    """

    __tablename__ = "audit_events"
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(DateTime)
    actor_id: Mapped[str | None] = mapped_column(String(36), index=True)
    action: Mapped[str] = mapped_column(String(40))
    entity: Mapped[str | None] = mapped_column(String(40))
    entity_id: Mapped[str | None] = mapped_column(String(64))
    device_id: Mapped[str | None] = mapped_column(String(100))
    address: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
