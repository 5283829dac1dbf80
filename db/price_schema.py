"""Tables of what a price can be besides a rate: holiday calendars that rates' bands
name, and refill vouchers.

Kept apart from db/schema/__init__.py (which imports this module, so one `Base.metadata` holds
everything). See docs/rates.md ("Holiday calendars") and docs/vouchers.md.
"""

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

from db.schema import Base, utcnow
from db.types import Money, UtcDateTime

BigId = BigInteger().with_variant(Integer, "sqlite")


class HolidayCalendar(Base):
    """A named calendar of holidays; a rate's `holidays` column names it."""

    __tablename__ = "holiday_calendars"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class HolidayDay(Base):
    """One day of a calendar: "YYYY-MM-DD" (that date) or "MM-DD" (every year)."""

    __tablename__ = "holiday_days"

    calendar_id: Mapped[int] = mapped_column(
        ForeignKey("holiday_calendars.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[str] = mapped_column(String(10), primary_key=True)


class VoucherLot(Base):
    """A batch of vouchers made by one CreateVouchers call."""

    __tablename__ = "voucher_lots"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The admin or reseller that made it: its vouchers refill only its subtree.
    owner_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    name: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Voucher(Base):
    """A single-use refill code. Only a keyed hash of the code is stored (docs/vouchers.md):
    the code itself is shown once, in CreateVouchers' answer and its file."""

    __tablename__ = "vouchers"
    __table_args__ = (
        CheckConstraint("status IN ('active', 'blocked')", name="status"),
        CheckConstraint("value > 0", name="value"),
        Index("ix_vouchers_lot", "lot_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("voucher_lots.id"))
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The last four characters: enough to tell vouchers apart in a list, not to guess one.
    hint: Mapped[str] = mapped_column(String(8))
    value: Mapped[Decimal] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3))
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    status: Mapped[str] = mapped_column(String(16), default="active")
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    used_by: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
