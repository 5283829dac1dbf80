"""A call shop made through the services, over the demo: the shop `shop1` (kind
callshop, accountcode shop1, paying by the demo's Retail sheet, 20.00 of credit) with
its sell prices and two booths, and the AMI side of a booth's call."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from client import SiptarClient
from db.ledger import ledger_sum
from db.schema import Account, RateSheet
from tests.ami_calls import Call

D = Decimal
PASSWORD = "shop-password"
# What the shop charges walk-in customers: Spain at 0.10 a minute in whole minutes, the
# USA at 0.050000 a minute "1/1"; the shop pays 0.0200 / 0.0150 (the demo's Retail, 30/6).
SELL_DECK = """prefix,destination,price,initial_increment,increment,connect_fee
34,Spain (walk-in),0.10,60,60,0.05
1,USA (walk-in),0.05,1,1,0
"""


@dataclass
class Shop:
    id: int
    api: SiptarClient
    booths: dict[str, int]  # sip peer -> booth id


def make_shop(
    session_factory: Callable[[], Session],
    client_for: Callable[[str, str], SiptarClient],
    username: str = "shop1",
    peers: tuple[str, ...] = ("booth1", "booth2"),
) -> Shop:
    admin = client_for("admin", "admin")
    with session_factory() as s:
        retail = s.scalars(select(RateSheet.id).where(RateSheet.name == "Retail")).one()
    account = admin.reseller.type("{urn:siptar:reseller}NewAccount")(
        name=f"Shop {username}",
        username=username,
        password=PASSWORD,
        kind="callshop",
        accountcode=username,
        rate_sheet_id=retail,
        initial_credit=D("20"),
    )
    shop_id = int(admin.reseller.CreateAccount(account=account).id)
    api = client_for(username, PASSWORD)
    api.billing.ImportSellRates(csv=SELL_DECK, replace=True)
    booths = {p: int(api.billing.AddBooth(name=f"Booth {p}", sip_peer=p).id) for p in peers}
    return Shop(shop_id, api, booths)


@pytest.fixture
def shop(
    demo: None,
    session_factory: Callable[[], Session],
    client_for: Callable[[str, str], SiptarClient],
) -> Shop:
    return make_shop(session_factory, client_for)


@dataclass(frozen=True)
class BoothCall(Call):
    """A synthetic call (tests/ami_calls.py) placed from a booth's SIP peer."""

    peer: str = "booth1"

    @property
    def channel(self) -> str:
        return f"PJSIP/{self.peer}-{self.n:08x}"


def recent(seconds: int) -> datetime:
    return datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=seconds)


def balanced(session_factory: Callable[[], Session], account_id: int) -> Decimal:
    with session_factory() as s:
        account = s.get(Account, account_id)
        assert account is not None
        assert account.balance == ledger_sum(s, account_id)
        return account.balance
