"""The account tree and who acts as an account: accounts, calling-card lots, bound
caller IDs and logins."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    event,
    false,
)
from sqlalchemy.engine.default import DefaultExecutionContext
from sqlalchemy.orm import Mapped, mapped_column, relationship

from db.schema.base import ZERO, Base, utcnow
from db.types import Money, UtcDateTime

# For the annotation only: SQLAlchemy finds RateSheet in its registry, and importing it
# here would register rate_sheets before accounts.
if TYPE_CHECKING:
    from db.schema.rates import RateSheet


def fold_username(username: str) -> str:
    """The form usernames are compared in: case-insensitive, also beyond ASCII."""
    return username.casefold()


def username_key(context: DefaultExecutionContext) -> str:
    return fold_username(context.get_current_parameters()["username"])


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
