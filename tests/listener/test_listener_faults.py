"""Fault injection over real TCP: the AMI server drops the connection mid-event, the
`siptar ami` process is SIGKILLed mid-batch, two listeners feed one database, AMI and
Master.csv carry the same calls. After each: every CDR stored once, balances = ledger."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from ami_listener.csv_import import import_csv
from db.schema import Cdr, LedgerEntry
from tests.ami_replay import AmiReplayServer
from tests.ami_synth import write_session
from tests.listener.conftest import (
    MASTER_CSV,
    SESSION,
    assert_stored_once_and_balanced,
    cdr_count,
    session_keys,
    until,
    wired_listener,
)

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("demo")]

ROOT = Path(__file__).resolve().parents[2]


class TestTheAmiServerDropsTheConnection:
    async def test_a_drop_mid_event_then_the_full_replay_stores_every_cdr_once(
        self, session_factory: Callable[[], Session], spool_dir: Path
    ) -> None:
        server = AmiReplayServer(SESSION, only=("Cdr",), chunk_size=97)
        port = await server.start()
        try:
            async with wired_listener(port, session_factory, spool_dir) as w:
                await until(lambda: server.events_sent >= 5, "5 events on the wire")
                await server.disconnect_clients()  # in the middle of event 6's bytes
                await until(lambda: server.logins == 2, "the listener's second login")
                await server.wait_sent()
                await until(lambda: w.listener.received >= 14 + 5, "the replay")
                await w.listener.wait_idle()
                assert w.writer.idle
        finally:
            await server.stop()
        assert server.connections == 2
        assert_stored_once_and_balanced(session_factory, session_keys(SESSION))


class TestTwoListenersOnOneAsterisk:
    async def test_every_call_is_charged_once(
        self, session_factory: Callable[[], Session], tmp_path: Path
    ) -> None:
        raw = write_session(tmp_path / "synth_raw.txt", 600)
        server = AmiReplayServer(raw)
        port = await server.start()
        try:
            async with (
                wired_listener(port, session_factory, tmp_path / "a", retry_delay=0.05) as a,
                wired_listener(port, session_factory, tmp_path / "b", retry_delay=0.05) as b,
            ):
                await server.wait_sent(30)
                await until(lambda: a.listener.received == b.listener.received == 600, "both")
                await a.listener.wait_idle()
                await b.listener.wait_idle()
                await until(lambda: a.writer.idle and b.writer.idle, "both writers done")
        finally:
            await server.stop()
        stored = a.writer.outcomes["rated"] + b.writer.outcomes["rated"]
        duplicates = a.writer.outcomes["duplicate"] + b.writer.outcomes["duplicate"]
        assert (stored, duplicates) == (600, 600)
        assert_stored_once_and_balanced(session_factory, session_keys(raw))


class TestAmiAndMasterCsvCarryTheSameCalls:
    async def test_csv_after_ami_adds_only_the_calls_ami_missed(
        self, session_factory: Callable[[], Session], spool_dir: Path
    ) -> None:
        server = AmiReplayServer(SESSION, only=("Cdr",))
        port = await server.start()
        try:
            async with wired_listener(port, session_factory, spool_dir) as w:
                await server.wait_sent()
                await until(lambda: w.listener.received == 14, "14 Cdr")
                await w.listener.wait_idle()
        finally:
            await server.stop()
        ledger_before = _ledger_rows(session_factory)

        report = import_csv(session_factory, MASTER_CSV.read_text(), _utc())

        # Master.csv holds the session (14) and two more runs (43): those are new.
        assert (report.rows, report.duplicate) == (57, 14)
        assert cdr_count(session_factory) == 57
        with session_factory() as s:
            rows = s.execute(select(Cdr.source, func.count()).group_by(Cdr.source))
            sources = {source: count for source, count in rows}
        assert sources == {"ami": 14, "csv": 43}
        assert _ledger_rows(session_factory) > ledger_before
        again = import_csv(session_factory, MASTER_CSV.read_text(), _utc())
        assert again.duplicate == 57
        _assert_no_double_charge(session_factory)

    async def test_ami_after_csv_charges_nothing_more(
        self, session_factory: Callable[[], Session], spool_dir: Path
    ) -> None:
        import_csv(session_factory, MASTER_CSV.read_text(), _utc())
        ledger_before = _ledger_rows(session_factory)
        server = AmiReplayServer(SESSION, only=("Cdr",))
        port = await server.start()
        try:
            async with wired_listener(port, session_factory, spool_dir) as w:
                await server.wait_sent()
                await until(lambda: w.listener.received == 14, "14 Cdr")
                await w.listener.wait_idle()
        finally:
            await server.stop()
        assert w.writer.outcomes["duplicate"] == 14
        assert cdr_count(session_factory) == 57
        assert _ledger_rows(session_factory) == ledger_before
        _assert_no_double_charge(session_factory)


class TestTheListenerProcessIsKilled:
    async def test_sigkill_mid_stream_then_a_restart_stores_every_cdr_once(
        self, session_factory: Callable[[], Session], database_url: str, tmp_path: Path
    ) -> None:
        total = 1500
        raw = write_session(tmp_path / "synth_raw.txt", total)
        server = AmiReplayServer(raw)
        port = await server.start()
        env = os.environ | {
            "SIPTAR_DATABASE_URL": database_url,
            "SIPTAR_AMI_PORT": str(port),
            "SIPTAR_AMI_SECRET": "billing",
            "SIPTAR_SPOOL_DIR": str(tmp_path / "spool"),
        }
        # A plain engine: siptar's SQLite engine begins every transaction IMMEDIATE, and
        # a reader would then wait for the listener to finish the whole stream.
        reader = create_engine(database_url)
        try:
            first = _start_listener(env, tmp_path / "first.log")
            try:
                await until(lambda: _count(reader) > 0, "the first commits", 60)
            finally:
                first.send_signal(signal.SIGKILL)
                first.wait()
            killed_at = _count(reader)
            assert 0 < killed_at < total

            second = _start_listener(env, tmp_path / "second.log")
            try:
                await until(lambda: _count(reader) == total, "all CDRs", 90)
            finally:
                second.send_signal(signal.SIGTERM)
                assert await asyncio.to_thread(second.wait, 30) == 0
        finally:
            reader.dispose()
            await server.stop()
        assert_stored_once_and_balanced(session_factory, session_keys(raw))


def _count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count(Cdr.id))).scalar_one())


def _start_listener(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    out = open(log, "wb")  # noqa: SIM115 (closed with the process)
    return subprocess.Popen(
        [sys.executable, "-m", "cli", "ami"], cwd=ROOT, env=env, stdout=out, stderr=out
    )


def _ledger_rows(session_factory: Callable[[], Session]) -> int:
    with session_factory() as s:
        return int(s.execute(select(func.count(LedgerEntry.id))).scalar_one())


def _assert_no_double_charge(session_factory: Callable[[], Session]) -> None:
    with session_factory() as s:
        keys = s.execute(select(Cdr.uniqueid, Cdr.sequence)).all()
    assert len(keys) == len(set(keys))
    assert_stored_once_and_balanced(session_factory, set(keys))


def _utc():  # type: ignore[no-untyped-def]
    from datetime import UTC

    return UTC
