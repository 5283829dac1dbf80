"""GetCallSummary: calls of a period grouped by day, destination or account, counted
and summed in the database (a month of 1,000,000 calls is one GROUP BY, not a
million rows in Python). No spyne here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import case, func, select

from db.schema import Account, Cdr
from db.session import UnitOfWork
from services.common.caller import Caller, visible_account
from services.common.periods import check_report, utc_day

GROUPS = ("day", "destination", "account")


@dataclass(frozen=True)
class SummaryLine:
    key: str
    calls: int
    answered: int
    billsec: int
    billed_seconds: int
    cost: Decimal


def call_summary(
    uow: UnitOfWork,
    caller: Caller,
    account_id: int | None,
    start: datetime,
    end: datetime,
    group_by: str,
) -> list[SummaryLine]:
    """The calls the caller may see (as ListCdrs) started in [start, end)."""
    check_report(start, end, group_by, GROUPS)
    session = uow.session
    key = {
        "day": utc_day(session, Cdr.start_time),
        "destination": Cdr.destination,
        "account": Cdr.account_id,
    }[group_by]
    answered = case((Cdr.billsec > 0, 1), else_=0)
    query = select(
        key,
        func.count(),
        func.sum(answered),
        func.sum(Cdr.billsec),
        func.sum(Cdr.billed_seconds),
        func.sum(Cdr.cost),
    ).where(Cdr.start_time >= start, Cdr.start_time < end)
    if account_id is not None or not caller.is_admin:
        path = visible_account(session, caller, account_id).path
        query = query.join(Account, Cdr.account_id == Account.id).where(
            Account.path.startswith(path)
        )
    rows = session.execute(query.group_by(key).order_by(key)).all()
    return [
        SummaryLine(
            "" if k is None else str(k),
            int(n),
            int(a or 0),
            int(b or 0),
            int(bs or 0),
            c or Decimal(0),
        )
        for k, n, a, b, bs, c in rows
    ]
