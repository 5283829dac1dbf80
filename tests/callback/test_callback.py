"""Web callback through the real parts, on SQLite and PostgreSQL: RequestCallback over
SOAP (zeep) sends the Originate to an AMI server on a real socket (tests/ami_replay.py);
the legs' events are replayed over AMI into the listener; both legs are charged at the
account's sheet, balances equal ledgers, and GetCallbackStatus follows the events.
docs/onnet_callback.md, "Web callback"."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ami_listener.callbacks import CallbackEvents
from ami_listener.live import LiveCallMonitor
from client import SiptarClient, errors
from db.ledger import ledger_sum
from db.rates import plans
from db.schema import Account, Cdr, Charge, Reservation
from rating.model import CallToRate
from tests.ami_replay import AmiReplayServer
from tests.ami_synth import BANNER
from tests.asterisk.test_ami_provisioning import ThreadedAmi
from tests.credit.builders import ALICE_ID, RESELLER_RETAIL
from tests.listener.conftest import until, wired_listener

pytestmark = pytest.mark.e2e
D = Decimal
A, B = "34911234567", "442071234567"  # Spain and the UK, at Reseller One's retail prices


@pytest.fixture
def ami() -> Iterator[ThreadedAmi]:
    server = ThreadedAmi()
    yield server
    server.close()


@pytest.fixture
def server_settings(ami: ThreadedAmi) -> dict[str, object]:
    return {"ami_port": ami.port, "ami_user": "billing", "ami_secret": "billing"}


@pytest.fixture
def alice(demo: None, client_for: Callable[[str, str], SiptarClient]) -> SiptarClient:
    return client_for("customer", "customer")


def event(name: str, at: datetime, **fields: str) -> str:
    lines = [f"Event: {name}", "Privilege: call,all", f"Timestamp: {at.timestamp():.6f}"]
    return "\r\n".join(lines + [f"{k}: {v}" for k, v in fields.items()]) + "\r\n\r\n"


def bridged_cdr(channel: str, answer: datetime, billsec: int) -> str:
    """Asterisk's CDR of the callback's channel: the bridged call to B, after A answered."""
    fmt = "%Y-%m-%d %H:%M:%S"
    fields = {
        "AccountCode": "acct1001",
        "Source": A,
        "Destination": B,
        "DestinationContext": "siptar-callback",
        "CallerID": f'"" <{B}>',
        "Channel": "PJSIP/carrier1-000000c1",
        "DestinationChannel": "PJSIP/carrier1-000000c2",
        "LastApplication": "Dial",
        "LastData": f"PJSIP/{B}@carrier1,60",
        "StartTime": f"{answer - timedelta(seconds=2):{fmt}}",
        "AnswerTime": f"{answer:{fmt}}",
        "EndTime": f"{answer + timedelta(seconds=billsec):{fmt}}",
        "Duration": str(billsec + 2),
        "BillableSeconds": str(billsec),
        "Disposition": "ANSWERED",
        "AMAFlags": "DOCUMENTATION",
        "UniqueID": channel,
        "UserField": "",
        "LinkedID": channel,
        "Sequence": "7",
    }
    lines = ["Event: Cdr", "Privilege: cdr,all"] + [f"{k}: {v}" for k, v in fields.items()]
    return "\r\n".join(lines) + "\r\n\r\n"


async def replay(
    path: Path,
    events: list[str],
    session_factory: Callable[[], Session],
    until_: Callable[[], bool],
    what: str,
) -> None:
    path.write_bytes((BANNER + "".join(events)).encode())
    server = AmiReplayServer(path)
    port = await server.start()
    monitor = LiveCallMonitor(session_factory, interval=0.05, asterisk="a1")
    try:
        async with wired_listener(
            port, session_factory, path.with_suffix(".spool"), monitor=monitor
        ):
            await server.wait_sent()  # every event is out; then what it must have done
            await until(until_, what)
    finally:
        await server.stop()


def balances(session_factory: Callable[[], Session]) -> dict[int, Decimal]:
    with session_factory() as s:
        accounts = s.scalars(select(Account)).all()
        for a in accounts:
            assert a.balance == ledger_sum(s, a.id), a.name
        return {a.id: a.balance for a in accounts}


def reservations(session_factory: Callable[[], Session], channel: str) -> dict[str, str]:
    with session_factory() as s:
        rows = s.execute(
            select(Reservation.uniqueid, Reservation.status).where(
                Reservation.uniqueid.in_([channel, f"{channel}.a"]),
                Reservation.parent_id.is_(None),
            )
        ).all()
        return {u: st for u, st in rows}


async def test_both_legs_are_charged_and_the_status_follows_the_events(
    alice: SiptarClient, ami: ThreadedAmi, session_factory: Callable[[], Session], tmp_path: Path
) -> None:
    before = balances(session_factory)
    cb = alice.billing.RequestCallback(account=ALICE_ID, number_a=A, number_b=B)
    assert (cb.status, cb.number_a, cb.number_b, cb.account_id) == ("calling", A, B, ALICE_ID)
    (originate,) = ami.sent("Originate")
    channel = originate["channelid"]
    assert channel.startswith("siptar-cb-")
    assert (originate["channel"], originate["exten"], originate["context"]) == (
        f"PJSIP/{A}@carrier1",
        B,
        "siptar-callback",
    )
    assert f"SIPTAR_CB_DIALSTR=PJSIP/{B}@carrier1" in originate["variable"]
    # Both legs are held from the start, each keyed by what its CDR will carry.
    assert reservations(session_factory, channel) == {f"{channel}.a": "open", channel: "open"}

    t0 = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=120)
    answered, bridged, ended = (
        t0 + timedelta(seconds=5),
        t0 + timedelta(seconds=9),
        t0 + timedelta(seconds=75),
    )
    leg_a = "PJSIP/carrier1-000000c1"
    events = [
        event(
            "OriginateResponse",
            answered,
            Response="Success",
            Channel=leg_a,
            Uniqueid=channel,
            Reason="4",
            Context="siptar-callback",
            Exten=B,
        ),
        event("Hangup", ended, Channel=leg_a, Uniqueid=channel, Linkedid=channel, Cause="16"),
        bridged_cdr(channel, bridged, billsec=66),
    ]

    def both_charged() -> bool:
        with session_factory() as s:
            return len(s.scalars(select(Cdr.id).where(Cdr.status == "rated")).all()) == 2

    await replay(tmp_path / "legs.txt", events, session_factory, both_charged, "both legs rated")
    done = alice.billing.GetCallbackStatus(callback_id=cb.callback_id)
    assert (done.status, done.answered_at, done.ended_at) == ("completed", answered, ended)

    with session_factory() as s:
        cdrs = {c.uniqueid: c for c in s.scalars(select(Cdr))}
        plan = plans.plan(s, RESELLER_RETAIL)
        providers = s.scalars(select(Charge.cdr_id).where(Charge.provider_id.is_not(None))).all()
    a_cdr, b_cdr = cdrs[f"{channel}.a"], cdrs[channel]
    # Leg A: from A's answer to the hang-up (70 s) at the price of A; leg B as a call to B.
    assert (a_cdr.dst, a_cdr.billsec, a_cdr.account_id) == (A, 70, ALICE_ID)
    assert (b_cdr.dst, b_cdr.billsec, b_cdr.account_id) == (B, 66, ALICE_ID)
    assert a_cdr.cost == plan.rate_call(CallToRate(A, answered, 70)).cost > 0
    assert b_cdr.cost == plan.rate_call(CallToRate(B, bridged, 66)).cost > 0
    assert sorted(providers) == sorted([a_cdr.id, b_cdr.id])  # both went out over carrier1
    assert reservations(session_factory, channel) == {f"{channel}.a": "settled", channel: "settled"}
    after = balances(session_factory)
    assert after[ALICE_ID] == before[ALICE_ID] - a_cdr.cost - b_cdr.cost

    # The events again (a listener reconnecting): nothing changes twice.
    await replay(tmp_path / "again.txt", events, session_factory, lambda: True, "nothing")
    assert balances(session_factory) == after


async def test_a_leg_a_that_never_answers_releases_both_legs_and_charges_nothing(
    alice: SiptarClient, ami: ThreadedAmi, session_factory: Callable[[], Session], tmp_path: Path
) -> None:
    before = balances(session_factory)
    cb = alice.billing.RequestCallback(account=ALICE_ID, number_a=A, number_b=B)
    (originate,) = ami.sent("Originate")
    channel = originate["channelid"]
    busy = event(
        "OriginateResponse",
        datetime.now(UTC),
        Response="Failure",
        Channel=f"PJSIP/{A}@carrier1",
        Uniqueid=channel,
        Reason="5",
    )

    def failed() -> bool:
        return alice.billing.GetCallbackStatus(callback_id=cb.callback_id).status == "failed"

    await replay(tmp_path / "busy.txt", [busy], session_factory, failed, "the callback failed")
    status = alice.billing.GetCallbackStatus(callback_id=cb.callback_id)
    assert "reason 5" in status.reason
    assert reservations(session_factory, channel) == {
        f"{channel}.a": "released",
        channel: "released",
    }
    assert balances(session_factory) == before
    with session_factory() as s:  # what the legs held is off every account again
        assert s.scalars(select(Account.reserved).where(Account.reserved != 0)).all() == []


class NewestFirst(ThreadPoolExecutor):
    """A thread pool that starts the newest of the works waiting, one at a time, when
    `run_newest` asks: the order two listener threads may reach the database in when it
    was busy (SQLite's busy wait lets whoever retries first in, not the first waiter)."""

    def __init__(self) -> None:
        super().__init__(max_workers=1)
        self.waiting: list[tuple[Future[Any], Callable[[], Any]]] = []
        self.most_waiting = 0

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        outer: Future[Any] = Future()
        self.waiting.append((outer, lambda: fn(*args, **kwargs)))
        self.most_waiting = max(self.most_waiting, len(self.waiting))
        return outer

    async def run_newest(self) -> None:
        outer, work = self.waiting.pop()
        try:
            outer.set_result(await asyncio.wrap_future(super().submit(work)))
        except Exception as exc:
            outer.set_exception(exc)


async def test_a_hangup_is_applied_after_the_originate_response_before_it_whoever_runs_first(
    alice: SiptarClient, ami: ThreadedAmi, session_factory: Callable[[], Session]
) -> None:
    cb = alice.billing.RequestCallback(account=ALICE_ID, number_a=A, number_b=B)
    (originate,) = ami.sent("Originate")
    channel, leg_a = originate["channelid"], "PJSIP/carrier1-000000c1"
    answered = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=60)
    ended = answered + timedelta(seconds=40)
    pool = NewestFirst()
    asyncio.get_running_loop().set_default_executor(pool)
    callbacks = CallbackEvents(session_factory)
    on = callbacks.handlers({})
    # A leg A up for 40 s, its two events read in one go (as after the listener waited
    # for the database): the Hangup's transaction must not run before the answer's.
    stamp = {"Uniqueid": channel, "Channel": leg_a}
    on["OriginateResponse"](
        stamp | {"Response": "Success", "Reason": "4", "Timestamp": f"{answered.timestamp()}"}
    )
    on["Hangup"](stamp | {"Cause": "16", "Timestamp": f"{ended.timestamp()}"})
    async with asyncio.timeout(20):  # a bound on the wait, not on its speed
        while callbacks.pending:
            await asyncio.sleep(0.01)  # the tasks' next steps: a work submitted, or done
            if pool.waiting:
                await pool.run_newest()

    done = alice.billing.GetCallbackStatus(callback_id=cb.callback_id)
    assert (done.status, done.answered_at, done.ended_at) == ("completed", answered, ended)
    assert pool.most_waiting == 1  # never two callback events in flight at once
    with session_factory() as s:
        a_cdr = s.scalars(select(Cdr).where(Cdr.uniqueid == f"{channel}.a")).one()
        plan = plans.plan(s, RESELLER_RETAIL)
    assert (a_cdr.status, a_cdr.billsec) == ("rated", 40)
    assert a_cdr.cost == plan.rate_call(CallToRate(A, answered, 40)).cost > 0
    assert reservations(session_factory, channel)[f"{channel}.a"] == "settled"
    balances(session_factory)  # each equal to its ledger


def test_bad_numbers_no_credit_and_foreign_ids_are_refused_and_hold_nothing(
    alice: SiptarClient,
    ami: ThreadedAmi,
    session_factory: Callable[[], Session],
    client_for: Callable[[str, str], SiptarClient],
) -> None:
    with pytest.raises(errors.InvalidInput, match="number_b"):
        alice.billing.RequestCallback(account=ALICE_ID, number_a=A, number_b="call me")
    with pytest.raises(errors.NotFound):  # Carol is no account of Alice's subtree
        alice.billing.RequestCallback(account=5, number_a=A, number_b=B)
    with session_factory() as s:
        s.execute(update(Account).where(Account.id == ALICE_ID).values(balance=D("0")))
        s.commit()
    with pytest.raises(errors.InsufficientCredit, match="leg A"):
        alice.billing.RequestCallback(account=ALICE_ID, number_a=A, number_b=B)
    with pytest.raises(errors.NotFound):
        alice.billing.GetCallbackStatus(callback_id=999)
    assert ami.sent("Originate") == []
    with session_factory() as s:
        assert s.scalars(select(Reservation.id).where(Reservation.status == "open")).all() == []
