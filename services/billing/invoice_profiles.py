"""How an account is invoiced: its billing profile (address, e-mail, billing day, payment
terms, the call detail) and its taxes, set by the account's parent. No spyne here."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.invoice_schema import AccountProfile, AccountTax
from db.session import UnitOfWork
from db.upsert import insert_if_missing
from rating.errors import InvalidInput
from rating.taxes import Tax
from services.common.caller import Caller, managed_account

PROFILE_DEFAULTS: dict[str, Any] = {
    "address": "",
    "tax_id": "",
    "email": "",
    "logo_type": "",
    "invoice_footer": "",
    "tax_inclusive": False,
    "cdr_detail": False,
    "billing_day": 1,
    "payment_days": 15,
}


def profile_of(session: Session, account_id: int) -> AccountProfile:
    """The account's profile row, created (with the defaults) on first use; two
    transactions creating it at once do not fail each other."""
    profile = session.get(AccountProfile, account_id)
    if profile is None:
        insert_if_missing(session, AccountProfile, {"account_id": account_id, **PROFILE_DEFAULTS})
        profile = session.get(AccountProfile, account_id)
        assert profile is not None
    return profile


def taxes_of(session: Session, account_id: int) -> tuple[Tax, ...]:
    rows = session.scalars(
        select(AccountTax).where(AccountTax.account_id == account_id).order_by(AccountTax.position)
    ).all()
    return tuple(Tax(t.name, t.rate, t.compound) for t in rows)


def set_taxes(
    uow: UnitOfWork,
    caller: Caller,
    account_id: int,
    taxes: list[Tax],
    inclusive: bool,
    tax_id: str | None,
) -> tuple[tuple[Tax, ...], AccountProfile]:
    """Replace the taxes of an account below you (applied in the order given)."""
    account = managed_account(uow.session, caller, account_id)
    if len(taxes) > 5:
        raise InvalidInput("taxes: at most 5")
    for i, t in enumerate(taxes):
        if not t.name.strip() or len(t.name) > 64:
            raise InvalidInput(f"taxes[{i}].name: 1 to 64 characters")
        if not Decimal(0) <= t.rate < 1:
            raise InvalidInput(f"taxes[{i}].rate: from 0 to below 1 (0.21 is 21 %)")
    if tax_id is not None and len(tax_id.strip()) > 64:
        raise InvalidInput("tax_id: up to 64 characters")
    session = uow.session
    for old in session.scalars(select(AccountTax).where(AccountTax.account_id == account.id)):
        session.delete(old)
    session.flush()
    for i, t in enumerate(taxes):
        session.add(
            AccountTax(
                account_id=account.id,
                position=i,
                name=t.name.strip(),
                rate=t.rate,
                compound=t.compound,
            )
        )
    p = profile_of(session, account.id)
    p.tax_inclusive = inclusive
    if tax_id is not None:
        p.tax_id = tax_id.strip()
    uow.commit()
    return taxes_of(session, account.id), p


def set_billing_profile(
    uow: UnitOfWork,
    caller: Caller,
    account_id: int,
    address: str | None,
    email: str | None,
    billing_day: int | None,
    payment_days: int | None,
    cdr_detail: bool | None,
) -> AccountProfile:
    """How an account below you is invoiced; every field left out is kept."""
    account = managed_account(uow.session, caller, account_id)
    p = profile_of(uow.session, account.id)
    if billing_day is not None and not 1 <= billing_day <= 28:
        raise InvalidInput("billing_day: 1 to 28 (every month has it)")
    if payment_days is not None and not 0 <= payment_days <= 365:
        raise InvalidInput("payment_days: 0 to 365")
    if email is not None and email.strip() and "@" not in email:
        raise InvalidInput("email: an e-mail address")
    for name, value in (("address", address), ("email", email)):
        if value is not None and len(value) > (255 if name == "email" else 1000):
            raise InvalidInput(f"{name}: too long")
    if address is not None:
        p.address = address.strip()
    if email is not None:
        p.email = email.strip()
    if billing_day is not None:
        p.billing_day = billing_day
    if payment_days is not None:
        p.payment_days = payment_days
    if cdr_detail is not None:
        p.cdr_detail = cdr_detail
    uow.commit()
    return p
