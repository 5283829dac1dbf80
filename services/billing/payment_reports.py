"""Payments across accounts and periods: ListPayments over a subtree, and
GetPaymentReport (payments, refunds and adjustments summed by day, account or kind,
in the database). No spyne here."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from db.schema import Account, LedgerEntry
from db.session import UnitOfWork
from services.common.caller import Caller, visible_account
from services.common.periods import Report

# Money in and out of an account that is not a call or a fee: a redeemed voucher is a
# payment made with a code (issue 14), so it is listed and reported with the others.
MONEY_KINDS = ("payment", "refund", "adjustment", "voucher")

GROUPS = ("day", "account", "kind")  # the order of group_key's keys


@dataclass(frozen=True)
class ReportLine:
    key: str
    count: int
    amount: Decimal


def subtree_of(session: Session, caller: Caller, account_id: int | None) -> ColumnElement[bool]:
    """Ledger rows of the account (your own by default) and every account below it."""
    path = visible_account(session, caller, account_id).path
    return LedgerEntry.account_id.in_(select(Account.id).where(Account.path.startswith(path)))


def payment_report(uow: UnitOfWork, caller: Caller, report: Report) -> list[ReportLine]:
    session = uow.session
    key = report.group_key(
        session,
        LedgerEntry.created_at,
        {"account": LedgerEntry.account_id, "kind": LedgerEntry.kind},
    )
    rows = session.execute(
        select(key, func.count(), func.sum(LedgerEntry.amount))
        .where(
            subtree_of(session, caller, report.account_id),
            LedgerEntry.kind.in_(MONEY_KINDS),
            LedgerEntry.created_at >= report.start,
            LedgerEntry.created_at < report.end,
        )
        .group_by(key)
        .order_by(key)
    ).all()
    return [ReportLine(str(k), int(n), a) for k, n, a in rows]
