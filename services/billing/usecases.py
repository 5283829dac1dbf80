"""Billing use cases: balances, payments, quotes. No spyne here."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy.orm import Session

from db import ledger
from db.rates import plans
from db.schema import Account, LedgerEntry, RateSheet
from db.session import UnitOfWork
from rating import normalise_number
from rating.errors import InvalidInput, NotFound
from rating.model import CallCost, CallToRate
from rating.money import ZERO, to_money
from services.bundles import credit as bundle_credit
from services.common.caller import Caller, managed_account, visible_account
from services.currency.quotes import in_account_currency
from services.recurring.payment import settle_after_payment

MAX_QUOTE_SECONDS = 86_400


@dataclass(frozen=True)
class Balance:
    account_id: int
    name: str
    currency: str
    billing_type: str
    balance: Decimal
    credit_limit: Decimal
    reserved: Decimal
    available: Decimal


@dataclass(frozen=True)
class Quote:
    sheet_id: int
    currency: str
    cost: CallCost
    # Quoted for an account in another currency (docs/currencies.md): its amount, at
    # the rate in force at the call's start.
    account_currency: str = ""
    account_cost: Decimal | None = None
    # Quoted by account: the seconds its bundles would cover (`cost` is the paid rest).
    bundle_seconds: int = 0


def get_balance(uow: UnitOfWork, caller: Caller, account_id: int | None) -> Balance:
    account = visible_account(uow.session, caller, account_id)
    reserved = account.reserved  # kept by every writer of reservations (credit/holds.py)
    limit = account.credit_limit if account.billing_type == "postpaid" else ZERO
    return Balance(
        account_id=account.id,
        name=account.name,
        currency=account.currency,
        billing_type=account.billing_type,
        balance=account.balance,
        credit_limit=limit,
        reserved=reserved,
        available=account.balance + limit - reserved,
    )


def add_payment(
    uow: UnitOfWork, caller: Caller, account_id: int, amount: object, reference: str
) -> LedgerEntry:
    """A refill of a child account by an account above it. The payer's own balance is
    not touched: a reseller collects the money outside the system."""
    value = to_money(amount, "amount")
    if value <= 0:
        raise InvalidInput("amount: a payment must be positive")
    account = managed_account(uow.session, caller, account_id)
    if account.status == "closed":
        raise InvalidInput(f"account {account.id} is closed")
    entry = ledger.post(
        uow.session,
        account.id,
        "payment",
        value,
        reference=reference.strip(),
        login_id=caller.login_id,
    )
    # A suspended subscription (a DID) that this payment covers resumes now.
    settle_after_payment(uow.session, account.id, datetime.now(UTC))
    uow.commit()
    return entry


def quote_call(
    uow: UnitOfWork,
    caller: Caller,
    *,
    sheet_id: int | None,
    account_id: int | None,
    number: str,
    start: datetime | None,
    duration: int,
) -> Quote:
    """What a call would cost: the rate simulator. By sheet, or by an account's sheet."""
    if duration < 0 or duration > MAX_QUOTE_SECONDS:
        raise InvalidInput(f"duration: must be between 0 and {MAX_QUOTE_SECONDS} seconds")
    sheet = _quotable_sheet(uow, caller, sheet_id, account_id)
    moment = start or datetime.now(UTC)
    if moment.tzinfo is None:
        raise InvalidInput("start: a time with a UTC offset is needed")
    plan = plans.plan(uow.session, sheet.id)
    call = CallToRate(number=normalise_number(number), start=moment, billsec=duration)
    quote = Quote(sheet_id=sheet.id, currency=sheet.currency, cost=plan.rate_call(call))
    if sheet_id is None:  # by account: its bundles as they stand now (docs/bundles.md)
        payer = visible_account(uow.session, caller, account_id)
        if (free := bundle_credit.quoted(uow.session, payer.id, plan, call)) is not None:
            quote = replace(quote, cost=free[0], bundle_seconds=free[1])
    # By account: also in the account's currency (raises NoExchangeRate without a rate).
    return in_account_currency(uow.session, quote, sheet_id, account_id, caller, moment)


def _quotable_sheet(
    uow: UnitOfWork, caller: Caller, sheet_id: int | None, account_id: int | None
) -> RateSheet:
    session = uow.session
    if sheet_id is not None and account_id is not None:
        raise InvalidInput("give sheet_id or account_id, not both")
    if sheet_id is None:
        account = visible_account(session, caller, account_id)
        if account.rate_sheet_id is None:
            raise NotFound(f"account {account.id} has no rate sheet")
        sheet_id = account.rate_sheet_id
        found = session.get(RateSheet, sheet_id)
        assert found is not None  # foreign key
        return found
    sheet = session.get(RateSheet, sheet_id)
    if sheet is None or not may_read_sheet(session, caller, sheet):
        raise NotFound(f"rate sheet {sheet_id} not found")
    return sheet


def may_read_sheet(session: Session, caller: Caller, sheet: RateSheet) -> bool:
    """A sheet is readable by the admin, by its owner and the owner's ancestors, and by
    the account that pays by it."""
    if caller.is_admin:
        return True
    owner = session.get(Account, sheet.owner_id)
    if owner is not None and caller.owns(owner):
        return True
    mine = session.get(Account, caller.account_id)
    return mine is not None and mine.rate_sheet_id == sheet.id
