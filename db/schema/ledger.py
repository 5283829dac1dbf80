"""The ledger: one signed row per change of a balance."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from db.schema.base import Base, utcnow
from db.types import Money, UtcDateTime


class LedgerEntry(Base):
    """Every change of a balance, written in the same transaction as the change.

    `amount` is signed in the direction of the balance: a payment is positive, a call
    charge negative. An account's balance always equals the sum of its entries.
    """

    __tablename__ = "ledger"
    __table_args__ = (
        CheckConstraint(
            "kind IN ('payment', 'call', 'recurring', 'refund', 'adjustment', 'tax', 'voucher',"
            " 'bundle')",
            name="kind",
        ),
        Index("ix_ledger_account_created", "account_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    kind: Mapped[str] = mapped_column(String(16))
    amount: Mapped[Decimal] = mapped_column(Money)
    balance_after: Mapped[Decimal] = mapped_column(Money)
    cdr_id: Mapped[int | None] = mapped_column(ForeignKey("cdrs.id"), index=True)
    reference: Mapped[str] = mapped_column(String(255), default="")
    login_id: Mapped[int | None] = mapped_column(ForeignKey("logins.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
