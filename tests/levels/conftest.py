"""A three-level tree built through the services themselves, for the reseller tests.

    admin (operator) ── R1 (reseller, prepaid) ── R2 (reseller, postpaid) ── C1 acct1001 (prepaid)
          │                                                              └─ C2 acct1002 (postpaid)
          ├─ X (another reseller) ── XC (its customer)
          └─ Carol acct1003 (the admin's own customer)

Each level pays by its own sheet: R1 by the admin's "R1 cost", R2 by R1's copy with
+20 %, C1 and C2 by R2's copy with +10 % and +0.001/min. X and XC are "outside" for
R2: the isolation matrix aims at them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest

from client import SiptarClient
from db.schema import Account, Login
from db.session import UnitOfWork
from services.common.passwords import hash_password

D = Decimal
Client = Callable[[str, str], SiptarClient]

# Prices with six significant decimals, so that a wrong rounding shows.
COST_DECK = """prefix,destination,price,initial_increment,increment
1,USA and Canada,0.011111,30,6
34,Spain,0.013333,30,6
346,Spain Mobile,0.041234,30,6
44,United Kingdom,0.010007,30,6
61,Australia,0.025001,30,6
"""
PASSWORD = "level-password"


USERNAMES = {"admin": "admin", "R1": "r1", "R2": "r2", "X": "x", "C1": "c1", "XC": "xc"}


@dataclass
class Tree:
    client_for: Client
    ids: dict[str, int] = field(default_factory=dict)
    sheets: dict[str, int] = field(default_factory=dict)
    logins: dict[str, SiptarClient] = field(default_factory=dict)

    def api(self, who: str) -> SiptarClient:
        # Built on first use: a client parses four WSDLs.
        if who not in self.logins:
            self.logins[who] = self.client_for(USERNAMES[who], PASSWORD)
        return self.logins[who]


def _admin(uow: Callable[[], UnitOfWork]) -> None:
    with uow() as u:
        admin = Account(role="admin", name="Operator", path="", company_name="SipTar Operator")
        u.session.add(admin)
        u.session.flush()
        admin.path = f"/{admin.id}/"
        u.session.add(
            # A cheap hash: the admin is made for every test of this folder.
            Login(
                account_id=admin.id,
                username="admin",
                password_hash=hash_password(PASSWORD, n=2**8),
            )
        )
        u.commit()


def _create(api: SiptarClient, **fields: Any) -> int:
    username = fields.pop("username")
    account = api.reseller.type("{urn:siptar:reseller}NewAccount")(
        username=username, password=PASSWORD, **fields
    )
    return int(api.reseller.CreateAccount(account=account).id)


def build_tree(uow: Callable[[], UnitOfWork], client_for: Client) -> Tree:
    _admin(uow)
    t = Tree(client_for)
    admin = t.api("admin")
    cost = admin.config.CreateRateSheet(sheet={"name": "R1 cost"}).id
    admin.config.ImportRates(sheet_id=cost, csv=COST_DECK)
    t.sheets["R1 cost"] = cost
    t.ids["R1"] = _create(
        admin,
        username="r1",
        name="R1",
        role="reseller",
        rate_sheet_id=cost,
        initial_credit=D("100"),
        company_name="R1 Telecom",
    )
    t.ids["X"] = _create(
        admin,
        username="x",
        name="X",
        role="reseller",
        rate_sheet_id=cost,
        initial_credit=D("40"),
        company_name="X Phone",
    )
    t.ids["Carol"] = _create(
        admin,
        username="carol",
        name="Carol",
        rate_sheet_id=cost,
        accountcode="acct1003",
        billing_type="postpaid",
        credit_limit=D("50"),
    )
    r1 = t.api("R1")
    t.sheets["R2 cost"] = r1.reseller.CopySheet(
        source_sheet_id=cost, name="R2 cost", markup_percent=D("20")
    ).id
    t.ids["R2"] = _create(
        r1,
        username="r2",
        name="R2",
        role="reseller",
        rate_sheet_id=t.sheets["R2 cost"],
        billing_type="postpaid",
        credit_limit=D("50"),
    )
    r2 = t.api("R2")
    t.sheets["R2 retail"] = r2.reseller.CopySheet(
        source_sheet_id=t.sheets["R2 cost"],
        name="R2 retail",
        markup_percent=D("10"),
        markup_per_minute=D("0.001"),
    ).id
    t.ids["C1"] = _create(
        r2,
        username="c1",
        name="C1",
        rate_sheet_id=t.sheets["R2 retail"],
        accountcode="acct1001",
        initial_credit=D("10"),
    )
    t.ids["C2"] = _create(
        r2,
        username="c2",
        name="C2",
        rate_sheet_id=t.sheets["R2 retail"],
        accountcode="acct1002",
        billing_type="postpaid",
        credit_limit=D("20"),
    )
    x = t.api("X")
    t.sheets["X retail"] = x.reseller.CopySheet(
        source_sheet_id=cost, name="X retail", markup_percent=D("30")
    ).id
    t.ids["XC"] = _create(
        x, username="xc", name="XC", rate_sheet_id=t.sheets["X retail"], initial_credit=D("5")
    )
    return t


@pytest.fixture
def tree(uow: Callable[[], UnitOfWork], client_for: Client) -> Tree:
    return build_tree(uow, client_for)
