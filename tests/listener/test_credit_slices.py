"""Credit control as a real Asterisk runs it, through the AMI replay server (real TCP):
a burst of parallel calls reserved by slices, and a listener killed mid-call whose
successor releases the reservations of the calls gone, which Master.csv then settles."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ami_listener.credit import CreditKeeper
from ami_listener.csv_import import import_csv
from ami_listener.live import LiveCallMonitor
from db import ledger
from db.schema import Account, Cdr, Charge, LiveCall, Reservation
from db.session import UnitOfWork
from services.credit.authorize import AuthorizeRequest, authorize
from services.credit.policy import CreditPolicy
from tests.ami_calls import Call, master_csv, write_calls
from tests.ami_replay import AmiReplayServer
from tests.credit.builders import NOON, RESELLER_ID, customer
from tests.listener.conftest import until, wired_listener

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("demo")]

D = Decimal
SPAIN = "34911234567"
AST = "asterisk-1"  # the name both listeners give their Asterisk


def authorize_all(factory: Callable[[], Session], calls: list[Call]) -> list[bool]:
    allowed = []
    for call in calls:
        with UnitOfWork(factory) as uow:
            req = AuthorizeRequest(call.number, call.accountcode, uniqueid=call.uniqueid)
            # now: the listener expires what is overdue by the wall clock
            answer = authorize(uow, None, req, datetime.now(UTC), CreditPolicy())
            allowed.append(answer.allowed)
    return allowed


def statuses(factory: Callable[[], Session], account_id: int) -> dict[str, int]:
    with factory() as s:
        rows = s.execute(
            select(Reservation.status, func.count())
            .where(Reservation.account_id == account_id)
            .group_by(Reservation.status)
        ).all()
    return {status: count for status, count in rows}


def balanced(factory: Callable[[], Session], account_id: int) -> Decimal:
    with factory() as s:
        account = s.get(Account, account_id)
        assert account is not None
        assert account.balance == ledger.ledger_sum(s, account_id)
        return account.balance


def monitor(factory: Callable[[], Session]) -> LiveCallMonitor:
    return LiveCallMonitor(
        factory, interval=0.05, asterisk=AST, credit=CreditKeeper(AST, policy=CreditPolicy())
    )


async def test_a_burst_of_twenty_parallel_calls_is_authorized_and_settled_exactly(
    session_factory: Callable[[], Session], tmp_path: Path
) -> None:
    # 5.00 pays the 20 calls' real lengths (30-68 s at 0.0180/min: 0.2178 in all) and
    # 20 first slices of 5 min (0.09 each, 1.80). Whole calls would have held the
    # cost of 3 h (3.24) each: the second call would have been refused.
    with UnitOfWork(session_factory) as uow:
        account = customer(uow, "Burst", credit=D("5.00"), accountcode="burst")
    now = datetime.now(UTC)
    calls = [Call(n, "burst", SPAIN, billsec=30 + 2 * n, start=now) for n in range(20)]
    assert authorize_all(session_factory, calls) == [True] * 20
    assert statuses(session_factory, account) == {"open": 20}
    server = AmiReplayServer(write_calls(tmp_path / "burst_raw.txt", calls), chunk_size=997)
    port = await server.start()
    try:
        async with wired_listener(
            port, session_factory, tmp_path, monitor=monitor(session_factory)
        ):
            await until(lambda: statuses(session_factory, account) == {"settled": 20}, "20 settled")
    finally:
        await server.stop()
    with session_factory() as s:
        costs = s.scalars(select(Cdr.cost).where(Cdr.accountcode == "burst")).all()
        trunks = set(s.scalars(select(Cdr.trunk_id).where(Cdr.accountcode == "burst")))
    assert len(costs) == 20 and trunks == {1}
    assert balanced(session_factory, account) == D("5.00") - sum(costs, D(0))
    balanced(session_factory, RESELLER_ID)


async def test_a_killed_listener_locks_nobody_out_and_master_csv_settles_the_calls(
    session_factory: Callable[[], Session], tmp_path: Path
) -> None:
    # 0.90 is ten first slices: while the ten calls are up, an eleventh is refused.
    with UnitOfWork(session_factory) as uow:
        account = customer(uow, "Crash", credit=D("0.90"), accountcode="crash")
    # up for a minute already when the listener dies
    began = datetime.now(UTC) - timedelta(seconds=60)
    calls = [Call(n, "crash", SPAIN, billsec=20 + n, start=began, local=True) for n in range(10)]
    assert authorize_all(session_factory, calls) == [True] * 10
    eleventh = Call(10, "crash", SPAIN, billsec=5)
    assert authorize_all(session_factory, [eleventh]) == [False]

    up = AmiReplayServer(write_calls(tmp_path / "up_raw.txt", calls, parts=("up",)))
    port = await up.start()
    try:
        async with wired_listener(
            port, session_factory, tmp_path / "a", monitor=monitor(session_factory)
        ):
            await until(lambda: _live(session_factory) == 10, "ten calls up")
            # SIGKILL: the listener is gone without a word; the calls end meanwhile
            # and their Hangup and Cdr events are lost.
    finally:
        await up.stop()
    assert statuses(session_factory, account) == {"open": 10}
    assert _live(session_factory) == 10  # what the dead listener left

    empty = AmiReplayServer(write_calls(tmp_path / "none_raw.txt", [], parts=()))
    port = await empty.start()
    try:
        restarted = time.monotonic()
        async with wired_listener(
            port, session_factory, tmp_path / "b", monitor=monitor(session_factory)
        ):
            await until(lambda: statuses(session_factory, account) == {"released": 10}, "released")
            released_after = time.monotonic() - restarted
    finally:
        await empty.stop()
    assert released_after < 60
    assert _live(session_factory) == 0
    assert authorize_all(session_factory, [eleventh]) == [True]  # it may call again

    # Master.csv has the ten calls (Local channels: no trunk in the row) and one more
    # that no reservation knows.
    stray = Call(11, "crash", SPAIN, billsec=3, start=began, local=True)
    text = master_csv([*calls, stray])
    report = import_csv(session_factory, text, NOON.tzinfo)  # type: ignore[arg-type]
    assert (report.rows, report.rated, report.no_trunk) == (11, 11, 1)
    with session_factory() as s:
        settled = s.scalars(
            select(Reservation).where(
                Reservation.account_id == account,
                Reservation.uniqueid.in_([c.uniqueid for c in calls]),
            )
        ).all()
        assert {r.status for r in settled} == {"settled"}
        stored = {c.uniqueid: c for c in s.scalars(select(Cdr).where(Cdr.accountcode == "crash"))}
        buy = {
            ch.cdr_id: ch.cost
            for ch in s.scalars(select(Charge).where(Charge.provider_id.is_not(None)))
        }
    for call in calls:
        cdr = stored[call.uniqueid]
        # at 0.0180/min "30/6" and the provider's 0.0080/min per second
        assert cdr.trunk_id == 1 and cdr.billsec == call.billsec
        expected = (D("0.008") * call.billsec / 60).quantize(D("0.0001"), ROUND_HALF_UP)
        assert buy[cdr.id] == expected
    assert stored[stray.uniqueid].trunk_id is None
    balanced(session_factory, account)


def _live(factory: Callable[[], Session]) -> int:
    with factory() as s:
        return int(s.execute(select(func.count()).select_from(LiveCall)).scalar_one())
