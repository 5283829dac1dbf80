"""Data builders for the credit-control tests, on top of the demo data.

Demo ids: 1 Operator (admin), 2 Reseller One (prepaid, 500.00, sheet 2 "Wholesale"),
3 Alice (acct1001, 10.00, sheet 4), 4 Bob, 5 Carol Ltd (postpaid, limit 50, sheet 3);
provider 1 "Carrier One" (buy sheet 1) with trunk 1 "carrier1"; route "" (lcr).
Spain (34) per minute: buy 0.0080, wholesale 0.0120, reseller retail 0.0180.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import insert

from db import ledger
from db.rates import row_values
from db.schema import Account, AccountCallerId, Provider, RateSheet, Route, RouteTrunk, Trunk
from db.schema import Rate as RateRow
from db.session import UnitOfWork
from rating.model import Rate

D = Decimal
ZERO = D(0)
RESELLER_ID = 2
ALICE_ID = 3
RESELLER_RETAIL = 4
NOON = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)  # a Monday


def customer(
    u: UnitOfWork,
    name: str,
    *,
    parent_id: int = RESELLER_ID,
    sheet_id: int = RESELLER_RETAIL,
    credit: Decimal = ZERO,
    postpaid_limit: Decimal | None = None,
    **fields: object,
) -> int:
    s = u.session
    parent = s.get(Account, parent_id)
    assert parent is not None
    account = Account(
        parent_id=parent_id,
        role="customer",
        name=name,
        billing_type="postpaid" if postpaid_limit is not None else "prepaid",
        credit_limit=postpaid_limit or ZERO,
        rate_sheet_id=sheet_id,
        **fields,
    )
    s.add(account)
    s.flush()
    account.path = f"{parent.path}{account.id}/"
    if credit:
        ledger.post(s, account.id, "payment", credit, reference="test credit")
    u.commit()
    return account.id


def bind_callerid(u: UnitOfWork, account_id: int, callerid: str) -> None:
    u.session.add(AccountCallerId(account_id=account_id, callerid=callerid))
    u.commit()


def sheet(u: UnitOfWork, name: str, prices: dict[str, str], owner_id: int = 1) -> int:
    row = RateSheet(owner_id=owner_id, name=name, currency="USD")
    u.session.add(row)
    u.session.flush()
    rates = [Rate(prefix=p, destination=p, price=D(v)) for p, v in prices.items()]
    u.session.execute(insert(RateRow), [{"sheet_id": row.id, **row_values(r)} for r in rates])
    u.commit()
    return row.id


def trunk(
    u: UnitOfWork, name: str, buy: dict[str, str], *, channel_limit: int | None = None
) -> int:
    """A provider of its own (buy sheet `buy`, per-second billing) with one trunk."""
    provider = Provider(name=f"{name} provider", buy_sheet_id=sheet(u, f"{name} buy", buy))
    u.session.add(provider)
    u.session.flush()
    row = Trunk(
        provider_id=provider.id,
        name=name,
        dial_string=f"PJSIP/${{NUMBER}}@{name}",
        channel_limit=channel_limit,
    )
    u.session.add(row)
    u.commit()
    return row.id


def route(
    u: UnitOfWork,
    prefix: str,
    strategy: str,
    links: list[tuple[int, int, int]],
    *,
    allow_loss: bool = False,
) -> int:
    """links: (trunk_id, priority, weight)."""
    row = Route(prefix=prefix, name=prefix, strategy=strategy, allow_loss=allow_loss)
    u.session.add(row)
    u.session.flush()
    u.session.add_all(
        RouteTrunk(route_id=row.id, trunk_id=t, priority=p, weight=w) for t, p, w in links
    )
    u.commit()
    return row.id
