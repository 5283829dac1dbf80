"""The one schema of the product, shared by the four services and the AMI listener.

Money columns use `Money` (exact on SQLite too), times use `UtcDateTime` (aware UTC).
Every change here comes with an alembic revision in db/migrations/versions; a test
checks that the migrated schema equals these models.
"""

from __future__ import annotations

from datetime import UTC, datetime, time
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    Time,
    UniqueConstraint,
    event,
    false,
    text,
)
from sqlalchemy.engine.default import DefaultExecutionContext
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from db.types import ExactRate, Money, UtcDateTime

# Stable constraint names, so that alembic can alter them on both databases.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

ZERO = Decimal(0)


def utcnow() -> datetime:
    return datetime.now(UTC)


def fold_username(username: str) -> str:
    """The form usernames are compared in: case-insensitive, also beyond ASCII."""
    return username.casefold()


def username_key(context: DefaultExecutionContext) -> str:
    return fold_username(context.get_current_parameters()["username"])


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Account(Base):
    """A node of the account tree: the admin (root), resellers at any depth, customers.

    `path` is the chain of ids from the root, e.g. "/1/4/9/": a subtree is one prefix
    match, which is how every "only your own subtree" check is made.
    """

    __tablename__ = "accounts"
    __table_args__ = (
        CheckConstraint("role IN ('admin', 'reseller', 'customer')", name="role"),
        CheckConstraint("billing_type IN ('prepaid', 'postpaid')", name="billing_type"),
        CheckConstraint("status IN ('active', 'blocked', 'closed')", name="status"),
        CheckConstraint("credit_limit >= 0", name="credit_limit"),
        Index("ix_accounts_path", "path"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"), index=True)
    path: Mapped[str] = mapped_column(String(255), default="")
    role: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(128))
    billing_type: Mapped[str] = mapped_column(String(16), default="prepaid")
    balance: Mapped[Decimal] = mapped_column(Money, default=ZERO)
    credit_limit: Mapped[Decimal] = mapped_column(Money, default=ZERO)
    # What the account's open reservations hold, kept by every writer of reservations
    # under the account's row lock (services/credit/holds.py): Authorize reads it from
    # the locked row instead of summing the open reservations.
    reserved: Mapped[Decimal] = mapped_column(Money, default=ZERO, server_default="0")
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    # The account's own time zone (the operator's is set by `siptar init`): what its
    # documents and days are reckoned in. Rate sheets keep their own.
    timezone: Mapped[str] = mapped_column(String(64), default="UTC", server_default="UTC")
    # use_alter: accounts and rate_sheets refer to each other.
    rate_sheet_id: Mapped[int | None] = mapped_column(
        ForeignKey("rate_sheets.id", use_alter=True), index=True
    )
    status: Mapped[str] = mapped_column(String(16), default="active")
    status_reason: Mapped[str] = mapped_column(String(255), default="")
    # What Asterisk puts in CDR(accountcode); how a CDR finds its account.
    accountcode: Mapped[str | None] = mapped_column(String(80), unique=True)
    kind: Mapped[str] = mapped_column(String(16), default="sip")
    max_concurrent_calls: Mapped[int | None] = mapped_column(Integer)
    max_call_seconds: Mapped[int | None] = mapped_column(Integer)
    # Credit control overrides (NULL: the global SIPTAR_CREDIT_SLICE_SECONDS and
    # SIPTAR_MIN_CALL_SECONDS; services/credit/policy.py reads both).
    credit_slice_seconds: Mapped[int | None] = mapped_column(Integer)
    min_call_seconds: Mapped[int | None] = mapped_column(Integer)
    company_name: Mapped[str] = mapped_column(String(128), default="")
    # Calling cards: a PIN unique across the whole system, and the lot it came in.
    pin: Mapped[str | None] = mapped_column(String(32), unique=True)
    lot_id: Mapped[int | None] = mapped_column(ForeignKey("pin_lots.id"), index=True)
    # The SIP peer Asterisk knows this account by (also an identity for Authorize).
    sip_username: Mapped[str | None] = mapped_column(String(80), unique=True)
    # The SIP secret itself is never stored (docs/asterisk/README.md "Secrets"): only
    # its digest HA1, md5(username:realm:secret), which is what Asterisk's `md5_cred`
    # wants, bound to the realm it was computed for. "" = no secret: not provisioned.
    sip_md5_cred: Mapped[str] = mapped_column(String(40), default="", server_default="")
    sip_realm: Mapped[str] = mapped_column(String(255), default="siptar", server_default="siptar")
    # Only calls from a caller ID bound in account_callerids are allowed.
    restrict_ani: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Comma-separated access numbers (DNIS) this account may call in through; "" = any.
    allowed_dnis: Mapped[str] = mapped_column(String(255), default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    parent: Mapped[Account | None] = relationship(remote_side=[id])
    rate_sheet: Mapped[RateSheet | None] = relationship(foreign_keys=[rate_sheet_id])


class PinLot(Base):
    """A batch of calling-card accounts generated together (GeneratePins)."""

    __tablename__ = "pin_lots"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", use_alter=True), index=True)
    name: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class AccountCallerId(Base):
    """A caller ID (ANI) bound to an account: it identifies the account on Authorize."""

    __tablename__ = "account_callerids"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    callerid: Mapped[str] = mapped_column(String(40), unique=True)


class Login(Base):
    """A username and password hash that acts as one account."""

    __tablename__ = "logins"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    # The username case-folded: unique, so `Admin` can't be created beside `admin`, and
    # what a login is looked up by. Filled from `username` by every insert (ORM or Core)
    # and by an ORM rename (`_refold_username` below). Not an `onupdate`: that would run
    # on every UPDATE of the row, also one that only changes the password, and fail.
    username_key: Mapped[str] = mapped_column(String(80), unique=True, default=username_key)
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    account: Mapped[Account] = relationship()


@event.listens_for(Login.username, "set")
def _refold_username(target: Login, value: str, _old: object, _initiator: object) -> None:
    target.username_key = fold_username(value)


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


# Configuration that CDRs and charges point at is never deleted: it is disabled (out
# of routing, may come back) or retired (out for good).
CONFIG_STATUSES = "status IN ('active', 'disabled', 'retired')"


class Provider(Base):
    """A termination provider; what it charges us is its buy sheet."""

    __tablename__ = "providers"
    __table_args__ = (CheckConstraint(CONFIG_STATUSES, name="status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    buy_sheet_id: Mapped[int | None] = mapped_column(ForeignKey("rate_sheets.id"))
    status: Mapped[str] = mapped_column(String(16), default="active")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Trunk(Base):
    __tablename__ = "trunks"
    __table_args__ = (CheckConstraint(CONFIG_STATUSES, name="status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("providers.id"), index=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    # Asterisk dial string with ${NUMBER} where the number goes, e.g. PJSIP/${NUMBER}@carrier1
    dial_string: Mapped[str] = mapped_column(String(255))
    channel_limit: Mapped[int | None] = mapped_column(Integer)
    # Open calls offered this trunk first (open customer-level reservations with its
    # id), kept by every writer of reservations (services/credit/holds.py).
    open_calls: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    status: Mapped[str] = mapped_column(String(16), default="active")
    # The provider's SIP host (name or IP, port 5060): with one, the trunk is provisioned
    # to Asterisk as a PJSIP endpoint named like the trunk (db/asterisk_views.py).
    sip_host: Mapped[str] = mapped_column(String(255), default="", server_default="")

    provider: Mapped[Provider] = relationship()


class Route(Base):
    __tablename__ = "routes"
    __table_args__ = (
        CheckConstraint("strategy IN ('lcr', 'priority', 'balance', 'quality')", name="strategy"),
        CheckConstraint(CONFIG_STATUSES, name="status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    prefix: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(128), default="")
    strategy: Mapped[str] = mapped_column(String(16), default="lcr")
    allow_loss: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default="active", server_default="active")


class RouteTrunk(Base):
    __tablename__ = "route_trunks"

    route_id: Mapped[int] = mapped_column(
        ForeignKey("routes.id", ondelete="CASCADE"), primary_key=True
    )
    trunk_id: Mapped[int] = mapped_column(ForeignKey("trunks.id"), primary_key=True)
    priority: Mapped[int] = mapped_column(Integer, default=0)
    weight: Mapped[int] = mapped_column(Integer, default=1)


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


class Reservation(Base):
    """Money held for a call in progress (docs/design.md, "Credit control")."""

    __tablename__ = "reservations"
    __table_args__ = (
        CheckConstraint("status IN ('open', 'settled', 'released', 'expired')", name="status"),
        Index("ix_reservations_account_status", "account_id", "status"),
        Index("ix_reservations_uniqueid", "uniqueid"),
        Index("ix_reservations_trunk_status", "trunk_id", "status"),
        # Expiry and the listener's slice extension look for open rows by expires_at.
        Index("ix_reservations_status_expires", "status", "expires_at"),
        # Only the open rows, a small part of the table: what Authorize's concurrent
        # calls, trunk channel limits and expiry look at.
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
        BigInteger().with_variant(Integer, "sqlite"), ForeignKey("reservations.id"), index=True
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


# Audit events and login attempts live in their own module (this one is long enough);
# imported here so that every user of the schema has their tables in the metadata.
from db.audit_schema import AuditEvent, LoginAttempt  # noqa: E402

__all__ = ["AuditEvent", "LoginAttempt"]
# The operator's month (catalogue, subscriptions, DIDs, jobs) lives in its own module;
# imported here so that every user of `Base.metadata` sees those tables too.
# Invoicing's tables live in their own module; importing it here registers them on
# Base.metadata wherever the schema is used (alembic, tests, create_all).
from db import bundle_schema as _bundle_schema  # noqa: E402, F401
from db import callback_schema as _callback_schema  # noqa: E402, F401
from db import callshop_schema as _callshop_schema  # noqa: E402, F401
from db import config_schema as _config_schema  # noqa: E402, F401
from db import currency_schema as _currency_schema  # noqa: E402, F401
from db import invoice_schema as _invoice_schema  # noqa: E402, F401
from db import mail_schema as _mail_schema  # noqa: E402, F401
from db import price_schema as _price_schema  # noqa: E402, F401
from db import provisioning_schema as _provisioning_schema  # noqa: E402, F401
from db import recurring_schema  # noqa: E402, F401
