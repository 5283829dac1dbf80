"""CDR events per second from a TCP AMI stream to rated, charged, committed rows.

A synthetic session of 20,000 `Event: Cdr` messages for the demo accounts (tests/
ami_synth.py; 60 % answered, every level of the tree charged) is replayed over TCP by
tests/ami_replay.AmiReplayServer, running in its own thread and event loop, into the
production listener (`CdrListener` + `CdrWriter`: batches of up to 200 in one
transaction). The clock runs from the listener's login to the last batch committed.
On SQLite (a WAL file) and on a throwaway PostgreSQL (tests.pgserver). Set
BENCH_AMI_EVENTS to change the count.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import threading
import time
from datetime import UTC
from pathlib import Path

from sqlalchemy import func, select

from ami_listener.listener import CdrListener
from ami_listener.spool import Spool
from ami_listener.writer import CdrWriter
from db import migrate
from db.ledger import ledger_sum
from db.schema import Account, Cdr
from db.session import UnitOfWork, make_engine, make_session_factory
from services.common.demo import load_demo
from tests.ami_replay import AmiReplayServer
from tests.ami_synth import write_session
from tests.pgserver import PostgresServer, pg_admin, pg_db_url

EVENTS = int(os.environ.get("BENCH_AMI_EVENTS", "20000"))


class _ServerThread:
    """The replay server in a loop of its own, as Asterisk would be a process of its own."""

    def __init__(self, raw: Path) -> None:
        self.raw = raw
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.port = 0
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.server = AmiReplayServer(self.raw)
        self.port = self.loop.run_until_complete(self.server.start())
        self.ready.set()
        self.loop.run_forever()

    def __enter__(self) -> _ServerThread:
        self.thread.start()
        self.ready.wait(30)
        return self

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self.server.stop(), self.loop).result(30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(30)


async def _listen(port: int, writer: CdrWriter, count: int) -> float:
    listener = CdrListener(
        "127.0.0.1", port, "billing", "billing", UTC, writer.write, handle_batch=writer.write
    )
    started = time.perf_counter()
    await listener.start()
    try:
        while sum(writer.outcomes.values()) + writer.failed < count:
            await asyncio.sleep(0.01)
        return time.perf_counter() - started
    finally:
        await listener.stop()


def _one(label: str, url: str, raw: Path, spool: Path) -> None:
    migrate.upgrade(url)
    engine = make_engine(url)
    factory = make_session_factory(engine)
    with UnitOfWork(factory) as uow:
        load_demo(uow)
    writer = CdrWriter(factory, Spool(spool))
    with _ServerThread(raw) as server:
        elapsed = asyncio.run(_listen(server.port, writer, EVENTS))
    with factory() as s:
        stored = s.execute(select(func.count(Cdr.id))).scalar_one()
        balanced = all(a.balance == ledger_sum(s, a.id) for a in s.scalars(select(Account)))
    engine.dispose()
    print(
        f"   {label:<10} {EVENTS} Cdr events -> {stored} rows in {elapsed:.2f} s: "
        f"{EVENTS / elapsed:,.0f} events/s ({writer.outcomes['rated']} rated, "
        f"{writer.outcomes['unrated']} unrated; balances = ledger: {balanced})",
        flush=True,
    )


def run() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-ami-") as tmp:
        raw = write_session(Path(tmp) / "raw.txt", EVENTS)
        _one("SQLite", f"sqlite:///{tmp}/bench.db", raw, Path(tmp) / "spool-sqlite")
        pg = PostgresServer().start()
        try:
            pg_admin(pg.url, 'CREATE DATABASE "bench"')
            _one("PostgreSQL", pg_db_url(pg.url, "bench"), raw, Path(tmp) / "spool-pg")
        finally:
            pg.stop()
