"""Payments across accounts and periods: ListPayments over a subtree, and
GetPaymentReport (payments, refunds and adjustments summed by day, account or kind,
in the database). No spyne here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from db.schema import Account, LedgerEntry
from db.session import UnitOfWork
from services.common.caller import Caller, visible_account
from services.common.periods import check_report, utc_day

GROUPS = ("day", "account", "kind")
MONEY_KINDS = ("payment", "refund", "adjustment")


@dataclass(frozen=True)
class ReportLine:
    key: str
    count: int
    amount: Decimal


def subtree_of(session: Session, caller: Caller, account_id: int | None) -> ColumnElement[bool]:
    """Ledger rows of the account (your own by default) and every account below it."""
    path = visible_account(session, caller, account_id).path
    return LedgerEntry.account_id.in_(select(Account.id).where(Account.path.startswith(path)))


def payment_report(
    uow: UnitOfWork,
    caller: Caller,
    account_id: int | None,
    start: datetime,
    end: datetime,
    group_by: str,
) -> list[ReportLine]:
    check_report(start, end, group_by, GROUPS)
    session = uow.session
    key = {
        "day": utc_day(session, LedgerEntry.created_at),
        "account": LedgerEntry.account_id,
        "kind": LedgerEntry.kind,
    }[group_by]
    rows = session.execute(
        select(key, func.count(), func.sum(LedgerEntry.amount))
        .where(
            subtree_of(session, caller, account_id),
            LedgerEntry.kind.in_(MONEY_KINDS),
            LedgerEntry.created_at >= start,
            LedgerEntry.created_at < end,
        )
        .group_by(key)
        .order_by(key)
    ).all()
    return [ReportLine(str(k), int(n), a) for k, n, a in rows]
