"""`siptar demo`: a small, realistic data set to try the server with.

The accountcodes acct1001..acct1003 are the ones of the captured Asterisk sessions in
tests/fixtures/ami, so replaying those rates real calls against the demo.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, insert, select

from db import ledger
from db.rates import row_values
from db.schema import Account, Login, Provider, RateSheet, Route, RouteTrunk, Trunk
from db.schema import Rate as RateRow
from db.session import UnitOfWork
from rating.model import Rate
from rating.money import ZERO
from services.common.passwords import hash_password

D = Decimal

# (prefix, destination, buy, wholesale, reseller retail, retail) per minute
DESTINATIONS = [
    ("1", "USA and Canada", "0.0040", "0.0080", "0.0120", "0.0150"),
    ("33", "France", "0.0090", "0.0150", "0.0200", "0.0250"),
    ("336", "France Mobile", "0.0300", "0.0450", "0.0600", "0.0700"),
    ("34", "Spain", "0.0080", "0.0120", "0.0180", "0.0200"),
    ("346", "Spain Mobile", "0.0250", "0.0400", "0.0500", "0.0600"),
    ("44", "United Kingdom", "0.0060", "0.0100", "0.0150", "0.0180"),
    ("447", "United Kingdom Mobile", "0.0200", "0.0350", "0.0450", "0.0500"),
    ("49", "Germany", "0.0070", "0.0110", "0.0160", "0.0200"),
    ("61", "Australia", "0.0150", "0.0250", "0.0350", "0.0400"),
]


@dataclass(frozen=True)
class DemoLogin:
    username: str
    password: str
    role: str
    what: str


LOGINS = [
    DemoLogin("admin", "admin", "admin", "the operator: all four services"),
    DemoLogin("reseller", "reseller", "reseller", "a reseller with two customers"),
    DemoLogin("customer", "customer", "customer", "a prepaid customer of the reseller (acct1001)"),
]


def is_empty(uow: UnitOfWork) -> bool:
    return uow.session.execute(select(func.count()).select_from(Account)).scalar_one() == 0


def load_demo(uow: UnitOfWork) -> list[DemoLogin]:
    s = uow.session
    admin = _account(uow, None, "admin", "Operator", "admin", "admin")
    sheets = {
        col: _sheet(uow, admin.id, name, col)
        for col, name in ((2, "Carrier One buy"), (3, "Wholesale"), (5, "Retail"))
    }
    provider = Provider(name="Carrier One", buy_sheet_id=sheets[2].id)
    s.add(provider)
    s.flush()
    trunk = Trunk(
        provider_id=provider.id,
        name="carrier1",
        dial_string="PJSIP/${NUMBER}@carrier1",
        channel_limit=30,
    )
    route = Route(prefix="", name="default", strategy="lcr")
    s.add_all([trunk, route])
    s.flush()
    s.add(RouteTrunk(route_id=route.id, trunk_id=trunk.id))
    reseller = _account(
        uow,
        admin,
        "reseller",
        "Reseller One",
        "reseller",
        "reseller",
        sheet_id=sheets[3].id,
        company_name="Reseller One Telecom",
        credit=D("500"),
    )
    reseller_retail = _sheet(uow, reseller.id, "Reseller One retail", 4)
    _account(
        uow,
        reseller,
        "customer",
        "Alice",
        "customer",
        "customer",
        sheet_id=reseller_retail.id,
        accountcode="acct1001",
        credit=D("10"),
    )
    _account(
        uow,
        reseller,
        "customer",
        "Bob",
        "bob",
        "bob-demo-pw",
        sheet_id=reseller_retail.id,
        accountcode="acct1002",
        credit=D("5"),
    )
    _account(
        uow,
        admin,
        "customer",
        "Carol Ltd",
        "carol",
        "carol-demo-pw",
        sheet_id=sheets[5].id,
        accountcode="acct1003",
        postpaid_limit=D("50"),
    )
    uow.commit()
    return LOGINS


def _account(
    uow: UnitOfWork,
    parent: Account | None,
    role: str,
    name: str,
    username: str,
    password: str,
    *,
    sheet_id: int | None = None,
    accountcode: str | None = None,
    credit: Decimal = ZERO,
    postpaid_limit: Decimal | None = None,
    company_name: str = "",
) -> Account:
    s = uow.session
    account = Account(
        parent_id=parent.id if parent else None,
        role=role,
        name=name,
        billing_type="postpaid" if postpaid_limit is not None else "prepaid",
        credit_limit=postpaid_limit or D(0),
        rate_sheet_id=sheet_id,
        accountcode=accountcode,
        company_name=company_name,
    )
    s.add(account)
    s.flush()
    account.path = f"{parent.path if parent else '/'}{account.id}/"
    s.add(Login(account_id=account.id, username=username, password_hash=hash_password(password)))
    if credit:
        ledger.post(s, account.id, "payment", credit, reference="demo credit")
    s.flush()
    return account


def _sheet(uow: UnitOfWork, owner_id: int | None, name: str, column: int) -> RateSheet:
    """A sheet with the demo destinations at the price in `column` of DESTINATIONS."""
    s = uow.session
    sheet = RateSheet(owner_id=owner_id, name=name, currency="USD")
    s.add(sheet)
    s.flush()
    # Providers bill per second; we sell "30/6" (first 30 s, then 6 s blocks).
    blocks = (1, 1) if column == 2 else (30, 6)
    rates = [
        Rate(
            prefix=row[0],
            destination=row[1],
            price=D(row[column]),
            initial_increment=blocks[0],
            increment=blocks[1],
        )
        for row in DESTINATIONS
    ]
    s.execute(insert(RateRow), [{"sheet_id": sheet.id, **row_values(r)} for r in rates])
    return sheet
