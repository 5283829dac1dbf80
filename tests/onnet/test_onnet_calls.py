"""On-net calls through the real parts, on SQLite and PostgreSQL: Authorize over SOAP
(zeep) and FastAGI (TCP) answers the callee's peer, the call replayed over AMI into the
listener is charged at every level's on-net price with no provider cost, the CDR is
flagged, and live calls and traffic stats show it apart. docs/onnet_callback.md."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from ami_listener.live import LiveCallMonitor
from db.ledger import ledger_sum
from db.schema import Account, Cdr, Charge, LiveCall, Reservation
from tests.ami_calls import write_calls
from tests.ami_replay import AmiReplayServer
from tests.credit.builders import RESELLER_ID
from tests.credit.test_fastagi import agi, agi_call, environment
from tests.listener.conftest import until, wired_listener
from tests.onnet.conftest import ALICE_ID, BOB_ID, BOB_PEER, OnNetCall

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("onnet")]
__all__ = ["agi"]
D = Decimal


def balances(session_factory: Callable[[], Session]) -> dict[int, Decimal]:
    """Every account's balance, each checked against its ledger."""
    with session_factory() as s:
        accounts = s.scalars(select(Account)).all()
        for a in accounts:
            assert a.balance == ledger_sum(s, a.id), a.name
        return {a.id: a.balance for a in accounts}


def recent(seconds: int) -> datetime:
    return datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=seconds)


def stored(session_factory: Callable[[], Session]) -> int:
    with session_factory() as s:
        return int(s.scalar(select(func.count()).select_from(Cdr).where(Cdr.status == "rated")))


def live_rows(session_factory: Callable[[], Session]) -> int:
    with session_factory() as s:
        return int(s.scalar(select(func.count()).select_from(LiveCall)) or 0)


async def test_an_on_net_call_replayed_over_ami_is_charged_at_the_on_net_price(
    session_factory: Callable[[], Session],
    client_for: Callable[[str, str], object],
    tmp_path: Path,
) -> None:
    before = balances(session_factory)
    alice = client_for("customer", "customer")
    call = OnNetCall(21, "acct1001", BOB_PEER, billsec=95, start=recent(100))
    a = alice.billing.Authorize(
        call={"number": BOB_PEER, "account": "acct1001", "uniqueid": call.uniqueid}
    )  # type: ignore[attr-defined]
    assert (a.allowed, a.reason, a.account_id) == (True, "OK", ALICE_ID)
    assert (a.dial_string, a.onnet_account_id, a.trunks) == ("PJSIP/1002", BOB_ID, [])
    # The whole call held at once (no slice to extend): 3 h of 0.01 a minute.
    assert a.reserved_seconds == a.max_seconds == 3 * 3600
    assert a.reserved == D("1.800000")

    up = AmiReplayServer(write_calls(tmp_path / "up_raw.txt", [call], parts=("up",)))
    port = await up.start()
    monitor = LiveCallMonitor(session_factory, interval=0.05, asterisk="a1")
    try:
        async with wired_listener(port, session_factory, tmp_path / "s1", monitor=monitor):
            await until(lambda: live_rows(session_factory) == 1, "the on-net call up")
            live = client_for("admin", "admin").config.GetLiveCalls()  # type: ignore[attr-defined]
    finally:
        await up.stop()
    assert [(c.number, c.onnet, c.trunk_id) for c in live.items] == [(BOB_PEER, True, None)]
    assert live.onnet_calls == 1

    end = AmiReplayServer(write_calls(tmp_path / "end_raw.txt", [call], parts=("end",)))
    port = await end.start()
    try:
        async with wired_listener(port, session_factory, tmp_path / "s2"):
            await until(lambda: stored(session_factory) == 1, "the CDR rated")
    finally:
        await end.stop()

    with session_factory() as s:
        cdr = s.scalars(select(Cdr)).one()
        assert (cdr.account_id, cdr.onnet_account_id, cdr.trunk_id) == (ALICE_ID, BOB_ID, None)
        assert (cdr.prefix, cdr.billed_seconds, cdr.cost) == ("onnet", 120, D("0.0200"))
        charges = s.execute(
            select(Charge.level, Charge.account_id, Charge.provider_id, Charge.cost)
            .where(Charge.cdr_id == cdr.id)
            .order_by(Charge.level)
        ).all()
        held = s.scalars(select(Reservation.status).where(Reservation.uniqueid == call.uniqueid))
        assert set(held) == {"settled"}
    # Alice pays 95 s -> 2 minutes at 0.01; Reseller One's sheet has no on-net row: free;
    # no provider row (no trunk carried it); Bob, who was called, pays nothing.
    assert charges == [(0, ALICE_ID, None, D("0.0200")), (1, RESELLER_ID, None, D("0"))]
    after = balances(session_factory)
    assert after[ALICE_ID] == before[ALICE_ID] - D("0.0200")
    assert {i: b for i, b in after.items() if i != ALICE_ID} == {
        i: b for i, b in before.items() if i != ALICE_ID
    }

    day = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    admin = client_for("admin", "admin")
    stats = admin.config.GetTrafficStats(  # type: ignore[attr-defined]
        start=day - timedelta(days=1), end=day + timedelta(days=1), group_by="account"
    )
    row = next(r for r in stats.items if r.key == str(ALICE_ID))
    assert (row.calls, row.onnet_calls, row.onnet_answered, row.inbound_calls) == (0, 1, 1, 0)
    assert row.onnet_minutes == D("1.583333")  # 95 s
    assert row.onnet_cost == D("0")  # the operator pays no provider for it


def test_a_free_on_net_call_needs_no_money_and_a_priced_one_does(
    session_factory: Callable[[], Session], client_for: Callable[[str, str], object]
) -> None:
    with session_factory() as s:  # Bob has nothing left; Alice is Bob's callee now
        s.execute(update(Account).where(Account.id == ALICE_ID).values(sip_username="1001"))
        s.commit()
    bob = client_for("bob", "bob-demo-pw")
    ok = bob.billing.Authorize(call={"number": "1001", "account": "acct1002"})  # type: ignore[attr-defined]
    assert (ok.allowed, ok.dial_string, ok.onnet_account_id) == (True, "PJSIP/1001", ALICE_ID)
    bob_pays = ok.reserved
    assert bob_pays == D("1.800000")  # the same retail sheet: 0.01 a minute for 3 h
    # Carol pays by a sheet without an on-net row: free, whatever her credit.
    carol = client_for("carol", "carol-demo-pw")
    free = carol.billing.Authorize(call={"number": BOB_PEER, "account": "acct1003"})  # type: ignore[attr-defined]
    assert (free.allowed, free.reserved, free.dial_string) == (True, D("0"), "PJSIP/1002")
    # A prepaid account with no money left is refused an on-net call that costs money.
    with session_factory() as s:
        s.execute(update(Account).where(Account.id == BOB_ID).values(balance=D("0")))
        s.commit()
    refused = bob.billing.Authorize(call={"number": "1001", "account": "acct1002"})  # type: ignore[attr-defined]
    assert (refused.allowed, refused.reason) == (False, "InsufficientCredit")
    assert "on-net" in refused.detail


async def test_fastagi_answers_the_callees_peer_as_the_one_trunk(
    agi: int, session_factory: Callable[[], Session]
) -> None:
    got = await agi_call(agi, environment(agi_extension=BOB_PEER, agi_dnid=BOB_PEER))
    assert (got["SIPTAR_ALLOWED"], got["SIPTAR_ONNET"], got["SIPTAR_TRUNKS"]) == ("1", "1", "1")
    assert got["SIPTAR_DIALSTR"] == got["SIPTAR_DIALSTR_1"] == "PJSIP/1002"
    assert got["SIPTAR_TRUNK"] == got["SIPTAR_TRUNK_1"] == ""
    ordinary = await agi_call(agi, environment(agi_uniqueid="1700000000.6"))
    assert (ordinary["SIPTAR_ONNET"], ordinary["SIPTAR_DIALSTR"]) == (
        "0",
        "PJSIP/34911234567@carrier1",
    )
