"""The database stops while Asterisk keeps sending CDRs, then starts again (PostgreSQL,
a dedicated server of this module, so the suite's shared one is never stopped)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from ami_listener.spool import Spool
from db import migrate
from db.session import UnitOfWork, make_engine, make_session_factory
from services.common.demo import load_demo
from tests.ami_replay import AmiReplayServer
from tests.listener.conftest import (
    SESSION,
    assert_stored_once_and_balanced,
    cdr_count,
    session_keys,
    until,
    wired_listener,
)
from tests.pgserver import PostgresServer, pg_admin, pg_db_url, unique_name

pytestmark = pytest.mark.integration


class StoppablePostgres(PostgresServer):
    def pause(self) -> None:
        self._run(
            str(self.bindir / "pg_ctl"), "-D", str(self.dir / "data"), "-m", "fast", "-w", "stop"
        )

    def resume(self) -> None:
        self._run(
            str(self.bindir / "pg_ctl"),
            "-D",
            str(self.dir / "data"),
            "-l",
            str(self.dir / "log"),
            "-w",
            "-o",
            f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off",
            "start",
        )
        self._wait()


@pytest.fixture(scope="module")
def own_postgres() -> Iterator[StoppablePostgres]:
    server = StoppablePostgres().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def pg_factory(own_postgres: StoppablePostgres) -> Iterator[Callable[[], Session]]:
    name = unique_name("siptar_down")
    pg_admin(own_postgres.url, f'CREATE DATABASE "{name}"')
    url = pg_db_url(own_postgres.url, name)
    migrate.upgrade(url)
    engine = make_engine(url)
    factory = make_session_factory(engine)
    with UnitOfWork(factory) as uow:
        load_demo(uow)
    yield factory
    engine.dispose()


class TestTheDatabaseIsStoppedAndStarted:
    async def test_cdrs_wait_in_memory_then_on_disk_and_are_written_when_it_returns(
        self, own_postgres: StoppablePostgres, pg_factory: Callable[[], Session], tmp_path: Path
    ) -> None:
        server = AmiReplayServer(SESSION, only=("Cdr",))
        port = await server.start()
        own_postgres.pause()
        try:
            async with wired_listener(
                port, pg_factory, tmp_path, memory_limit=5, retry_delay=0.1, max_retry_delay=0.2
            ) as w:
                await server.wait_sent()
                await until(lambda: w.listener.received == 14, "14 Cdr")
                await w.listener.wait_idle()
                await until(lambda: w.writer.down, "the writer to notice")
                # Past memory_limit the records went to disk, durably.
                assert w.writer.spilled > 5
                assert Spool(tmp_path).pending_files()
                own_postgres.resume()
                # (idle first, then `down` cleared: both, or the check races the writer)
                await until(lambda: w.writer.idle and not w.writer.down, "the backlog written", 30)
        finally:
            await server.stop()
        assert not Spool(tmp_path).pending_files()
        assert_stored_once_and_balanced(pg_factory, session_keys(SESSION))

    async def test_the_spool_survives_a_listener_restart(
        self, own_postgres: StoppablePostgres, pg_factory: Callable[[], Session], tmp_path: Path
    ) -> None:
        server = AmiReplayServer(SESSION, only=("Cdr",))
        port = await server.start()
        own_postgres.pause()
        try:
            async with wired_listener(port, pg_factory, tmp_path, retry_delay=0.1) as w:
                await server.wait_sent()
                await until(lambda: w.listener.received == 14, "14 Cdr")
                await w.listener.wait_idle()
            # Stopped while the database was down: everything is on disk.
            spool = Spool(tmp_path)
            assert sum(len(spool.read(p)) for p in spool.pending_files()) == 14
            own_postgres.resume()
            async with wired_listener(port, pg_factory, tmp_path, retry_delay=0.1) as w:
                await until(lambda: cdr_count(pg_factory) == 14, "the spool replayed", 30)
                await server.wait_sent()
                await until(lambda: w.listener.received == 14, "the replay after login")
                await w.listener.wait_idle()
                await until(lambda: w.writer.idle, "nothing left")
                assert w.writer.replayed_files >= 1
                assert w.writer.outcomes["duplicate"] == 14
        finally:
            await server.stop()
        assert not Spool(tmp_path).pending_files()
        assert_stored_once_and_balanced(pg_factory, session_keys(SESSION))
