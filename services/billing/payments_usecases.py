"""Adjustments, refunds, and the history of an account's money. No spyne here.

The sign convention is docs/design.md's ("Money"): `balance` is what the customer has, and a ledger
amount is signed in the direction of the balance (a payment or a refund is positive,
a call charge negative, an adjustment either). The payer never changes: a parent
acting on its child's balance leaves its own balance alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import func, select

from db import ledger
from db.schema import Account, Charge, LedgerEntry
from db.session import UnitOfWork
from rating.errors import InsufficientCredit, InvalidInput, NotFound
from rating.money import ZERO, to_money
from services.billing import payment_reports
from services.common.caller import Caller, managed_account, visible_account
from services.common.paging import newest_first
from services.recurring.payment import settle_after_payment

MONEY_KINDS = payment_reports.MONEY_KINDS


def _floor(account: Account) -> Decimal:
    return -account.credit_limit if account.billing_type == "postpaid" else ZERO


def adjust(
    uow: UnitOfWork, caller: Caller, account_id: int, amount: object, reference: str
) -> LedgerEntry:
    """A signed correction by the parent. A negative one may not take a prepaid
    account below 0 or a postpaid one below -credit_limit (InsufficientCredit)."""
    value = to_money(amount, "amount")
    if value == 0:
        raise InvalidInput("amount: an adjustment is not zero")
    if not reference.strip():
        raise InvalidInput("reference: say why")
    account = managed_account(uow.session, caller, account_id)
    if account.status == "closed":
        raise InvalidInput(f"account {account.id} is closed")
    entry = ledger.post(
        uow.session,
        account.id,
        "adjustment",
        value,
        reference=reference.strip(),
        login_id=caller.login_id,
    )
    if value < 0 and entry.balance_after < _floor(account):
        # Nothing is committed: the unit of work rolls the update back.
        raise InsufficientCredit(f"account {account.id}: the balance would go below its floor")
    if value > 0:  # a suspended subscription (a DID) this covers resumes now
        settle_after_payment(uow.session, account.id, datetime.now(UTC))
    uow.commit()
    return entry


def refund(
    uow: UnitOfWork,
    caller: Caller,
    account_id: int,
    amount: object,
    cdr_id: int | None,
    reference: str,
) -> LedgerEntry:
    """Money given back to the account (positive). With `cdr_id`, a refund of that
    call: at most what the call charged this account, less earlier refunds of it."""
    value = to_money(amount, "amount")
    if value <= 0:
        raise InvalidInput("amount: a refund is positive")
    account = managed_account(uow.session, caller, account_id)
    if cdr_id is not None:
        charged = uow.session.execute(
            select(func.coalesce(func.sum(Charge.cost), 0)).where(
                Charge.cdr_id == cdr_id, Charge.account_id == account.id
            )
        ).scalar_one()
        if not charged:
            raise NotFound(f"account {account.id} has no charge for cdr {cdr_id}")
        refunded = uow.session.execute(
            select(func.coalesce(func.sum(LedgerEntry.amount), 0)).where(
                LedgerEntry.cdr_id == cdr_id,
                LedgerEntry.account_id == account.id,
                LedgerEntry.kind == "refund",
            )
        ).scalar_one()
        if value > Decimal(charged) - Decimal(refunded):
            raise InvalidInput(
                f"amount: at most {Decimal(charged) - Decimal(refunded)} is left to refund"
            )
    entry = ledger.post(
        uow.session,
        account.id,
        "refund",
        value,
        reference=reference.strip()[:255],
        cdr_id=cdr_id,
        login_id=caller.login_id,
    )
    settle_after_payment(uow.session, account.id, datetime.now(UTC))
    uow.commit()
    return entry


@dataclass(frozen=True)
class HistoryFilter:
    account_id: int | None = None
    kinds: tuple[str, ...] = ()
    start: datetime | None = None
    end: datetime | None = None
    # The account and every account below it (ListPayments for a reseller's subtree).
    subtree: bool = False


def history(
    uow: UnitOfWork, caller: Caller, flt: HistoryFilter, offset: int, limit: int
) -> tuple[list[LedgerEntry], int]:
    """Ledger rows of one account (your own by default), or of its whole subtree,
    newest first."""
    if flt.subtree:
        where = [payment_reports.subtree_of(uow.session, caller, flt.account_id)]
    else:
        account = visible_account(uow.session, caller, flt.account_id)
        where = [LedgerEntry.account_id == account.id]
    if flt.kinds:
        where.append(LedgerEntry.kind.in_(flt.kinds))
    if flt.start is not None:
        where.append(LedgerEntry.created_at >= flt.start)
    if flt.end is not None:
        where.append(LedgerEntry.created_at < flt.end)
    return newest_first(uow.session, LedgerEntry, LedgerEntry.id, where, offset, limit)
