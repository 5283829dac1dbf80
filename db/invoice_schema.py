"""Tables of invoicing (issue 13): billing profiles, taxes, invoices and their numbers.

Kept apart from db/schema/__init__.py (which imports this module at its end, so that
`Base.metadata` always holds these tables). docs/invoices.md says how they are used.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column

from db.schema import ZERO, Base, utcnow
from db.types import Money, UtcDateTime


class AccountProfile(Base):
    """What an invoice prints about an account, as issuer (brand: address, tax id, logo,
    footer) or as customer (address, tax id, e-mail), and how it is billed."""

    __tablename__ = "account_profiles"
    __table_args__ = (
        CheckConstraint("billing_day BETWEEN 1 AND 28", name="billing_day"),
        CheckConstraint("payment_days BETWEEN 0 AND 365", name="payment_days"),
    )

    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), primary_key=True)
    address: Mapped[str] = mapped_column(Text, default="")
    tax_id: Mapped[str] = mapped_column(String(64), default="")
    email: Mapped[str] = mapped_column(String(255), default="")
    # The brand of a reseller or of the operator, printed on the invoices it issues.
    logo: Mapped[bytes | None] = mapped_column(LargeBinary)
    logo_type: Mapped[str] = mapped_column(String(32), default="")
    invoice_footer: Mapped[str] = mapped_column(Text, default="")
    # As the customer: prices include the taxes (the invoice takes them out) or not
    # (the invoice adds them, and the tax is posted to the ledger on issue).
    tax_inclusive: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # One line per call in the PDF.
    cdr_detail: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Monthly periods start on this day of the month (00:00 UTC); 28 at most, so that
    # every month has it.
    billing_day: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    payment_days: Mapped[int] = mapped_column(Integer, default=15, server_default="15")


class AccountTax(Base):
    """One tax of an account's invoices, applied in `position` order. A compound tax
    is charged on the net amount plus the taxes before it."""

    __tablename__ = "account_taxes"
    __table_args__ = (
        # No CHECK on `rate`: Money is integer millionths on SQLite, so one SQL
        # bound would not read the same on both databases. SetTaxes checks 0 <= rate < 1.
        UniqueConstraint("account_id", "position", name="uq_account_taxes_account_position"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(64))
    rate: Mapped[Decimal] = mapped_column(Money)  # 0.21 for 21 %
    compound: Mapped[bool] = mapped_column(Boolean, default=False)


class InvoiceCounter(Base):
    """The last number an issuer gave in a year. Incremented in the transaction that
    issues, under the row's lock: a rolled-back issue gives its number back."""

    __tablename__ = "invoice_counters"

    issuer_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_number: Mapped[int] = mapped_column(Integer, default=0)


class Invoice(Base):
    """An issued invoice, statement or credit note. Never changed once written: a
    correction is a credit note. `snapshot` is the JSON of everything the document
    prints (brand, addresses, lines, taxes, calls), so a later change of a brand, a tax
    or a re-rated CDR does not change an issued document."""

    __tablename__ = "invoices"
    __table_args__ = (
        CheckConstraint("kind IN ('invoice', 'credit_note')", name="kind"),
        UniqueConstraint("issuer_id", "number", name="uq_invoices_issuer_number"),
        # One invoice per account and period; credit notes have no period key.
        UniqueConstraint("account_id", "period_key", name="uq_invoices_account_period"),
        Index("ix_invoices_account_period", "account_id", "period_start"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), default="invoice")
    issuer_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    number: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(32))
    period_key: Mapped[str | None] = mapped_column(String(80))
    period_start: Mapped[datetime] = mapped_column(UtcDateTime)
    period_end: Mapped[datetime] = mapped_column(UtcDateTime)
    issued_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    due_at: Mapped[datetime] = mapped_column(UtcDateTime)
    currency: Mapped[str] = mapped_column(String(3))
    net: Mapped[Decimal] = mapped_column(Money, default=ZERO)
    tax: Mapped[Decimal] = mapped_column(Money, default=ZERO)
    total: Mapped[Decimal] = mapped_column(Money, default=ZERO)
    opening_balance: Mapped[Decimal] = mapped_column(Money, default=ZERO)
    closing_balance: Mapped[Decimal] = mapped_column(Money, default=ZERO)
    # A credit note names the invoice it corrects.
    credits_invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id"))
    snapshot: Mapped[str] = mapped_column(Text)
