"""Stale `live_calls` rows: checked against Asterisk's CoreShowChannels after every
login, and aged out when no listener refreshes them; two listeners keep each other's
calls."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from ami_listener.live import LiveCallMonitor
from db.schema import LiveCall
from tests.ami_replay import AmiReplayServer
from tests.listener.conftest import until, wired_listener
from tests.listener.test_live_calls import CALL_01, CALLER, CHANNEL, _live, call_still_up

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("demo")]

GONE = "1795316000.1"  # a call that ended while nobody listened
LONG_AGO = datetime.now(UTC) - timedelta(hours=1)


def monitor_for(
    session_factory: Callable[[], Session], port: int, **options: float
) -> LiveCallMonitor:
    return LiveCallMonitor(session_factory, interval=0.05, asterisk=f"127.0.0.1:{port}", **options)


def add_row(
    session_factory: Callable[[], Session],
    uniqueid: str,
    asterisk: str,
    *,
    started_at: datetime = LONG_AGO,
    seen_at: datetime | None = None,
    channel: str = "",
) -> None:
    with session_factory() as s:
        s.add(
            LiveCall(
                uniqueid=uniqueid,
                channel=channel or f"SIP/trunk-{uniqueid}",
                asterisk=asterisk,
                number="34911234567",
                state="up",
                started_at=started_at,
                answered_at=started_at,
                seen_at=seen_at or datetime.now(UTC),
            )
        )
        s.commit()


def row(session_factory: Callable[[], Session], uniqueid: str) -> LiveCall | None:
    with session_factory() as s:
        return s.scalars(select(LiveCall).where(LiveCall.uniqueid == uniqueid)).one_or_none()


def uniqueids(session_factory: Callable[[], Session]) -> set[str]:
    return {call.uniqueid for call in _live(session_factory)}


class TestReconcileWithAsterisk:
    async def test_a_call_whose_hangup_was_missed_while_disconnected_is_removed(
        self, session_factory: Callable[[], Session], tmp_path: Path
    ) -> None:
        server = AmiReplayServer(call_still_up(tmp_path))
        port = await server.start()
        monitor = monitor_for(session_factory, port)
        try:
            async with wired_listener(port, session_factory, tmp_path, monitor=monitor):
                await until(lambda: _live(session_factory, up=True) != [], "the call up")
                await until(lambda: monitor.reconciles == 1, "the first reconcile")
                # The call ends while the listener is cut off: no Hangup reaches it.
                server.events, server.channels = [], []
                await server.disconnect_clients()
                await until(lambda: monitor.reconciles == 2, "the reconcile after the login")
                await until(lambda: _live(session_factory) == [], "the row removed")
        finally:
            await server.stop()
        assert monitor.calls == {} and monitor.channels == {}
        assert [a.get("action") for a in server.actions].count("CoreShowChannels") == 2

    async def test_a_call_still_up_after_a_reconnect_is_kept_and_refreshed(
        self, session_factory: Callable[[], Session], tmp_path: Path
    ) -> None:
        server = AmiReplayServer(call_still_up(tmp_path))
        port = await server.start()
        monitor = monitor_for(session_factory, port, refresh_interval=0.1)
        try:
            async with wired_listener(port, session_factory, tmp_path, monitor=monitor):
                await until(lambda: monitor.reconciles == 1, "the first reconcile")
                await until(lambda: row(session_factory, CALLER) is not None, "the row")
                before = row(session_factory, CALLER)
                server.channels = server.live_channels()
                server.events = []  # nothing new after the reconnect
                await server.disconnect_clients()
                await until(lambda: monitor.reconciles == 2, "the reconcile after the login")
                await asyncio.sleep(0.3)
                after = row(session_factory, CALLER)
        finally:
            await server.stop()
        assert before is not None and after is not None
        assert (after.state, after.channel, after.asterisk) == ("up", CHANNEL, f"127.0.0.1:{port}")
        assert after.seen_at > before.seen_at
        assert CALLER in monitor.calls

    async def test_a_restarted_listener_adopts_live_rows_and_removes_the_gone_ones(
        self, session_factory: Callable[[], Session], tmp_path: Path
    ) -> None:
        server = AmiReplayServer(call_still_up(tmp_path))
        server.channels = [{"Channel": CHANNEL, "Uniqueid": CALLER, "Linkedid": CALL_01}]
        server.events = []  # the listener starts in the middle of the call
        port = await server.start()
        mine, other = f"127.0.0.1:{port}", "10.0.0.9:5038"
        add_row(session_factory, CALLER, mine, channel=CHANNEL)  # still up
        add_row(session_factory, GONE, mine)  # ended while no listener ran
        add_row(session_factory, "1795316099.9", mine, started_at=datetime.now(UTC))  # new
        add_row(session_factory, "other.1", other)  # another Asterisk's call
        monitor = monitor_for(session_factory, port)
        try:
            async with wired_listener(port, session_factory, tmp_path, monitor=monitor):
                await until(lambda: monitor.reconciles == 1, "the first reconcile")
                assert uniqueids(session_factory) == {CALLER, "1795316099.9", "other.1"}
                assert set(monitor.calls) == {CALLER}
                server.hang_up(CALLER)  # the adopted call ends: its Hangup is seen
                await until(lambda: row(session_factory, CALLER) is None, "the row removed")
        finally:
            await server.stop()
        assert uniqueids(session_factory) == {"1795316099.9", "other.1"}

    async def test_a_refused_coreshowchannels_is_retried_and_refreshes_nothing(
        self, session_factory: Callable[[], Session], tmp_path: Path
    ) -> None:
        server = AmiReplayServer(call_still_up(tmp_path))
        server.refused = {"coreshowchannels"}
        port = await server.start()
        monitor = monitor_for(session_factory, port, refresh_interval=0.1, stale_after=0.5)
        try:
            async with wired_listener(port, session_factory, tmp_path, monitor=monitor):
                await until(lambda: _live(session_factory, up=True) != [], "the call up")
                await until(lambda: _live(session_factory) == [], "the row aged out")
                await until(
                    lambda: (
                        [a.get("action") for a in server.actions].count("CoreShowChannels") >= 2
                    ),
                    "a second try",
                )
        finally:
            await server.stop()
        assert monitor.reconciles == 0
        assert CALLER in monitor.calls  # kept in memory: its Hangup may still come


class TestRowsNobodyRefreshes:
    async def test_are_removed_after_stale_after_and_fresh_ones_stay(
        self, session_factory: Callable[[], Session], tmp_path: Path
    ) -> None:
        stale = datetime.now(UTC) - timedelta(minutes=2)
        add_row(session_factory, "dead.1", "10.0.0.8:5038", seen_at=stale)
        add_row(session_factory, "alive.1", "10.0.0.9:5038")
        server = AmiReplayServer(call_still_up(tmp_path))
        port = await server.start()
        monitor = monitor_for(session_factory, port)
        try:
            async with wired_listener(port, session_factory, tmp_path, monitor=monitor):
                await until(lambda: row(session_factory, "dead.1") is None, "the stale row gone")
                await until(lambda: monitor.reconciles == 1, "the first reconcile")
                await until(lambda: row(session_factory, CALLER) is not None, "the call's row")
        finally:
            await server.stop()
        assert {"alive.1", CALLER} <= uniqueids(session_factory)

    async def test_a_listener_cut_off_from_its_asterisk_lets_its_rows_age_out(
        self, session_factory: Callable[[], Session], tmp_path: Path
    ) -> None:
        server = AmiReplayServer(call_still_up(tmp_path))
        port = await server.start()
        monitor = monitor_for(session_factory, port, refresh_interval=0.1, stale_after=0.5)
        async with wired_listener(port, session_factory, tmp_path, monitor=monitor) as w:
            await until(lambda: monitor.reconciles == 1, "the first reconcile")
            await until(lambda: row(session_factory, CALLER) is not None, "the row")
            await asyncio.sleep(0.8)  # connected and refreshing: the row stays
            assert row(session_factory, CALLER) is not None
            await server.stop()  # Asterisk is gone for good
            await until(lambda: not w.listener.connected.is_set(), "the connection lost")
            await until(lambda: row(session_factory, CALLER) is None, "the row aged out")


class TestTwoListenersOnOneAsterisk:
    async def test_one_stopping_leaves_the_calls_the_other_sees(
        self, session_factory: Callable[[], Session], tmp_path: Path
    ) -> None:
        server = AmiReplayServer(call_still_up(tmp_path))
        port = await server.start()
        options = {"refresh_interval": 0.1, "stale_after": 0.5}
        a = monitor_for(session_factory, port, **options)
        b = monitor_for(session_factory, port, **options)
        try:
            async with wired_listener(port, session_factory, tmp_path / "b", monitor=b):
                async with contextlib.AsyncExitStack() as stack:
                    await stack.enter_async_context(
                        wired_listener(port, session_factory, tmp_path / "a", monitor=a)
                    )
                    await until(lambda: a.reconciles == 1 and b.reconciles == 1, "reconciles")
                    await until(lambda: row(session_factory, CALLER) is not None, "the row")
                # a stopped (its memory gone with it); b still sees the call.
                await asyncio.sleep(1.0)
                kept, read_at = row(session_factory, CALLER), datetime.now(UTC)
                # a restarted listener asks Asterisk and keeps b's call too.
                c = monitor_for(session_factory, port, **options)
                async with wired_listener(port, session_factory, tmp_path / "c", monitor=c):
                    await until(lambda: c.reconciles == 1, "c reconciled")
                    assert row(session_factory, CALLER) is not None
        finally:
            await server.stop()
        assert kept is not None and kept.state == "up"
        assert kept.seen_at > read_at - timedelta(seconds=0.5)
