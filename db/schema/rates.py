"""Prices: rate sheets (sell or buy) and their rows."""

from __future__ import annotations

from datetime import datetime, time
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Time,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from db.schema.base import ZERO, Base, utcnow
from db.types import Money, UtcDateTime


class RateSheet(Base):
    """A sell or buy price list. `owner_id` is the account that may edit it."""

    __tablename__ = "rate_sheets"
    __table_args__ = (
        UniqueConstraint("owner_id", "name", name="uq_rate_sheets_owner_name"),
        CheckConstraint("rounding IN ('half_up', 'up', 'down')", name="rounding"),
        CheckConstraint("block_mode IN ('first_block', 'whole_call')", name="block_mode"),
        CheckConstraint("decimals BETWEEN 0 AND 6", name="decimals"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    name: Mapped[str] = mapped_column(String(128))
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    decimals: Mapped[int] = mapped_column(Integer, default=4)
    rounding: Mapped[str] = mapped_column(String(16), default="half_up")
    block_mode: Mapped[str] = mapped_column(String(16), default="first_block")
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    # Bumped on every change of the sheet or its rates: caches compare it.
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Rate(Base):
    """One row of a rate sheet; fields as the rate table of docs/design.md."""

    __tablename__ = "rates"
    __table_args__ = (Index("ix_rates_sheet_prefix", "sheet_id", "prefix"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    sheet_id: Mapped[int] = mapped_column(ForeignKey("rate_sheets.id", ondelete="CASCADE"))
    prefix: Mapped[str] = mapped_column(String(32))
    destination: Mapped[str] = mapped_column(String(128), default="")
    price: Mapped[Decimal | None] = mapped_column(Money)
    tiers: Mapped[str] = mapped_column(String(512), default="")  # "from:price:increment;..."
    initial_increment: Mapped[int] = mapped_column(Integer, default=1)
    increment: Mapped[int] = mapped_column(Integer, default=1)
    connect_fee: Mapped[Decimal] = mapped_column(Money, default=ZERO)
    included_seconds: Mapped[int] = mapped_column(Integer, default=0)
    free_below: Mapped[int] = mapped_column(Integer, default=0)
    min_cost: Mapped[Decimal] = mapped_column(Money, default=ZERO)
    max_cost: Mapped[Decimal | None] = mapped_column(Money)
    weekdays: Mapped[str] = mapped_column(String(64), default="")  # "mon-fri"; "" = every day
    time_from: Mapped[time | None] = mapped_column(Time)
    time_to: Mapped[time | None] = mapped_column(Time)
    # The name of a holiday calendar (db/price_schema.py); "" = not a holiday band.
    holidays: Mapped[str] = mapped_column(String(64), default="", server_default="")
    valid_from: Mapped[datetime | None] = mapped_column(UtcDateTime)
    valid_to: Mapped[datetime | None] = mapped_column(UtcDateTime)
