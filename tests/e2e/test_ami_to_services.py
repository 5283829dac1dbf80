"""A captured Asterisk session, replayed over TCP into the AMI listener, rated into the
database, and read back through the cdr and billing services with client/."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from ami_listener.runner import make_listener
from client import SiptarClient
from db.ledger import ledger_sum
from db.schema import Account, Charge
from settings import Settings
from tests.ami_replay import AmiReplayServer

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("demo")]

SESSION = Path(__file__).resolve().parents[1] / "fixtures" / "ami" / "ami_session_raw.txt"
D = Decimal


async def replay(
    session_factory: Callable[[], Session], raw: Path = SESSION, events: int = 14
) -> None:
    server = AmiReplayServer(raw)
    port = await server.start()
    settings = Settings(
        ami_host="127.0.0.1", ami_port=port, ami_user="billing", ami_secret="billing"
    )
    listener = make_listener(settings, session_factory)
    try:
        await listener.start()
        await server.wait_sent()
        await listener.wait_idle()
    finally:
        await listener.stop()
        await server.stop()
    assert (listener.received, listener.failed, listener.rejected) == (events, 0, 0)


def balances(session_factory: Callable[[], Session]) -> dict[str, Decimal]:
    with session_factory() as s:
        return {a.name: a.balance for a in s.scalars(select(Account))}


class TestReplayedSession:
    async def test_calls_are_rated_charged_and_visible(
        self,
        session_factory: Callable[[], Session],
        client_for: Callable[[str, str], SiptarClient],
    ) -> None:
        await replay(session_factory)
        admin = client_for("admin", "admin")
        page = admin.cdr.ListCdrs(limit=100)
        assert page.total == 14
        by_seq = {c.sequence: c for c in page.items}
        # Alice (acct1001) pays "Reseller One retail": Spain 0.0180/min, 30/6.
        assert (by_seq[57].status, by_seq[57].cost, by_seq[57].billed_seconds) == (
            "rated",
            D("0.009"),
            30,
        )
        assert by_seq[57].destination == "Spain"
        assert (by_seq[69].status, by_seq[69].cost) == ("rated", D(0))  # BUSY
        # Extension 600 is no PSTN destination: kept, unrated, with the reason.
        assert by_seq[96].status == "unrated"
        assert "no rate" in by_seq[96].unrated_reason.lower()
        # Accountcodes that no account has.
        assert by_seq[92].status == "unrated"
        assert "acct1004" in by_seq[92].unrated_reason
        # Times are UTC: this Asterisk ran in UTC.
        assert by_seq[57].answer_time.isoformat() == "2026-11-22T02:53:24+00:00"

        alice = client_for("customer", "customer")
        mine = alice.cdr.ListCdrs()
        assert {c.sequence for c in mine.items} == {57, 69, 96, 101, 108}
        assert alice.billing.GetBalance().balance == D("10") - D("0.009") - D("0.009")

    async def test_every_level_is_charged_at_its_own_sheet(
        self,
        session_factory: Callable[[], Session],
    ) -> None:
        await replay(session_factory)
        after = balances(session_factory)
        # Alice: 2 x 0.009; Bob: UK 30 s at 0.0150 + Australia 30 s at 0.0350.
        assert after["Alice"] == D("9.982")
        assert after["Bob"] == D("5") - D("0.0075") - D("0.0175")
        # Reseller One pays Wholesale for its customers' calls: Spain 0.0120,
        # UK 0.0100, Australia 0.0250 per minute, all 30 s.
        assert after["Reseller One"] == D("500") - 2 * D("0.006") - D("0.005") - D("0.0125")
        # Carol, postpaid under the admin: USA 0.0150, 30 s.
        assert after["Carol Ltd"] == D("-0.0075")
        with session_factory() as s:
            for account in s.scalars(select(Account)):
                assert ledger_sum(s, account.id) == account.balance, account.name
            levels = s.scalars(select(Charge.level).where(Charge.cost > 0)).all()
            assert sorted(levels) == [0] * 5 + [1] * 4

    async def test_a_second_replay_charges_nothing(
        self,
        session_factory: Callable[[], Session],
        client_for: Callable[[str, str], SiptarClient],
    ) -> None:
        await replay(session_factory)
        first = balances(session_factory)
        await replay(session_factory)
        assert balances(session_factory) == first
        assert client_for("admin", "admin").cdr.ListCdrs().total == 14
