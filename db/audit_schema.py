"""Tables of the security record: who changed what (audit_events) and who tried to log
in (login_attempts). Written by services/common/audit.py and services/common/throttle.py."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from db.schema import Base, utcnow
from db.types import UtcDateTime


class AuditEvent(Base):
    """One ORM change made by a service call: an insert, update or delete of one row.

    `scope_path` is the account-tree path the change belongs to (the changed account's,
    or its owner's, or else the caller's): a reseller reads the events under its path.
    `changes` is JSON, {field: [before, after]}, with secrets written as "***".
    """

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_scope_path_id", "scope_path", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)
    operation: Mapped[str] = mapped_column(String(80))
    login_id: Mapped[int | None] = mapped_column(Integer)
    username: Mapped[str] = mapped_column(String(80), default="")
    actor_account_id: Mapped[int | None] = mapped_column(Integer)
    scope_path: Mapped[str] = mapped_column(String(255), default="")
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[str] = mapped_column(String(40), default="")
    action: Mapped[str] = mapped_column(String(8))  # insert, update, delete
    changes: Mapped[str] = mapped_column(Text, default="{}")


class LoginAttempt(Base):
    """A failed login, or the first successful one of a login from an address in a while:
    what the throttle counts and what the operator reads after an attack."""

    __tablename__ = "login_attempts"
    __table_args__ = (
        Index("ix_login_attempts_username_key_at", "username_key", "at"),
        Index("ix_login_attempts_address_at", "address", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    username_key: Mapped[str] = mapped_column(String(80))
    address: Mapped[str] = mapped_column(String(64), default="")
    success: Mapped[bool] = mapped_column(Boolean)
