"""Currencies and exchange rates (docs/currencies.md).

Kept apart from db/schema/__init__.py, which imports this module so that one `Base.metadata`
holds every table. The conversion itself is pure: rating/fx.py.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from db.schema import Base, utcnow
from db.types import ExactRate, UtcDateTime


class Currency(Base):
    """An ISO 4217 currency the server knows. `minor_unit`: ISO's digits after the
    point (EUR 2, JPY 0, BHD 3); `decimals`: the places a converted charge is rounded
    to (call prices run below a cent, so 4 by default)."""

    __tablename__ = "currencies"
    __table_args__ = (
        CheckConstraint("minor_unit BETWEEN 0 AND 4", name="minor_unit"),
        CheckConstraint("decimals BETWEEN 0 AND 6", name="decimals"),
    )

    code: Mapped[str] = mapped_column(String(3), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    minor_unit: Mapped[int] = mapped_column(Integer, default=2)
    decimals: Mapped[int] = mapped_column(Integer, default=4)


class ExchangeRateRow(Base):
    """One unit of `from_currency` buys `rate` units of `to_currency` from
    `valid_from` on (until the pair's next row starts). Rows are never updated in
    place for a moment already charged: a new rate is a new row (setting the same
    pair and moment again replaces the rate; see docs/currencies.md)."""

    __tablename__ = "exchange_rates"
    __table_args__ = (
        UniqueConstraint(
            "from_currency", "to_currency", "valid_from", name="uq_exchange_rates_pair_start"
        ),
        CheckConstraint("from_currency <> to_currency", name="pair"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    from_currency: Mapped[str] = mapped_column(ForeignKey("currencies.code"))
    to_currency: Mapped[str] = mapped_column(ForeignKey("currencies.code"))
    rate: Mapped[Decimal] = mapped_column(ExactRate)
    valid_from: Mapped[datetime] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
