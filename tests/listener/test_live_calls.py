"""Live calls from Newchannel/DialBegin/DialEnd/BridgeEnter/Hangup into `live_calls`,
and the hang-up over AMI of a call whose credit reservation ran out."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ami_listener.events import cdr_from_message
from ami_listener.live import LiveCallMonitor
from db.schema import Account, CallIntervention, Cdr, LiveCall, Reservation
from db.session import UnitOfWork
from services.cdr.usecases import record_cdr
from services.credit.expiry import EXPIRY_MARGIN
from tests.ami_replay import EOM, AmiReplayServer, load_events
from tests.listener.conftest import SESSION, until, wired_listener

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("demo")]

CALL_01 = "1795316003.66"  # LinkedID of call-01: 100 "Alice" -> 34911234567
CALLER = "1795316003.67"  # its dialling channel: the CDR's UniqueID
CHANNEL = "Local/34911234567@outbound-0000001a;2"
CALL_EVENTS = ("Newchannel", "DialBegin", "DialEnd", "BridgeEnter", "Hangup", "Cdr")


def call_still_up(tmp_path: Path) -> Path:
    """call-01's events up to its answer: nothing of its hang-up or its CDR."""
    events = [
        e
        for e in load_events(SESSION, only=CALL_EVENTS[:-2])
        if f"Linkedid: {CALL_01}".encode() in e
    ]
    path = tmp_path / "call_up_raw.txt"
    path.write_bytes(b"Asterisk Call Manager/11.0.0\r\n" + b"".join(events))
    return path


def reserve(session_factory: Callable[[], Session], max_seconds: int) -> int:
    with session_factory() as s:
        alice = s.scalars(select(Account).where(Account.accountcode == "acct1001")).one()
        reservation = Reservation(
            account_id=alice.id,
            number="34911234567",
            amount=Decimal("0.01"),
            max_seconds=max_seconds,
            reserved_seconds=max_seconds,  # the whole call: nothing to extend
            uniqueid=CALLER,
            # as Authorize sets it: the end of what it holds, plus the margin
            expires_at=datetime.now(UTC) + timedelta(seconds=max_seconds) + EXPIRY_MARGIN,
        )
        s.add(reservation)
        s.commit()
        return reservation.id


def hangups(server: AmiReplayServer) -> list[dict[str, str]]:
    return [a for a in server.actions if a.get("action", "").lower() == "hangup"]


class TestLiveCalls:
    async def test_an_answered_call_is_up_with_its_account_and_number(
        self, session_factory: Callable[[], Session], tmp_path: Path
    ) -> None:
        server = AmiReplayServer(call_still_up(tmp_path))
        port = await server.start()
        monitor = LiveCallMonitor(session_factory, interval=0.05)
        try:
            async with wired_listener(port, session_factory, tmp_path, monitor=monitor):
                await server.wait_sent()
                await until(lambda: _live(session_factory, up=True), "the call up")
        finally:
            await server.stop()
        [call] = _live(session_factory)
        with session_factory() as s:
            alice = s.scalars(select(Account).where(Account.accountcode == "acct1001")).one()
        assert (call.uniqueid, call.channel, call.number) == (CALLER, CHANNEL, "34911234567")
        assert (call.account_id, call.state, call.linkedid) == (alice.id, "up", CALL_01)
        assert call.answered_at is not None and call.answered_at >= call.started_at

    async def test_after_the_whole_session_no_call_is_left_up(
        self, session_factory: Callable[[], Session], tmp_path: Path
    ) -> None:
        server = AmiReplayServer(SESSION, only=CALL_EVENTS)
        port = await server.start()
        monitor = LiveCallMonitor(session_factory, interval=0.05)
        try:
            async with wired_listener(port, session_factory, tmp_path, monitor=monitor) as w:
                await server.wait_sent()
                await until(lambda: w.listener.received == 14, "14 Cdr")
                await w.listener.wait_idle()
                await until(lambda: not monitor.calls and not monitor._changed, "all hung up")
                await monitor.tick(w.listener)
        finally:
            await server.stop()
        assert _live(session_factory) == []
        assert hangups(server) == []


class TestCreditRunsOutDuringACall:
    async def test_the_listener_hangs_the_channel_up_and_records_why(
        self, session_factory: Callable[[], Session], tmp_path: Path
    ) -> None:
        reservation_id = reserve(session_factory, max_seconds=3600)
        server = AmiReplayServer(call_still_up(tmp_path))
        port = await server.start()
        monitor = LiveCallMonitor(session_factory, interval=0.05)
        try:
            async with wired_listener(port, session_factory, tmp_path, monitor=monitor) as w:
                await until(lambda: _live(session_factory, up=True), "the call up")
                await monitor.tick(w.listener)
                assert hangups(server) == []  # an hour of credit: nothing to do
                # The balance changed: the reservation now covers nothing more.
                with session_factory() as s:
                    s.execute(
                        update(Reservation)
                        .where(Reservation.id == reservation_id)
                        .values(
                            max_seconds=0,
                            reserved_seconds=0,
                            expires_at=datetime.now(UTC) + EXPIRY_MARGIN,
                        )
                    )
                    s.commit()
                await until(lambda: hangups(server) != [], "the Hangup action")
        finally:
            await server.stop()
        [action] = hangups(server)
        assert action["channel"] == CHANNEL
        with session_factory() as s:
            [why] = s.scalars(select(CallIntervention)).all()
        assert (why.uniqueid, why.reservation_id, why.action) == (CALLER, reservation_id, "hangup")
        assert "credit exhausted" in why.reason
        # The CDR that follows carries the reason.
        record = next(
            cdr_from_message(_fields(e), UTC)
            for e in load_events(SESSION, only=("Cdr",))
            if f"UniqueID: {CALLER}".encode() in e
        )
        with UnitOfWork(session_factory) as uow:
            record_cdr(uow, record)
        with session_factory() as s:
            cdr = s.scalars(select(Cdr).where(Cdr.uniqueid == CALLER)).one()
        assert cdr.hangup_reason == why.reason

    async def test_two_listeners_hang_up_once(
        self, session_factory: Callable[[], Session], tmp_path: Path
    ) -> None:
        reserve(session_factory, max_seconds=0)
        server = AmiReplayServer(call_still_up(tmp_path))
        port = await server.start()
        a = LiveCallMonitor(session_factory, interval=0.05)
        b = LiveCallMonitor(session_factory, interval=0.05)
        try:
            async with (
                wired_listener(port, session_factory, tmp_path / "a", monitor=a) as wa,
                wired_listener(port, session_factory, tmp_path / "b", monitor=b) as wb,
            ):
                await until(lambda: hangups(server) != [], "the Hangup action")
                for _ in range(3):
                    await a.tick(wa.listener)
                    await b.tick(wb.listener)
        finally:
            await server.stop()
        assert len(hangups(server)) == 1
        assert len(a.hangups_sent) + len(b.hangups_sent) == 1
        with session_factory() as s:
            assert len(s.scalars(select(CallIntervention)).all()) == 1


def _live(session_factory: Callable[[], Session], up: bool = False) -> list[LiveCall]:
    with session_factory() as s:
        query = select(LiveCall)
        if up:
            query = query.where(LiveCall.state == "up")
        return list(s.scalars(query))


def _fields(event: bytes) -> dict[str, str]:
    lines = event.removesuffix(EOM).decode().split("\r\n")
    return dict(line.split(": ", 1) if ": " in line else (line.rstrip(":"), "") for line in lines)
