"""Helpers for the production-shape listener tests: a listener wired to a database
through CdrWriter (and optionally LiveCallMonitor), and the checks every fault test
ends with (each CDR stored once, every balance equal to its ledger)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ami_listener.listener import CdrListener
from ami_listener.live import LiveCallMonitor
from ami_listener.runner import make_listener
from ami_listener.spool import Spool
from ami_listener.writer import CdrWriter
from db.ledger import ledger_sum
from db.schema import Account, Cdr, LedgerEntry
from settings import Settings
from tests.ami_replay import AmiReplayServer

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ami"
SESSION = FIXTURES / "ami_session_raw.txt"
MASTER_CSV = FIXTURES / "Master.csv"


async def until(predicate: Callable[[], bool], what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


@dataclass
class Wired:
    listener: CdrListener
    writer: CdrWriter
    monitor: LiveCallMonitor | None


@asynccontextmanager
async def wired_listener(
    port: int,
    session_factory: Callable[[], Session],
    spool_dir: Path,
    *,
    monitor: LiveCallMonitor | None = None,
    **writer_options: Any,
) -> AsyncIterator[Wired]:
    settings = Settings(
        ami_host="127.0.0.1", ami_port=port, ami_user="billing", ami_secret="billing"
    )
    writer = CdrWriter(session_factory, Spool(spool_dir), **writer_options)
    listener = make_listener(
        settings,
        session_factory,
        writer,
        monitor,
        login_timeout=5.0,
        reconnect_delay=0.05,
        idle_tick=0.1,
    )
    task = None
    await listener.start()
    if monitor is not None:
        task = asyncio.create_task(monitor.run(listener))
    try:
        yield Wired(listener, writer, monitor)
    finally:
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        await listener.stop()
        await asyncio.to_thread(writer.close)


def cdr_count(session_factory: Callable[[], Session]) -> int:
    with session_factory() as s:
        return int(s.execute(select(func.count(Cdr.id))).scalar_one())


def assert_stored_once_and_balanced(
    session_factory: Callable[[], Session], expected_keys: set[tuple[str, int]]
) -> None:
    """Exactly these (uniqueid, sequence) CDRs, each once, each charged at most once per
    account, and every balance equal to the sum of its ledger."""
    with session_factory() as s:
        keys = s.execute(select(Cdr.uniqueid, Cdr.sequence)).all()
        assert len(keys) == len(set(keys))
        assert set(keys) == expected_keys
        charged_twice = s.execute(
            select(LedgerEntry.cdr_id, LedgerEntry.account_id)
            .where(LedgerEntry.cdr_id.is_not(None))
            .group_by(LedgerEntry.cdr_id, LedgerEntry.account_id)
            .having(func.count() > 1)
        ).all()
        assert charged_twice == []
        for account in s.scalars(select(Account)):
            assert account.balance == ledger_sum(s, account.id), account.name


def session_keys(raw: Path) -> set[tuple[str, int]]:
    server = AmiReplayServer(raw, only=("Cdr",))
    keys = set()
    for event in server.events:
        fields = dict(line.split(": ", 1) for line in event.decode().split("\r\n") if ": " in line)
        keys.add((fields["UniqueID"], int(fields["Sequence"])))
    return keys


@pytest.fixture
def spool_dir(tmp_path: Path) -> Path:
    return tmp_path / "spool"
