"""Tables of bundles (free seconds or calls per period): what a level sells, which
accounts hold it in which order, and the counters of each period. See docs/bundles.md.

Kept apart from db/schema/__init__.py (which imports this module, so one `Base.metadata` holds
everything).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from db.schema import Base, utcnow
from db.types import UtcDateTime

BigId = BigInteger().with_variant(Integer, "sqlite")


class Bundle(Base):
    """What a level (the admin or a reseller, `owner_id`) sells to the level below:
    `quantity` seconds or calls per period to the destinations of `prefixes` (a comma
    list; empty: every destination). Its price is a service's (`service_id`): assigning
    the bundle subscribes the account to it."""

    __tablename__ = "bundles"
    __table_args__ = (
        UniqueConstraint("owner_id", "name", name="uq_bundles_owner_name"),
        CheckConstraint("unit IN ('seconds', 'calls')", name="unit"),
        CheckConstraint("period IN ('daily', 'weekly', 'monthly')", name="period"),
        CheckConstraint("quantity > 0", name="quantity"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    name: Mapped[str] = mapped_column(String(128))
    unit: Mapped[str] = mapped_column(String(16), default="seconds")
    quantity: Mapped[int] = mapped_column(Integer)
    period: Mapped[str] = mapped_column(String(16), default="monthly")
    prefixes: Mapped[str] = mapped_column(Text, default="")
    # True: free time is counted by the second; False: at the rate's increments.
    per_second: Mapped[bool] = mapped_column(Boolean, default=False)
    carry_over: Mapped[bool] = mapped_column(Boolean, default=False)
    inbound: Mapped[bool] = mapped_column(Boolean, default=False)
    service_id: Mapped[int | None] = mapped_column(ForeignKey("catalog_services.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class AccountBundle(Base):
    """A bundle held by an account (a child of the bundle's owner), from `start`
    (included) to `end` (excluded; NULL: open). Bundles are consumed by ascending
    `position`."""

    __tablename__ = "account_bundles"
    __table_args__ = (
        UniqueConstraint("account_id", "bundle_id", name="uq_account_bundles_account_bundle"),
        CheckConstraint("billing_day BETWEEN 1 AND 31", name="billing_day"),
        Index("ix_account_bundles_account_position", "account_id", "position"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    bundle_id: Mapped[int] = mapped_column(ForeignKey("bundles.id"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    start: Mapped[date] = mapped_column(Date)
    # Column "end_day": END is a reserved word.
    end: Mapped[date | None] = mapped_column("end_day", Date)
    billing_day: Mapped[int] = mapped_column(Integer)
    subscription_id: Mapped[int | None] = mapped_column(ForeignKey("subscriptions.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class BundleCounter(Base):
    """One period of one account bundle: `quantity` (the bundle's, plus what carried
    over), `consumed` by settled calls, `reserved` by calls in progress. Unique per
    (account bundle, period start): a period's counter is made once, full. The checks
    make a counter that would go below zero or past its quantity a failed UPDATE."""

    __tablename__ = "bundle_counters"
    __table_args__ = (
        UniqueConstraint("account_bundle_id", "period_start", name="uq_bundle_counters_period"),
        CheckConstraint(
            "consumed >= 0 AND reserved >= 0 AND consumed + reserved <= quantity",
            name="within_quantity",
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_bundle_id: Mapped[int] = mapped_column(ForeignKey("account_bundles.id"))
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    quantity: Mapped[int] = mapped_column(Integer)
    consumed: Mapped[int] = mapped_column(Integer, default=0)
    reserved: Mapped[int] = mapped_column(Integer, default=0)


class BundleHold(Base):
    """Seconds (or calls) of a counter held by an open reservation: Authorize adds to
    the counter's `reserved`, the CDR or expiry takes them back (and deletes the row)."""

    __tablename__ = "bundle_holds"

    reservation_id: Mapped[int] = mapped_column(
        ForeignKey("reservations.id", ondelete="CASCADE"), primary_key=True
    )
    counter_id: Mapped[int] = mapped_column(ForeignKey("bundle_counters.id"), primary_key=True)
    amount: Mapped[int] = mapped_column(Integer)


class BundleUse(Base):
    """What one CDR took from one counter, at one level: the audit of a counter (its
    `consumed` is the sum of these). `cdr_id` has no foreign key: the listener's batch
    path prices its CDRs (and consumes) before it inserts their rows."""

    __tablename__ = "bundle_uses"
    __table_args__ = (UniqueConstraint("cdr_id", "counter_id", name="uq_bundle_uses_cdr_counter"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    cdr_id: Mapped[int] = mapped_column(BigId, index=True)
    counter_id: Mapped[int] = mapped_column(ForeignKey("bundle_counters.id"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    level: Mapped[int] = mapped_column(Integer)
    amount: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
