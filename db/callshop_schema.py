"""Tables of the call shop (docs/callshop.md): the shop's own settings (its sell
sheet), its booths (each a SIP peer of the shop's account) and the walk-in customers'
sessions on them.

Kept apart from db/schema/__init__.py, which imports this module so that one `Base.metadata`
holds everything.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, String, false
from sqlalchemy.orm import Mapped, mapped_column

from db.schema import ZERO, Base, utcnow
from db.types import Money, UtcDateTime


class CallShop(Base):
    """A `callshop` account's own settings: the sheet it charges walk-in customers by
    (owned by the shop, which edits it). What the shop pays stays its `rate_sheet_id`."""

    __tablename__ = "callshops"

    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), primary_key=True)
    sell_sheet_id: Mapped[int] = mapped_column(ForeignKey("rate_sheets.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Booth(Base):
    """A booth of a shop: the SIP peer (PJSIP endpoint name) its phone or ATA port
    registers as. `locked`: the shop closed it; Authorize refuses its calls."""

    __tablename__ = "callshop_booths"
    __table_args__ = (Index("ix_callshop_booths_shop", "shop_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    name: Mapped[str] = mapped_column(String(64))
    sip_peer: Mapped[str] = mapped_column(String(80), unique=True)
    locked: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class BoothSession(Base):
    """One walk-in customer on one booth: open while they call, `to_pay` once the shop
    closed it (the receipt's figures are fixed then), `paid` once charged. At most one
    session of a booth is not yet paid (checked under the booth's row lock)."""

    __tablename__ = "callshop_sessions"
    __table_args__ = (
        CheckConstraint("status IN ('open', 'to_pay', 'paid')", name="status"),
        Index("ix_callshop_sessions_booth_status", "booth_id", "status"),
        Index("ix_callshop_sessions_shop_opened", "shop_id", "opened_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    booth_id: Mapped[int] = mapped_column(ForeignKey("callshop_booths.id"))
    shop_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    status: Mapped[str] = mapped_column(String(16), default="open")
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    paid_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # Fixed when the session is closed: the receipt's figures at the sell sheet.
    calls: Mapped[int] = mapped_column(Integer, default=0)
    billed_seconds: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[Decimal] = mapped_column(Money, default=ZERO)
