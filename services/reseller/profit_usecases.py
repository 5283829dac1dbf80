"""GetProfit: what a level of the tree earned, from the `charges` rows. No spyne here.

For a reseller A and every call of its subtree: `children_paid` is the charge of the
account directly below A on that call's chain (a customer of A, or a sub-reseller of
A), `paid` is A's own charge for the call, `profit` the difference. The admin (the
operator) pays no level above it: its `paid` is what the providers charged for those
calls, the `charges` row with no account and a provider (services/credit/settlement).

Calls to DIDs (inbound) are counted apart from outbound calls: their charge rows carry
no rate sheet (`sheet_id` NULL, services/dids/inbound.py), every outbound row has one.
Recurring fees (services/recurring) are counted apart too, from `recurring_charges`:
the fees, setup fees and credits of the periods that start in the report's period, the
paid rows of the level's children against the level's own row of the same
(subscription, period, what); the operator's own row is the provider's cost row.
An unpaid fee counts once it is paid.

Currencies (docs/currencies.md): call figures are in the operator's currency, each
charge converted at the rate in force at its call's start (stored with the charge).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import and_, func, select
from sqlalchemy.orm import aliased

from db.recurring_schema import RecurringCharge
from db.schema import Account, Cdr, Charge
from db.session import UnitOfWork
from rating.errors import InvalidInput
from services.common.caller import Caller, require_role, visible_account
from services.currency.table import operator_currency

GROUPS = ("day", "destination", "account", "total")
MAX_PERIOD = timedelta(days=366)


ZERO = Decimal(0)


@dataclass(frozen=True)
class Figures:
    """What the level's children paid it, and what it paid itself, for some items."""

    count: int = 0
    children_paid: Decimal = ZERO
    paid: Decimal = ZERO

    @property
    def profit(self) -> Decimal:
        return self.children_paid - self.paid

    def plus(self, children_paid: Decimal, paid: Decimal) -> Figures:
        return Figures(self.count + 1, self.children_paid + children_paid, self.paid + paid)

    def __add__(self, other: Figures) -> Figures:
        return Figures(
            self.count + other.count,
            self.children_paid + other.children_paid,
            self.paid + other.paid,
        )


@dataclass(frozen=True)
class ProfitLine:
    key: str
    outbound: Figures = Figures()
    inbound: Figures = Figures()  # calls to DIDs


@dataclass(frozen=True)
class Profit:
    account_id: int
    lines: list[ProfitLine]
    recurring: Figures  # count: charge rows of the children
    currency: str = ""  # the operator's: every figure is in it (docs/currencies.md)

    @property
    def outbound(self) -> Figures:
        return sum((x.outbound for x in self.lines), Figures())

    @property
    def inbound(self) -> Figures:
        return sum((x.inbound for x in self.lines), Figures())

    @property
    def profit(self) -> Decimal:
        return self.outbound.profit + self.inbound.profit + self.recurring.profit


def get_profit(
    uow: UnitOfWork,
    caller: Caller,
    account_id: int | None,
    start: datetime,
    end: datetime,
    group_by: str,
) -> Profit:
    require_role(caller, "admin", "reseller")
    if group_by not in GROUPS:
        raise InvalidInput(f"group_by: one of {', '.join(GROUPS)}")
    if end <= start or end - start > MAX_PERIOD:
        raise InvalidInput("period_end: after period_start, at most 366 days later")
    level = visible_account(uow.session, caller, account_id)
    if level.role == "customer":
        raise InvalidInput("account_id: a customer has no profit; give a reseller")
    child = aliased(Account)
    own = aliased(Charge)
    if level.parent_id is None:
        pays = and_(own.account_id.is_(None), own.provider_id.is_not(None))
    else:
        pays = own.account_id == level.id
    rows = uow.session.execute(
        select(Cdr.start_time, Cdr.destination, child.id, child.name)
        # In the operator's currency: each level's amount converted at the call's start
        # when it was charged (NULL: its account's currency is the operator's).
        .add_columns(
            func.coalesce(Charge.operator_cost, Charge.cost),
            func.coalesce(own.operator_cost, own.cost),
        )
        .add_columns(Charge.sheet_id.is_(None))
        .join(Cdr, Cdr.id == Charge.cdr_id)
        .join(child, child.id == Charge.account_id)
        .outerjoin(own, and_(own.cdr_id == Charge.cdr_id, pays))
        .where(child.parent_id == level.id, Cdr.start_time >= start, Cdr.start_time < end)
    ).all()
    totals: dict[str, tuple[Figures, Figures]] = defaultdict(lambda: (Figures(), Figures()))
    for started, destination, child_id, child_name, child_cost, own_cost, inbound in rows:
        key = {
            "day": started.date().isoformat(),
            "destination": destination,
            "account": f"{child_id} {child_name}",
            "total": "total",
        }[group_by]
        outbound_line, inbound_line = totals[key]
        figures = child_cost, own_cost if own_cost is not None else ZERO
        if inbound:
            totals[key] = outbound_line, inbound_line.plus(*figures)
        else:
            totals[key] = outbound_line.plus(*figures), inbound_line
    lines = [ProfitLine(k, out, inb) for k, (out, inb) in sorted(totals.items())]
    currency = operator_currency(uow.session)
    return Profit(level.id, lines, _recurring(uow, level, start, end), currency)


def _first_day(moment: datetime) -> date:
    """The first day whose 00:00 UTC is at or after `moment` (aware UTC)."""
    day = moment.date()
    return day if moment.timetz().replace(tzinfo=None) == time(0) else day + timedelta(days=1)


def _recurring(uow: UnitOfWork, level: Account, start: datetime, end: datetime) -> Figures:
    child = aliased(Account)
    own = aliased(RecurringCharge)
    if level.parent_id is None:
        pays = and_(own.account_id.is_(None), own.status == "cost")
    else:
        pays = and_(own.account_id == level.id, own.status == "paid")
    theirs = RecurringCharge
    rows = uow.session.execute(
        select(theirs.amount, own.amount)
        .join(child, child.id == theirs.account_id)
        .outerjoin(
            own,
            and_(
                own.subscription_id == theirs.subscription_id,
                own.period_start == theirs.period_start,
                own.what == theirs.what,
                pays,
            ),
        )
        .where(
            child.parent_id == level.id,
            theirs.status == "paid",
            theirs.period_start >= _first_day(start),
            theirs.period_start < _first_day(end),
        )
    ).all()
    figures = Figures()
    for child_amount, own_amount in rows:
        figures = figures.plus(child_amount, own_amount if own_amount is not None else ZERO)
    return figures
