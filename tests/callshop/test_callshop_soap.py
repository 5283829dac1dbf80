"""The call shop through SOAP over real HTTP (client/), on SQLite and PostgreSQL: a
booth's session, its call replayed over AMI into the listener, the board, the receipt
at the sell sheet, the day's profit against the shop's ledger; locked booths refused by
Authorize; another shop's booths invisible."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from ami_listener.live import LiveCallMonitor
from client import SiptarClient, errors
from db.callshop_schema import BoothSession
from db.schema import Account, LedgerEntry, LiveCall
from tests.ami_calls import write_calls
from tests.ami_replay import AmiReplayServer
from tests.callshop.conftest import BoothCall, Shop, balanced, make_shop, recent
from tests.listener.conftest import until, wired_listener

pytestmark = [pytest.mark.e2e]
D = Decimal
SPAIN = "34911234567"


def booth(shop: Shop, peer: str) -> object:
    page = shop.api.billing.ListBooths()
    return next(b for b in page.items if b.sip_peer == peer)


def authorize(api: SiptarClient, peer: str, uniqueid: str = "") -> object:
    return api.billing.Authorize(call={"number": SPAIN, "account": peer, "uniqueid": uniqueid})


def live_rows(session_factory: Callable[[], Session]) -> int:
    with session_factory() as s:
        return int(s.scalar(select(func.count()).select_from(LiveCall)) or 0)


async def test_a_session_from_open_to_paid_with_a_call_replayed_over_ami(
    shop: Shop, session_factory: Callable[[], Session], tmp_path: Path
) -> None:
    b1 = shop.booths["booth1"]
    assert {b.sip_peer: b.state for b in shop.api.billing.ListBooths().items} == {
        "booth1": "free",
        "booth2": "free",
    }
    # Nobody to charge yet: a free booth's call is refused.
    refused = authorize(shop.api, "booth1")
    assert (refused.allowed, refused.reason) == (False, "BoothLocked")

    opened = shop.api.billing.OpenBoothSession(booth_id=b1)
    assert (opened.status, opened.calls, opened.total) == ("open", 0, D("0"))
    # The customer came in five minutes ago (the replayed call is placed in the past).
    with session_factory() as s:
        s.execute(
            update(BoothSession)
            .where(BoothSession.id == opened.session_id)
            .values(opened_at=recent(300))
        )
        s.commit()
    call = BoothCall(7, "shop1", SPAIN, billsec=95, start=recent(100), peer="booth1")
    allowed = authorize(shop.api, "booth1", call.uniqueid)
    assert (allowed.allowed, allowed.reason, allowed.account_id) == (True, "OK", shop.id)

    up = AmiReplayServer(write_calls(tmp_path / "up_raw.txt", [call], parts=("up",)))
    port = await up.start()
    monitor = LiveCallMonitor(session_factory, interval=0.05, asterisk="a1")
    try:
        async with wired_listener(port, session_factory, tmp_path / "s1", monitor=monitor):
            await until(lambda: live_rows(session_factory) == 1, "the booth's call up")
            tile = booth(shop, "booth1")
    finally:
        await up.stop()
    assert tile.state == "in_call"
    assert (tile.call.number, tile.call.destination) == (SPAIN, "Spain (walk-in)")
    # Up ~99 s: two whole minutes at 0.10 and the 0.05 connect fee, at the sell sheet.
    assert 95 <= tile.call.seconds <= 130
    assert tile.call.price == D("0.250000")

    end = AmiReplayServer(write_calls(tmp_path / "end_raw.txt", [call], parts=("end",)))
    port = await end.start()
    try:
        async with wired_listener(port, session_factory, tmp_path / "s2"):
            await until(lambda: _shop_calls(session_factory, shop.id) == 1, "the CDR charged")
    finally:
        await end.stop()

    receipt = shop.api.billing.CloseBoothSession(booth_id=b1)
    quote = shop.api.billing.QuoteSellPrice(number=SPAIN, seconds=95)
    assert (receipt.status, receipt.calls, receipt.total) == ("to_pay", 1, quote.price)
    assert quote.price == D("0.250000")  # 95 s -> 120 s at 0.10 + 0.05
    assert [(x.number, x.billsec, x.price) for x in receipt.lines] == [(SPAIN, 95, D("0.250000"))]
    assert booth(shop, "booth1").state == "to_pay"
    after_close = authorize(shop.api, "booth1")
    assert (after_close.allowed, after_close.reason) == (False, "BoothLocked")

    paid = shop.api.billing.ChargeBoothSession(session_id=receipt.session_id)
    assert (paid.status, paid.total) == ("paid", receipt.total)
    with pytest.raises(errors.InvalidInput):  # a double click at the counter counts once
        shop.api.billing.ChargeBoothSession(session_id=receipt.session_id)
    assert booth(shop, "booth1").state == "free"

    # The shop paid 95 s at 0.0200 (the demo's Retail, 30/6: 96 s): 0.0320, as its ledger says.
    day = shop.api.billing.GetShopDay(day=datetime.now(UTC).date())
    with session_factory() as s:
        charged = -s.scalar(
            select(func.sum(LedgerEntry.amount)).where(
                LedgerEntry.account_id == shop.id, LedgerEntry.kind == "call"
            )
        )
    assert (day.sessions, day.calls, day.revenue, day.cost) == (1, 1, D("0.25"), charged)
    assert charged == D("0.0320")
    assert day.profit == day.revenue - charged == D("0.2180")
    assert balanced(session_factory, shop.id) == D("20") - charged


def _shop_calls(session_factory: Callable[[], Session], shop_id: int) -> int:
    with session_factory() as s:
        return int(
            s.scalar(
                select(func.count()).where(
                    LedgerEntry.account_id == shop_id, LedgerEntry.kind == "call"
                )
            )
            or 0
        )


def test_a_locked_booth_is_refused_and_cannot_open_a_session(shop: Shop) -> None:
    b2 = shop.booths["booth2"]
    shop.api.billing.OpenBoothSession(booth_id=b2)
    assert authorize(shop.api, "booth2").allowed is True
    locked = shop.api.billing.LockBooth(booth_id=b2)
    assert locked.state == "locked"
    answer = authorize(shop.api, "booth2")
    assert (answer.allowed, answer.reason, answer.detail) == (
        False,
        "BoothLocked",
        "booth Booth booth2 is locked",
    )
    # Unlocking a booth whose session was closed meanwhile leaves it to pay.
    shop.api.billing.CloseBoothSession(booth_id=b2)
    assert shop.api.billing.UnlockBooth(booth_id=b2).state == "to_pay"
    # A locked booth opens no session.
    b1 = shop.booths["booth1"]
    shop.api.billing.LockBooth(booth_id=b1)
    with pytest.raises(errors.InvalidInput):
        shop.api.billing.OpenBoothSession(booth_id=b1)
    assert booth(shop, "booth1").session_id is None


def test_the_shops_own_accountcode_names_no_booth_and_is_refused(shop: Shop) -> None:
    answer = authorize(shop.api, "shop1")
    assert (answer.allowed, answer.reason) == (False, "BoothRequired")


def test_bad_input_is_refused_and_changes_nothing(
    shop: Shop, session_factory: Callable[[], Session]
) -> None:
    with pytest.raises(errors.AlreadyExists):
        shop.api.billing.AddBooth(name="again", sip_peer="booth1")
    with pytest.raises(errors.AlreadyExists):  # a customer's SIP peer is taken too
        _set_peer(session_factory, "alice-phone")
        shop.api.billing.AddBooth(name="x", sip_peer="alice-phone")
    for taken in ("acct1002", "customer"):  # an accountcode, a login's username
        with pytest.raises(errors.AlreadyExists):
            shop.api.billing.AddBooth(name="x", sip_peer=taken)
    with pytest.raises(errors.InvalidInput):
        shop.api.billing.AddBooth(name="x", sip_peer="bad peer%")
    with pytest.raises(errors.NotFound):
        shop.api.billing.CloseBoothSession(booth_id=shop.booths["booth1"])  # none open
    with pytest.raises(errors.InvalidInput):
        shop.api.billing.ImportSellRates(csv="prefix,price\n34,not-a-price\n", replace=True)
    assert shop.api.billing.ListSellRates().total == 2
    with pytest.raises(errors.InvalidInput):
        shop.api.billing.QuoteSellPrice(number="34911", seconds=10**6)
    with session_factory() as s:
        assert s.scalar(select(func.count()).select_from(BoothSession)) == 0
    assert shop.api.billing.ListBooths().total == 2


def _set_peer(session_factory: Callable[[], Session], peer: str) -> None:
    with session_factory() as s:
        s.execute(
            update(Account).where(Account.accountcode == "acct1001").values(sip_username=peer)
        )
        s.commit()


def test_another_shop_sees_none_of_these_booths_and_others_are_no_shop(
    shop: Shop,
    session_factory: Callable[[], Session],
    client_for: Callable[[str, str], SiptarClient],
) -> None:
    other = make_shop(session_factory, client_for, "shop2", ("s2booth",))
    b1 = shop.booths["booth1"]
    for op, kwargs in (
        ("OpenBoothSession", {"booth_id": b1}),
        ("CloseBoothSession", {"booth_id": b1}),
        ("LockBooth", {"booth_id": b1}),
        ("UnlockBooth", {"booth_id": b1}),
    ):
        with pytest.raises(errors.NotFound):
            getattr(other.api.billing, op)(**kwargs)
    assert [b.sip_peer for b in other.api.billing.ListBooths().items] == ["s2booth"]
    receipt = shop.api.billing.OpenBoothSession(booth_id=b1)
    for op in ("ChargeBoothSession", "GetBoothReceipt"):
        with pytest.raises(errors.NotFound):
            getattr(other.api.billing, op)(session_id=receipt.session_id)
    # A shop authorizes only its own booths: another shop's peer is outside its subtree.
    stolen = authorize(other.api, "booth1")
    assert (stolen.allowed, stolen.reason) == (False, "UnknownAccount")
    customer = client_for("customer", "customer")
    with pytest.raises(errors.AccessDenied):
        customer.billing.ListBooths()
    with pytest.raises(errors.AccessDenied):
        customer.billing.QuoteSellPrice(number=SPAIN, seconds=60)
