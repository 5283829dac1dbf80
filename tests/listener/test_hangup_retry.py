"""A Hangup that fails (an error answer, no answer, no connection) is sent again with
backoff until Asterisk accepts it or the channel is gone."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from ami_listener.hangups import HangupSender
from ami_listener.live import LiveCallMonitor
from db.schema import CallIntervention
from tests.ami_replay import AmiReplayServer
from tests.listener.conftest import until, wired_listener
from tests.listener.test_live_calls import (
    CALLER,
    CHANNEL,
    _live,
    call_still_up,
    hangups,
    reserve,
)

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("demo")]


def monitor_for(session_factory: Callable[[], Session], port: int) -> LiveCallMonitor:
    return LiveCallMonitor(
        session_factory,
        interval=0.05,
        asterisk=f"127.0.0.1:{port}",
        hangups=HangupSender(timeout=0.3, retry_delay=0.05, max_retry_delay=0.2),
    )


def interventions(session_factory: Callable[[], Session]) -> list[CallIntervention]:
    with session_factory() as s:
        return list(s.scalars(select(CallIntervention)))


class TestAFailedHangupIsRetried:
    async def test_after_an_error_and_a_silence_until_asterisk_accepts_it(
        self, session_factory: Callable[[], Session], tmp_path: Path
    ) -> None:
        reserve(session_factory, max_seconds=0)
        server = AmiReplayServer(call_still_up(tmp_path))
        server.hangup_failures = ["error", "silence"]
        port = await server.start()
        monitor = monitor_for(session_factory, port)
        try:
            async with wired_listener(port, session_factory, tmp_path, monitor=monitor):
                await until(lambda: monitor.hangups_sent != [], "an accepted Hangup")
                await until(lambda: _live(session_factory) == [], "the call gone")
                await asyncio.sleep(0.5)  # several ticks: nothing more is sent
        finally:
            await server.stop()
        assert [a["channel"] for a in hangups(server)] == [CHANNEL] * 3
        assert [h.uniqueid for h in monitor.hangups_sent] == [CALLER]
        assert monitor.hangups.failures == 2 and monitor.hangups.pending == {}
        assert len(interventions(session_factory)) == 1

    async def test_across_a_lost_connection(
        self, session_factory: Callable[[], Session], tmp_path: Path
    ) -> None:
        reserve(session_factory, max_seconds=0)
        server = AmiReplayServer(call_still_up(tmp_path))
        server.hangup_failures = ["silence"]
        port = await server.start()
        monitor = monitor_for(session_factory, port)
        try:
            async with wired_listener(port, session_factory, tmp_path, monitor=monitor) as w:
                await until(lambda: hangups(server) != [], "the first Hangup")
                await server.disconnect_clients()  # Asterisk restarts meanwhile
                await until(lambda: monitor.hangups_sent != [], "an accepted Hangup")
                assert w.listener.logins >= 2
        finally:
            await server.stop()
        assert server.connections >= 2
        assert len(hangups(server)) >= 2
        assert monitor.hangups.failures >= 1 and monitor.hangups.pending == {}
        assert len(interventions(session_factory)) == 1


class TestRetryingStops:
    async def test_when_the_channel_hangs_up_on_its_own(
        self, session_factory: Callable[[], Session], tmp_path: Path
    ) -> None:
        reserve(session_factory, max_seconds=0)
        server = AmiReplayServer(call_still_up(tmp_path))
        server.hangup_failures = ["error"] * 1000
        port = await server.start()
        monitor = monitor_for(session_factory, port)
        try:
            async with wired_listener(port, session_factory, tmp_path, monitor=monitor):
                await until(lambda: len(hangups(server)) >= 2, "two Hangups refused")
                server.hang_up(CALLER)  # the caller hangs up
                await until(lambda: monitor.hangups.pending == {}, "no Hangup pending")
                sent = len(hangups(server))
                await asyncio.sleep(0.5)
                assert len(hangups(server)) == sent
        finally:
            await server.stop()
        assert monitor.hangups_sent == []
        assert _live(session_factory) == []

    async def test_when_asterisk_has_no_such_channel(
        self, session_factory: Callable[[], Session], tmp_path: Path
    ) -> None:
        server = AmiReplayServer(call_still_up(tmp_path))
        port = await server.start()
        monitor = monitor_for(session_factory, port)
        try:
            async with wired_listener(port, session_factory, tmp_path, monitor=monitor):
                await until(lambda: monitor.reconciles == 1, "the call checked against Asterisk")
                server.channels = []  # the call ends; its Hangup event never comes
                reserve(session_factory, max_seconds=0)
                await until(lambda: hangups(server) != [], "the Hangup")
                await until(lambda: monitor.hangups.pending == {}, "no Hangup pending")
                await asyncio.sleep(0.5)
        finally:
            await server.stop()
        assert len(hangups(server)) == 1
        assert monitor.hangups_sent == [] and monitor.hangups.failures == 0
