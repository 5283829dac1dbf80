"""Calls as Asterisk reported them (CDRs) and what each level of the tree paid for them
(charges)."""

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
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from db.schema.base import ZERO, Base, utcnow
from db.types import ExactRate, Money, UtcDateTime


class Cdr(Base):
    """One Asterisk CDR as received, with what rating made of it.

    Never deleted and never dropped: a CDR that can't be rated is stored with
    `status = 'unrated'` and the reason, to be re-rated later. (uniqueid, sequence)
    is the idempotency key: a replayed stream inserts nothing twice. A source that does
    not carry Asterisk's sequence (Master.csv) stores a negative number derived from the
    fingerprint there; the fingerprint (unique too) recognises one CDR from both sources.
    """

    __tablename__ = "cdrs"
    __table_args__ = (
        UniqueConstraint("uniqueid", "sequence", name="uq_cdrs_uniqueid_sequence"),
        UniqueConstraint("fingerprint", name="uq_cdrs_fingerprint"),
        CheckConstraint("status IN ('rated', 'unrated')", name="status"),
        Index("ix_cdrs_account_start", "account_id", "start_time"),
        Index("ix_cdrs_start", "start_time"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    uniqueid: Mapped[str] = mapped_column(String(64))
    sequence: Mapped[int] = mapped_column(BigInteger, default=-1)
    linkedid: Mapped[str] = mapped_column(String(64), default="")
    accountcode: Mapped[str] = mapped_column(String(80), default="")
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    src: Mapped[str] = mapped_column(String(80), default="")
    dst: Mapped[str] = mapped_column(String(80), default="")
    dcontext: Mapped[str] = mapped_column(String(80), default="")
    callerid: Mapped[str] = mapped_column(String(160), default="")
    channel: Mapped[str] = mapped_column(String(160), default="")
    dstchannel: Mapped[str] = mapped_column(String(160), default="")
    lastapp: Mapped[str] = mapped_column(String(80), default="")
    lastdata: Mapped[str] = mapped_column(String(255), default="")
    start_time: Mapped[datetime] = mapped_column(UtcDateTime)
    answer_time: Mapped[datetime | None] = mapped_column(UtcDateTime)
    end_time: Mapped[datetime] = mapped_column(UtcDateTime)
    duration: Mapped[int] = mapped_column(Integer, default=0)
    billsec: Mapped[int] = mapped_column(Integer, default=0)
    disposition: Mapped[str] = mapped_column(String(32), default="")
    amaflags: Mapped[str] = mapped_column(String(32), default="")
    userfield: Mapped[str] = mapped_column(String(255), default="")
    peeraccount: Mapped[str] = mapped_column(String(80), default="")
    extra: Mapped[str] = mapped_column(Text, default="")  # JSON of extra [mappings] fields
    source: Mapped[str] = mapped_column(String(16), default="ami")
    trunk_id: Mapped[int | None] = mapped_column(ForeignKey("trunks.id"))
    status: Mapped[str] = mapped_column(String(16), default="unrated")
    unrated_reason: Mapped[str] = mapped_column(String(255), default="")
    # What AMI and Master.csv both carry (services/cdr/usecases.fingerprint): the second
    # idempotency key, so a call imported from either source is stored once.
    fingerprint: Mapped[str | None] = mapped_column(String(64))
    # Why the billing server hung the call up, if it did (credit ran out).
    hangup_reason: Mapped[str] = mapped_column(String(255), default="", server_default="")
    # The customer's figures (level 0); every level's are in `charges`.
    prefix: Mapped[str] = mapped_column(String(32), default="")
    destination: Mapped[str] = mapped_column(String(128), default="")
    billed_seconds: Mapped[int] = mapped_column(Integer, default=0)
    exact_cost: Mapped[Decimal] = mapped_column(Money, default=ZERO)
    cost: Mapped[Decimal] = mapped_column(Money, default=ZERO)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    rated_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # An on-net call (services/onnet): the account it rang; NULL for every other call.
    # No foreign key: adding one would rebuild the whole CDR table on SQLite.
    onnet_account_id: Mapped[int | None] = mapped_column(Integer)


class Charge(Base):
    """What one level of the account tree paid for one call (level 0 = the customer),
    or, with `account_id` NULL and `provider_id` set, what the operator pays."""

    __tablename__ = "charges"
    __table_args__ = (
        Index("ix_charges_account", "account_id"),
        Index("ix_charges_cdr", "cdr_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    cdr_id: Mapped[int] = mapped_column(ForeignKey("cdrs.id"))
    level: Mapped[int] = mapped_column(Integer)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    provider_id: Mapped[int | None] = mapped_column(ForeignKey("providers.id"))
    sheet_id: Mapped[int | None] = mapped_column(ForeignKey("rate_sheets.id"))
    prefix: Mapped[str] = mapped_column(String(32), default="")
    billed_seconds: Mapped[int] = mapped_column(Integer, default=0)
    exact_cost: Mapped[Decimal] = mapped_column(Money, default=ZERO)
    cost: Mapped[Decimal] = mapped_column(Money, default=ZERO)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    # Currencies (docs/currencies.md): `cost` and `exact_cost` are always in the paying
    # account's currency (what its ledger row says). When the level was rated on a sheet
    # in another currency, the sheet's own amount and currency and the multiplier used
    # are kept too; `operator_cost` is the amount in the operator's currency when the
    # row's currency is another (NULL: `cost` already is).
    sheet_currency: Mapped[str | None] = mapped_column(String(3))
    sheet_cost: Mapped[Decimal | None] = mapped_column(Money)
    fx_rate: Mapped[Decimal | None] = mapped_column(ExactRate)
    operator_cost: Mapped[Decimal | None] = mapped_column(Money)
