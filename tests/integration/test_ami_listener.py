"""CdrListener over a real TCP socket, against captured Asterisk 22 sessions replayed.

The handler here only collects the records; the database end to end is tested elsewhere.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC
from pathlib import Path
from typing import Any

import pytest

from ami_listener.events import cdr_from_message
from ami_listener.listener import AmiLoginError, CdrListener
from services.cdr.commands import CdrRecord
from tests.ami_replay import AmiReplayServer

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.integration

FIXTURES = ROOT / "tests" / "fixtures" / "ami"
SESSION = FIXTURES / "ami_session_raw.txt"


def cdr_blocks(path: Path) -> list[str]:
    text = path.read_bytes().decode("utf-8")
    return [block for block in text.split("\r\n\r\n") if block.startswith("Event: Cdr\r\n")]


def expected_records(path: Path) -> list[CdrRecord]:
    """The records of a raw file, parsed without panoramisk."""
    return [
        cdr_from_message(dict(line.split(": ", 1) for line in block.split("\r\n")), UTC)
        for block in cdr_blocks(path)
    ]


def keys(records: list[CdrRecord]) -> list[tuple[str, int | None, int]]:
    return [(r.uniqueid, r.sequence, r.billsec) for r in records]


async def until(predicate: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


@dataclass
class Harness:
    server: AmiReplayServer
    listener: CdrListener
    records: list[CdrRecord] = field(default_factory=list)

    async def receive(self, count: int) -> None:
        """Wait until `count` Cdr events got through handle_cdr."""
        await self.server.wait_sent()
        await until(lambda: self.listener.received >= count, f"{count} Cdr events")
        await self.listener.wait_idle()


@asynccontextmanager
async def replaying(
    raw: Path,
    handle: Callable[[CdrRecord], object] | None = None,
    server_options: dict[str, Any] | None = None,
    **listener_options: Any,
) -> AsyncIterator[Harness]:
    server = AmiReplayServer(raw, **(server_options or {}))
    port = await server.start()
    records: list[CdrRecord] = []
    options = {"login_timeout": 5.0, "reconnect_delay": 0.05} | listener_options
    listener = CdrListener(
        "127.0.0.1", port, "billing", "billing", UTC, handle or records.append, **options
    )
    try:
        await listener.start()
        yield Harness(server, listener, records)
    finally:
        await listener.stop()
        await server.stop()


class TestReplayedSessions:
    @pytest.mark.parametrize(
        ("name", "count"),
        [
            ("ami_session_raw.txt", 14),
            ("ami_burst_raw.txt", 14),
            ("ami_helpercdr_raw.txt", 29),
            ("ami_timestamps_raw.txt", 4),
        ],
    )
    async def test_every_cdr_arrives_once_in_order(self, name: str, count: int) -> None:
        async with replaying(FIXTURES / name) as h:
            await h.receive(count)

            assert h.records == expected_records(FIXTURES / name)
            assert len(h.records) == count
            counters = (h.listener.received, h.listener.stored, h.listener.failed)
            assert counters == (count, count, 0)
            assert h.listener.rejected == 0

    async def test_the_main_session_gives_the_calls_of_the_readme(self) -> None:
        async with replaying(SESSION) as h:
            await h.receive(14)

        assert keys(h.records)[:3] == [
            ("1795316003.67", 57, 3),
            ("1795316010.72", 61, 1),
            ("1795316014.77", 65, 5),
        ]
        assert [r.disposition for r in h.records[3:7]] == [
            "BUSY",
            "NO ANSWER",
            "CONGESTION",
            "NO ANSWER",
        ]
        assert [r.billsec for r in h.records] == [3, 1, 5, 0, 0, 0, 0, 3, 2, 0, 2, 2, 2, 4]

    async def test_logs_in_with_the_cdr_event_mask(self) -> None:
        async with replaying(SESSION, server_options={"only": ("Cdr",)}) as h:
            await h.receive(14)

        login = h.server.actions[0]
        assert (login["action"], login["username"], login["events"]) == (
            "Login",
            "billing",
            "system,cdr",
        )


class TestFraming:
    async def test_seven_byte_writes_give_the_same_records(self) -> None:
        server_options = {"only": ("Cdr",), "chunk_size": 7}
        async with replaying(SESSION, server_options=server_options) as h:
            await h.receive(14)

        assert h.records == expected_records(SESSION)

    async def test_odd_sized_writes_of_the_whole_session_give_the_same_records(self) -> None:
        async with replaying(SESSION, server_options={"chunk_size": 997}) as h:
            await h.receive(14)

        assert h.records == expected_records(SESSION)

    async def test_a_utf8_character_split_across_reads_survives(self, tmp_path: Path) -> None:
        # panoramisk 1.4 alone drops it: it decodes every TCP read on its own.
        block = cdr_blocks(SESSION)[0].replace('"Alice" <100>', '"José Müller" <100>')
        raw = tmp_path / "utf8_raw.txt"
        raw.write_bytes(b"Asterisk Call Manager/11.0.0\r\n" + block.encode() + b"\r\n\r\n")

        async with replaying(raw, server_options={"chunk_size": 1}) as h:
            await h.receive(1)

        assert [r.callerid for r in h.records] == ['"José Müller" <100>']


class TestBadInput:
    async def test_a_failing_handler_loses_one_record_loudly_and_not_the_others(
        self, caplog: pytest.LogCaptureFixture
    ) -> None:
        stored: list[CdrRecord] = []

        def handle(record: CdrRecord) -> None:
            if record.uniqueid == "1795316024.82":
                raise RuntimeError("database is down")
            stored.append(record)

        with caplog.at_level(logging.ERROR, logger="ami_listener"):
            async with replaying(SESSION, handle) as h:
                await h.receive(14)

        expected = [r for r in expected_records(SESSION) if r.uniqueid != "1795316024.82"]
        assert stored == expected
        assert (h.listener.stored, h.listener.failed) == (13, 1)
        [error] = [r for r in caplog.records if "NOT stored" in r.getMessage()]
        assert "1795316024.82" in error.getMessage()
        assert error.exc_info is not None

    async def test_an_unparsable_event_is_logged_and_skipped(
        self, tmp_path: Path, caplog: pytest.LogCaptureFixture
    ) -> None:
        blocks = cdr_blocks(SESSION)[:3]
        blocks[1] = blocks[1].replace("StartTime: 2026-11-22 02:53:30", "StartTime: soon")
        raw = tmp_path / "bad_raw.txt"
        raw.write_bytes("".join(b + "\r\n\r\n" for b in blocks).encode())

        with caplog.at_level(logging.ERROR, logger="ami_listener"):
            async with replaying(raw) as h:
                await h.receive(3)

        assert [r.uniqueid for r in h.records] == ["1795316003.67", "1795316014.77"]
        assert (h.listener.received, h.listener.rejected, h.listener.stored) == (3, 1, 2)
        assert any(
            "1795316010.72" in r.getMessage() and "bad Asterisk time" in r.getMessage()
            for r in caplog.records
        )


class TestLogin:
    async def test_a_refused_login_raises_at_once_and_stops_retrying(self) -> None:
        server = AmiReplayServer(SESSION, secret="other")
        port = await server.start()
        listener = CdrListener(
            "127.0.0.1", port, "billing", "billing", UTC, print, reconnect_delay=0.05
        )
        try:
            started = time.monotonic()
            with pytest.raises(AmiLoginError, match=r"refused.*Authentication failed"):
                await listener.start()
            assert time.monotonic() - started < 2

            await asyncio.sleep(0.3)  # six reconnect delays
            assert (server.connections, server.failed_logins, server.logins) == (1, 1, 0)
            assert not listener.connected.is_set()
        finally:
            await server.stop()

    async def test_nothing_listening_raises_after_the_login_timeout(self) -> None:
        server = AmiReplayServer(SESSION)
        port = await server.start()
        await server.stop()  # the port is now closed
        listener = CdrListener(
            "127.0.0.1", port, "u", "s", UTC, print, login_timeout=0.5, reconnect_delay=0.05
        )

        with pytest.raises(AmiLoginError, match=r"no AMI login .* within 0\.5 s"):
            await listener.start()


class TestReconnect:
    async def test_after_a_reconnect_the_replayed_session_arrives_again(
        self, caplog: pytest.LogCaptureFixture
    ) -> None:
        with caplog.at_level(logging.INFO, logger="ami_listener"):
            async with replaying(SESSION) as h:
                await h.receive(14)
                await h.server.disconnect_clients()
                await until(lambda: h.server.logins == 2, "a second login")
                await h.receive(28)

        assert h.records == expected_records(SESSION) * 2
        assert h.server.connections == 2
        assert any("connection to" in r.getMessage() for r in caplog.records)

    async def test_replay_again_on_the_same_connection(self) -> None:
        async with replaying(SESSION, server_options={"only": ("Cdr",)}) as h:
            await h.receive(14)
            h.server.replay_again()
            await h.receive(28)

        assert keys(h.records) == keys(expected_records(SESSION)) * 2
        assert h.server.connections == 1

    async def test_the_watchdog_reconnects_when_pings_go_unanswered(
        self, caplog: pytest.LogCaptureFixture
    ) -> None:
        server_options = {"only": ("Cdr",), "answer_pings": False}
        with caplog.at_level(logging.WARNING, logger="ami_listener"):
            async with replaying(
                SESSION, server_options=server_options, ping_interval=0.1, ping_timeout=0.1
            ) as h:
                await until(lambda: h.server.logins >= 2, "a reconnect")

        assert any("no Pong" in r.getMessage() for r in caplog.records)

    async def test_answered_pings_keep_the_connection(self) -> None:
        async with replaying(
            SESSION, server_options={"only": ("Cdr",)}, ping_interval=0.05, ping_timeout=0.5
        ) as h:
            await until(
                lambda: sum(a["action"] == "Ping" for a in h.server.actions) >= 3, "3 pings"
            )

        assert h.server.connections == 1


class TestStop:
    async def test_stop_hands_every_queued_record_to_the_handler(self) -> None:
        stored: list[CdrRecord] = []

        def slow(record: CdrRecord) -> None:
            time.sleep(0.02)
            stored.append(record)

        async with replaying(SESSION, slow, server_options={"only": ("Cdr",)}) as h:
            await h.server.wait_sent()
            await until(lambda: h.listener.received == 14, "14 Cdr events")
            assert h.listener.stored < 14

        assert stored == expected_records(SESSION)

    async def test_stop_gives_up_after_the_drain_timeout_and_names_the_lost_records(
        self, caplog: pytest.LogCaptureFixture
    ) -> None:
        release = threading.Event()

        def stuck(record: CdrRecord) -> None:
            release.wait(5)

        try:
            with caplog.at_level(logging.ERROR, logger="ami_listener"):
                async with replaying(
                    SESSION, stuck, server_options={"only": ("Cdr",)}, drain_timeout=0.2
                ) as h:
                    await until(lambda: h.listener.received == 14, "14 Cdr events")
        finally:
            release.set()

        [error] = [r for r in caplog.records if "not stored after" in r.getMessage()]
        assert "13 Cdr records" in error.getMessage()
        assert "1795316064.127" in error.getMessage()
        assert "UniqueID=1795316003.67 was still in handle_cdr" in error.getMessage()

    async def test_run_forever_stops_cleanly_on_sigterm(self) -> None:
        server = AmiReplayServer(SESSION, only=("Cdr",))
        port = await server.start()
        records: list[CdrRecord] = []
        listener = CdrListener("127.0.0.1", port, "billing", "billing", UTC, records.append)
        try:
            task = asyncio.create_task(listener.run_forever())
            await until(lambda: listener.received == 14, "14 Cdr events")

            os.kill(os.getpid(), signal.SIGTERM)
            await asyncio.wait_for(task, 5)
        finally:
            await server.stop()

        assert records == expected_records(SESSION)
        assert not listener.connected.is_set()
