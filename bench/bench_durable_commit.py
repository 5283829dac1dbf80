"""What Authorize's COMMIT pays when it waits for the disk, on a PostgreSQL server with
the production defaults (fsync, synchronous_commit and full_page_writes on; its data
directory under /tmp, on this machine's disk), which the other benches and the tests
turn off (tests/pgserver.py).

bench/bench_authorize.py's setup (`prepare`), in process, one thread; at depth 0 and
4, calls with `credit.durable_holds` on (every COMMIT waits for the WAL to be flushed)
and off (`SET LOCAL synchronous_commit TO off; COMMIT`, db/merged_begin.py),
interleaved in rounds of CHUNK (on, off, on, off...) so that both see the same load of
a shared machine and the same growth of open reservations. Prints each side's median
and p99 and their ratio. See docs/credit_control.md, "Holds that need not wait for the
disk".
"""

from __future__ import annotations

import os
import random
import time
from dataclasses import replace
from typing import Any

from bench.bench_authorize import NUMBERS, SEED, prepare
from bench.bench_authorize_compare import compared, interleaved
from db.session import UnitOfWork, make_engine, make_session_factory
from services.credit.authorize import AuthorizeRequest, authorize
from services.credit.policy import DEFAULT_POLICY
from tests.pgserver import PostgresServer, pg_admin, pg_db_url

DEPTHS = (0, 4)
CHUNK = 20
ROUNDS = 25  # per depth, after one warm-up round: CHUNK * ROUNDS calls a side and depth
SIDES = {"durable": True, "no wait": False}  # credit.durable_holds


def measure(url: str, codes: dict[int, list[str]]) -> None:
    engine = make_engine(url)
    factory = make_session_factory(engine)
    rng = random.Random(SEED)
    seq = iter(range(10**9))

    def chunk(depth: int, durable: bool) -> list[float]:
        policy = replace(DEFAULT_POLICY, durable_holds=durable)
        times = []
        for _ in range(CHUNK):
            req = AuthorizeRequest(
                rng.choice(NUMBERS), rng.choice(codes[depth]), uniqueid=f"d.{next(seq)}"
            )
            started = time.perf_counter()
            with UnitOfWork(factory) as uow:
                answer = authorize(uow, None, req, policy=policy)
            times.append(time.perf_counter() - started)
            assert answer.allowed, answer.reason
        return times

    for depth in DEPTHS:
        times = interleaved(lambda side, d: chunk(d, SIDES[side]), list(SIDES), depth, ROUNDS)
        print(f"   depth {depth}: {compared(times, 'no wait', 'durable')}", flush=True)
    engine.dispose()


def _settings(url: str) -> dict[str, Any]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            names = ("fsync", "synchronous_commit", "full_page_writes", "data_directory")
            return {n: conn.exec_driver_sql(f"SHOW {n}").scalar_one() for n in names}
    finally:
        engine.dispose()


def run() -> None:
    print(f"   load before: {os.getloadavg()[0]:.1f} (1-minute average; the machine is shared)")
    server = PostgresServer(durable=True).start()
    try:
        pg_admin(server.url, 'CREATE DATABASE "bench_durable"')
        url = pg_db_url(server.url, "bench_durable")
        print(f"   server: {_settings(url)}")
        measure(url, prepare(url))
    finally:
        server.stop()
    print(f"   load after: {os.getloadavg()[0]:.1f}")
