"""The counter's price lookup and the day's summary of a shop."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from db.callshop_schema import Booth, BoothSession
from db.rates import plans
from db.schema import LedgerEntry
from db.session import UnitOfWork
from rating import normalise_number
from rating.errors import InvalidInput
from rating.model import CallCost, CallToRate
from rating.money import ZERO
from services.callshop.prices import booth_cdrs, sold_calls
from services.callshop.shops import sell_sheet_id, shop_account
from services.common.caller import Caller

MAX_QUOTE_SECONDS = 24 * 3600


@dataclass(frozen=True)
class DaySummary:
    day: date
    currency: str
    sessions: int
    calls: int
    billed_seconds: int
    revenue: Decimal  # what the walk-in customers paid, at the sell sheet
    cost: Decimal  # what the shop was charged for those calls (its ledger)

    @property
    def profit(self) -> Decimal:
        return self.revenue - self.cost


def quote(
    uow: UnitOfWork, caller: Caller, number: str, seconds: int, at: datetime
) -> tuple[str, CallCost]:
    """What `seconds` to `number` cost a walk-in customer: (currency, the cost)."""
    if not 0 <= seconds <= MAX_QUOTE_SECONDS:
        raise InvalidInput(f"seconds: between 0 and {MAX_QUOTE_SECONDS}")
    session = uow.session
    shop = shop_account(session, caller)
    plan = plans.plan(session, sell_sheet_id(session, shop))
    return shop.currency, plan.rate_call(CallToRate(normalise_number(number), at, seconds, True))


def day_summary(uow: UnitOfWork, caller: Caller, day: date) -> DaySummary:
    """The sessions opened on `day` (the shop's own time zone) and their calls: revenue
    at the sell sheet, cost as the shop's ledger has it (its `call` rows of those
    calls' CDRs), so that profit is exact to the ledger."""
    session = uow.session
    shop = shop_account(session, caller)
    zone = ZoneInfo(shop.timezone or "UTC")
    start = datetime.combine(day, time(0), zone)
    end = datetime.combine(day + timedelta(days=1), time(0), zone)
    rows = session.execute(
        select(BoothSession, Booth)
        .join(Booth, Booth.id == BoothSession.booth_id)
        .where(
            BoothSession.shop_id == shop.id,
            BoothSession.opened_at >= start,
            BoothSession.opened_at < end,
        )
    ).all()
    if not rows:
        return DaySummary(day, shop.currency, 0, 0, 0, ZERO, ZERO)
    sheet = sell_sheet_id(session, shop)
    sold = [
        call
        for row, booth in rows
        for call in sold_calls(
            session, sheet, booth_cdrs(session, booth, row.opened_at, row.closed_at)
        )
    ]
    cdr_ids = [c.cdr_id for c in sold]
    charged = ZERO
    for first in range(0, len(cdr_ids), 500):  # IN lists of a bounded size
        part = cdr_ids[first : first + 500]
        charged += (
            session.scalar(
                select(func.coalesce(func.sum(LedgerEntry.amount), 0)).where(
                    LedgerEntry.account_id == shop.id,
                    LedgerEntry.kind == "call",
                    LedgerEntry.cdr_id.in_(part),
                )
            )
            or ZERO
        )
    return DaySummary(
        day,
        shop.currency,
        len(rows),
        len(sold),
        sum(c.billed_seconds for c in sold),
        sum((c.price for c in sold), ZERO),
        -Decimal(charged),
    )
