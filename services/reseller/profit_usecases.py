"""GetProfit: what a level of the tree earned, from the `charges` rows. No spyne here.

For a reseller A and every call of its subtree: `children_paid` is the charge of the
account directly below A on that call's chain (a customer of A, or a sub-reseller of
A), `paid` is A's own charge for the call, `profit` the difference. The admin (the
operator) pays no level above it: its `paid` is what the providers charged for those
calls, the `charges` row with no account and a provider (services/credit/settlement).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import and_, select
from sqlalchemy.orm import aliased

from db.schema import Account, Cdr, Charge
from db.session import UnitOfWork
from rating.errors import InvalidInput
from services.common.caller import Caller, require_role, visible_account

GROUPS = ("day", "destination", "account", "total")
MAX_PERIOD = timedelta(days=366)


@dataclass(frozen=True)
class ProfitLine:
    key: str
    calls: int
    children_paid: Decimal
    paid: Decimal

    @property
    def profit(self) -> Decimal:
        return self.children_paid - self.paid


def get_profit(
    uow: UnitOfWork,
    caller: Caller,
    account_id: int | None,
    start: datetime,
    end: datetime,
    group_by: str,
) -> list[ProfitLine]:
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
        select(Cdr.start_time, Cdr.destination, child.id, child.name, Charge.cost, own.cost)
        .join(Cdr, Cdr.id == Charge.cdr_id)
        .join(child, child.id == Charge.account_id)
        .outerjoin(own, and_(own.cdr_id == Charge.cdr_id, pays))
        .where(child.parent_id == level.id, Cdr.start_time >= start, Cdr.start_time < end)
    ).all()
    totals: dict[str, list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0), Decimal(0)])
    for started, destination, child_id, child_name, child_cost, own_cost in rows:
        key = {
            "day": started.date().isoformat(),
            "destination": destination,
            "account": f"{child_id} {child_name}",
            "total": "total",
        }[group_by]
        line = totals[key]
        line[0] += 1
        line[1] += child_cost
        line[2] += own_cost if own_cost is not None else Decimal(0)
    return [ProfitLine(k, int(v[0]), v[1], v[2]) for k, v in sorted(totals.items())]
