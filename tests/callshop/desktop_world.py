"""What the desktop tests and `make callshop-screenshot` run against: a real `siptar
serve` subprocess on a migrated SQLite database with the demo and a call shop, and an
AMI replay server feeding a real listener (in a thread of its own) into that database."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy.orm import Session

from ami_listener.live import LiveCallMonitor
from client import SiptarClient
from db.session import make_engine, make_session_factory
from tests.ami_calls import Call, write_calls
from tests.ami_replay import AmiReplayServer
from tests.callshop.conftest import Shop, make_shop
from tests.e2e.test_cli_serve import _migrated, _serve, serve_log, siptar
from tests.listener.conftest import wired_listener
from tests.pgserver import free_port
from tests.serving import wait_for_http


@dataclass
class World:
    url: str
    session_factory: Callable[[], Session]
    shop: Shop
    process: subprocess.Popen[str]
    tmp: Path
    env: dict[str, str]
    port: int

    def stop_server(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=30)

    def start_server(self) -> None:
        """The server back on the same address (after stop_server)."""
        self.process = _serve(self.port, self.tmp, self.env, workers=1, stderr=subprocess.DEVNULL)
        wait_for_http(
            f"{self.url}/billing?wsdl", self.process, "siptar serve", 60, log=serve_log(self.tmp)
        )


@contextmanager
def served_shop(tmp: Path, peers: tuple[str, ...] = ("booth1", "booth2")) -> Iterator[World]:
    env = _migrated(tmp)
    siptar("demo", "--if-empty", cwd=tmp, env=env)
    port = free_port()
    proc = _serve(port, tmp, env, workers=1, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    engine = make_engine(env["SIPTAR_DATABASE_URL"])
    factory = make_session_factory(engine)
    try:
        wait_for_http(f"{url}/billing?wsdl", proc, "siptar serve", 60, log=serve_log(tmp))

        def client_for(username: str, password: str) -> SiptarClient:
            return SiptarClient(url, username, password, timeout=10)

        shop = make_shop(factory, client_for, "shop1", peers)
        world = World(url, factory, shop, proc, tmp, env, port)
        yield world
        world.stop_server()
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=30)
        engine.dispose()


def soon(seconds: int = 1) -> datetime:
    """A whole second just ahead: a call placed now, after the session opened."""
    return datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=seconds)


class AmiFeed:
    """An AMI replay server and a listener (with its live-call monitor) on a loop in a
    thread: `with AmiFeed(...):` replays the calls' events into the database."""

    def __init__(
        self,
        session_factory: Callable[[], Session],
        calls: Sequence[Call],
        parts: tuple[str, ...],
        tmp: Path,
    ) -> None:
        self.factory, self.calls, self.parts, self.tmp = session_factory, calls, parts, tmp
        self.ready, self.done = threading.Event(), threading.Event()
        self.thread = threading.Thread(target=lambda: asyncio.run(self._run()), daemon=True)

    async def _run(self) -> None:
        name = "-".join(self.parts)
        raw = write_calls(self.tmp / f"feed-{name}-{id(self)}.txt", self.calls, parts=self.parts)
        server = AmiReplayServer(raw)
        port = await server.start()
        monitor = LiveCallMonitor(self.factory, interval=0.05, asterisk="a1")
        try:
            spool = self.tmp / f"spool-{id(self)}"
            async with wired_listener(port, self.factory, spool, monitor=monitor):
                await server.wait_sent()
                self.ready.set()
                while not self.done.is_set():
                    await asyncio.sleep(0.05)
        finally:
            await server.stop()

    def __enter__(self) -> AmiFeed:
        self.thread.start()
        if not self.ready.wait(30):
            raise AssertionError("the AMI feed did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        self.done.set()
        self.thread.join(30)
