"""Tables of e-mail (issue 13): the outbox and the low-balance alerts.

Imported at the end of db/schema/__init__.py, like db/invoice_schema. docs/invoices.md says
what the outbox guarantees.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from db.schema import Base, utcnow
from db.types import Money, UtcDateTime


class OutboxMail(Base):
    """A mail queued in the transaction that caused it, sent later by the outbox job.
    `key` names what caused it (`invoice:12`, `alert:3:2`): queuing twice is a no-op."""

    __tablename__ = "outbox"
    __table_args__ = (
        CheckConstraint("status IN ('queued', 'sending', 'sent', 'failed')", name="status"),
        Index("ix_outbox_status_next", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(128), unique=True)
    to_addr: Mapped[str] = mapped_column(String(255))
    from_name: Mapped[str] = mapped_column(String(128), default="")
    subject: Mapped[str] = mapped_column(String(255))
    body: Mapped[str] = mapped_column(Text)
    # The invoice whose PDF goes attached (drawn when sending, from its snapshot).
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id"))
    status: Mapped[str] = mapped_column(String(16), default="queued")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_error: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class BalanceAlert(Base):
    """One low-balance threshold of an account. `armed`: the balance is at or above
    it, so going below sends one mail and disarms it; a balance back at or above it
    re-arms it. `crossings` counts the mails, and keys them."""

    __tablename__ = "balance_alerts"
    __table_args__ = (
        UniqueConstraint("account_id", "threshold", name="uq_balance_alerts_account_threshold"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    threshold: Mapped[Decimal] = mapped_column(Money)
    armed: Mapped[bool] = mapped_column(Boolean, default=True)
    crossings: Mapped[int] = mapped_column(Integer, default=0)
