"""Calls in progress: the money held for them (reservations), the calls up now (kept by
the AMI listener) and the calls the billing server hung up."""

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
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from db.schema.base import Base, utcnow
from db.types import Money, UtcDateTime


class Reservation(Base):
    """Money held for a call in progress (docs/design.md, "Credit control")."""

    __tablename__ = "reservations"
    __table_args__ = (
        CheckConstraint("status IN ('open', 'settled', 'released', 'expired')", name="status"),
        Index("ix_reservations_uniqueid", "uniqueid"),
        # The resellers' rows of a call, by the customer's row (settlement, expiry, the
        # slices); only those rows (0026): `parent_id = x` implies NOT NULL, and a
        # planner without statistics of the table (right after a burst of calls) took
        # `parent_id IS NULL` for a rare value and read every customer row through it.
        Index(
            "ix_reservations_parent_id",
            "parent_id",
            postgresql_where=text("parent_id IS NOT NULL"),
            sqlite_where=text("parent_id IS NOT NULL"),
        ),
        # The `balance` strategy counts a trunk's calls of every status since a moment
        # (services/credit/routing.py); no full index holds `status` (0026), so none
        # looks like a way to a batch's reservations to a planner without statistics.
        Index("ix_reservations_trunk_created", "trunk_id", "created_at"),
        # Only the open rows, a small part of the table: what Authorize's concurrent
        # calls, trunk channel limits, expiry and the listener's slice extension look
        # at. No index by account or expiry holds closed rows (0026): every index on
        # this table costs an entry at every Authorize and another at every settlement.
        Index(
            "ix_reservations_open_account",
            "account_id",
            "parent_id",
            postgresql_where=text("status = 'open'"),
            sqlite_where=text("status = 'open'"),
        ),
        Index(
            "ix_reservations_open_trunk",
            "trunk_id",
            postgresql_where=text("status = 'open' AND parent_id IS NULL"),
            sqlite_where=text("status = 'open' AND parent_id IS NULL"),
        ),
        # Authorize's expiry of the chain's overdue rows: only the due ones are read.
        Index(
            "ix_reservations_open_account_expires",
            "account_id",
            "expires_at",
            postgresql_where=text("status = 'open'"),
            sqlite_where=text("status = 'open'"),
        ),
        Index(
            "ix_reservations_open_expires",
            "expires_at",
            postgresql_where=text("status = 'open'"),
            sqlite_where=text("status = 'open'"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    number: Mapped[str] = mapped_column(String(80))
    amount: Mapped[Decimal] = mapped_column(Money)
    max_seconds: Mapped[int] = mapped_column(Integer)
    # The seconds `amount` pays for: a first slice at Authorize, extended by the AMI
    # listener while the call is up (services/credit/slices.py), never past max_seconds.
    reserved_seconds: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    status: Mapped[str] = mapped_column(String(16), default="open")
    uniqueid: Mapped[str] = mapped_column(String(64), default="")
    cdr_id: Mapped[int | None] = mapped_column(ForeignKey("cdrs.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # The customer's reservation is the one with parent_id NULL; each reseller above
    # holds its own share of the call in a row pointing at it (settled together).
    parent_id: Mapped[int | None] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), ForeignKey("reservations.id")
    )
    # The first trunk offered: what trunk channel limits and the `balance` strategy count.
    trunk_id: Mapped[int | None] = mapped_column(ForeignKey("trunks.id"))


# A live call no listener has refreshed for this long is gone (its listener died, or
# lost its Asterisk): listeners delete such rows, and GetLiveCalls never shows them.
LIVE_CALL_STALE_AFTER_S = 60.0


class LiveCall(Base):
    """A call up right now, kept by the AMI listener (ami_listener/live.py) so that every
    gunicorn worker can show it. Keyed by the dialling channel's Uniqueid (the CDR's
    UniqueID); removed on its Hangup, when Asterisk no longer lists its channel
    (CoreShowChannels), or when no listener has refreshed `seen_at` for a while."""

    __tablename__ = "live_calls"

    uniqueid: Mapped[str] = mapped_column(String(64), primary_key=True)
    linkedid: Mapped[str] = mapped_column(String(64), default="")
    channel: Mapped[str] = mapped_column(String(160), default="")
    dstchannel: Mapped[str] = mapped_column(String(160), default="")
    accountcode: Mapped[str] = mapped_column(String(80), default="")
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"), index=True)
    trunk_id: Mapped[int | None] = mapped_column(ForeignKey("trunks.id"), index=True)
    number: Mapped[str] = mapped_column(String(80), default="")
    state: Mapped[str] = mapped_column(String(16), default="dialing")  # dialing, up
    started_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    answered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    # The Asterisk (its AMI host:port) the call is on: a listener reconciles only these.
    asterisk: Mapped[str] = mapped_column(String(120), default="", server_default="")
    # When a listener last saw the call up (refreshed every few seconds). Rows from
    # before this column have the epoch: nobody refreshed them.
    seen_at: Mapped[datetime] = mapped_column(
        UtcDateTime, default=utcnow, server_default="1970-01-01 00:00:00", index=True
    )


class CallIntervention(Base):
    """A call the billing server hung up over AMI, and why. Unique per channel Uniqueid,
    so two listeners on one Asterisk decide (and act) once."""

    __tablename__ = "call_interventions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uniqueid: Mapped[str] = mapped_column(String(64), unique=True)
    channel: Mapped[str] = mapped_column(String(160), default="")
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    reservation_id: Mapped[int | None] = mapped_column(ForeignKey("reservations.id"))
    action: Mapped[str] = mapped_column(String(16), default="hangup")
    reason: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
