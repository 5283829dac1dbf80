"""Tables of the operator's month: the catalogue of priced services, subscriptions,
their recurring charges, DIDs, and the job worker's leases and runs.

Kept apart from db/schema/__init__.py (which imports this module, so one `Base.metadata` holds
everything). See docs/recurring.md and docs/dids.md.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

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

from db.schema import ZERO, Base, utcnow
from db.types import Money, UtcDateTime

BigId = BigInteger().with_variant(Integer, "sqlite")


class CatalogService(Base):
    """A priced service (a monthly package, a DID's number rent ...) owned by the admin
    or by a reseller who sells it to its subtree. What each level pays is in
    `service_prices`; what the operator pays a provider (a DID's rent) is `cost_*`."""

    __tablename__ = "catalog_services"
    __table_args__ = (
        UniqueConstraint("owner_id", "name", name="uq_catalog_services_owner_name"),
        CheckConstraint("period IN ('daily', 'weekly', 'monthly', 'yearly')", name="period"),
        CheckConstraint("kind IN ('service', 'did')", name="kind"),
        CheckConstraint("unpaid_policy IN ('suspend', 'negative')", name="unpaid_policy"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    name: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(16), default="service")
    period: Mapped[str] = mapped_column(String(16), default="monthly")
    # What happens when a prepaid account can't pay a period: the charge is booked as
    # unpaid and the subscription suspended, or the balance goes below zero.
    unpaid_policy: Mapped[str] = mapped_column(String(16), default="suspend")
    provider_id: Mapped[int | None] = mapped_column(ForeignKey("providers.id"))
    cost_price: Mapped[Decimal] = mapped_column(Money, default=ZERO)
    cost_setup: Mapped[Decimal] = mapped_column(Money, default=ZERO)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class ServicePrice(Base):
    """The price a seller (the service's owner or a reseller below it) asks of the level
    below it. A level pays the price of its nearest seller above that set one."""

    __tablename__ = "service_prices"

    service_id: Mapped[int] = mapped_column(
        ForeignKey("catalog_services.id", ondelete="CASCADE"), primary_key=True
    )
    seller_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), primary_key=True)
    price: Mapped[Decimal] = mapped_column(Money, default=ZERO)
    setup_fee: Mapped[Decimal] = mapped_column(Money, default=ZERO)
    # DIDs: what an inbound minute costs the level below (per minute, 60/60 blocks).
    inbound_price: Mapped[Decimal] = mapped_column(Money, default=ZERO)


class Subscription(Base):
    """An account's subscription to a service, from `start` to `end` (exclusive; NULL:
    open). Days before `charged_through` are charged (a cursor: the exactly-once
    guarantee is the unique key of `recurring_charges`)."""

    __tablename__ = "subscriptions"
    __table_args__ = (
        CheckConstraint("status IN ('active', 'suspended', 'ended')", name="status"),
        CheckConstraint("billing_day BETWEEN 1 AND 31", name="billing_day"),
        Index("ix_subscriptions_due", "status", "charged_through"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("catalog_services.id"), index=True)
    start: Mapped[date] = mapped_column(Date)
    # Column "end_day": END is a reserved word (COPY's column list is not quoted).
    end: Mapped[date | None] = mapped_column("end_day", Date)
    billing_day: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="active")
    charged_through: Mapped[date] = mapped_column(Date)
    did_id: Mapped[int | None] = mapped_column(ForeignKey("dids.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class RecurringCharge(Base):
    """One level's fee for one period of one subscription: `what` is 'setup' (once, at
    the start), 'fee' (the period, prorated) or 'credit' (the unused days of a period
    charged before an Unsubscribe moved its end inside it). Level 0 is the subscriber,
    1.. each reseller above; the provider's cost (account NULL) is the level above the
    last account. Unique per (subscription, period, level, what): a rerun collides."""

    __tablename__ = "recurring_charges"
    __table_args__ = (
        UniqueConstraint(
            "subscription_id", "period_start", "level", "what", name="uq_recurring_charges_key"
        ),
        CheckConstraint("what IN ('setup', 'fee', 'credit')", name="what"),
        CheckConstraint("status IN ('paid', 'unpaid', 'cost')", name="status"),
        Index("ix_recurring_charges_account_status", "account_id", "status"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("subscriptions.id"))
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    level: Mapped[int] = mapped_column(Integer)
    what: Mapped[str] = mapped_column(String(16))
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    provider_id: Mapped[int | None] = mapped_column(ForeignKey("providers.id"))
    days: Mapped[int] = mapped_column(Integer, default=0)
    period_days: Mapped[int] = mapped_column(Integer, default=0)
    exact_amount: Mapped[Decimal] = mapped_column(Money, default=ZERO)
    amount: Mapped[Decimal] = mapped_column(Money, default=ZERO)
    status: Mapped[str] = mapped_column(String(16), default="paid")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    paid_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class Did(Base):
    """A number bought from a provider. Free, assigned to an account (its monthly fee is
    the subscription `subscription_id` to the DID's own service), or in quarantine after
    a release until `free_after`."""

    __tablename__ = "dids"
    __table_args__ = (
        CheckConstraint("status IN ('free', 'assigned', 'quarantine', 'removed')", name="status"),
        CheckConstraint(
            "destination_kind IN ('', 'peer', 'extension', 'external')", name="destination_kind"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("providers.id"), index=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("catalog_services.id"))
    # What the provider charges us per inbound minute.
    inbound_cost: Mapped[Decimal] = mapped_column(Money, default=ZERO)
    status: Mapped[str] = mapped_column(String(16), default="free")
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"), index=True)
    subscription_id: Mapped[int | None] = mapped_column(Integer)
    free_after: Mapped[datetime | None] = mapped_column(UtcDateTime)
    destination_kind: Mapped[str] = mapped_column(String(16), default="")
    destination: Mapped[str] = mapped_column(String(80), default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class JobLease(Base):
    """Who runs a job right now: one row per job, taken with a conditional UPDATE, so two
    workers on two hosts never run one job at once; a dead worker's lease expires."""

    __tablename__ = "job_leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(128), default="")
    acquired_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)


class JobRun(Base):
    """One run of a job: when (wall clock), for which `now`, what it did, or its error."""

    __tablename__ = "job_runs"
    __table_args__ = (
        CheckConstraint("status IN ('running', 'ok', 'error')", name="status"),
        Index("ix_job_runs_job_started", "job", "started_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    job: Mapped[str] = mapped_column(String(64))
    holder: Mapped[str] = mapped_column(String(128))
    clock: Mapped[datetime] = mapped_column(UtcDateTime)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    status: Mapped[str] = mapped_column(String(16), default="running")
    summary: Mapped[str] = mapped_column(Text, default="")
    error: Mapped[str] = mapped_column(Text, default="")
