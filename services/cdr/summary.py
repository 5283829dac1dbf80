"""GetCallSummary: calls of a period grouped by day, destination or account, counted
and summed in the database (a month of 1,000,000 calls is one GROUP BY, not a
million rows in Python). No spyne here."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import case, func, select

from db.schema import Account, Cdr
from db.session import UnitOfWork
from services.common.caller import Caller, visible_account
from services.common.periods import Report

GROUPS = ("day", "destination", "account")  # the order of group_key's keys


@dataclass(frozen=True)
class SummaryLine:
    key: str
    calls: int
    answered: int
    billsec: int
    billed_seconds: int
    cost: Decimal


def call_summary(uow: UnitOfWork, caller: Caller, report: Report) -> list[SummaryLine]:
    """The calls the caller may see (as ListCdrs) started in the report's period."""
    session = uow.session
    key = report.group_key(
        session, Cdr.start_time, {"destination": Cdr.destination, "account": Cdr.account_id}
    )
    answered = case((Cdr.billsec > 0, 1), else_=0)
    query = select(
        key,
        func.count(),
        func.sum(answered),
        func.sum(Cdr.billsec),
        func.sum(Cdr.billed_seconds),
        func.sum(Cdr.cost),
    ).where(Cdr.start_time >= report.start, Cdr.start_time < report.end)
    if report.account_id is not None or not caller.is_admin:
        path = visible_account(session, caller, report.account_id).path
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
