"""Where an in-process PostgreSQL Authorize spends its time (issue 16): bench_authorize's
setup, then at depth 0 and 4 a cProfile of CALLS authorizations (the top functions by
tottime and by cumtime) and the driver's time per statement (before/after
cursor_execute), against the whole call's time. The process's
CPU time per call (Python and psycopg2, not the server's) is the figure a loaded machine
moves least. Run: `.venv/bin/python -c "import bench.profile_authorize as m; m.run()"`;
against another checkout's code: `cd <it> && PYTHONPATH=. <it>/.venv/bin/python -c
"import runpy; runpy.run_path('<this>/bench/profile_authorize.py', run_name='x')['run']()"`."""

from __future__ import annotations

import cProfile
import io
import pstats
import random
import statistics
import time
from collections import defaultdict
from typing import Any

from sqlalchemy import event

from bench.bench_authorize import NUMBERS, SEED, prepare
from db.session import UnitOfWork, make_engine, make_session_factory
from services.credit.authorize import AuthorizeRequest, authorize
from tests.pgserver import PostgresServer, pg_admin, pg_db_url

CALLS = 400
TOP = 25


def _profile(url: str, codes: dict[int, list[str]], depth: int) -> None:
    engine = make_engine(url)
    factory = make_session_factory(engine)
    driver: dict[str, list[float]] = defaultdict(list)
    started_at: list[float] = []

    @event.listens_for(engine, "before_cursor_execute")
    def _before(*_: Any) -> None:
        started_at.append(time.perf_counter())

    @event.listens_for(engine, "after_cursor_execute")
    def _after(_c: Any, _cur: Any, statement: str, *_: Any) -> None:
        driver[" ".join(statement.split())[:70]].append(time.perf_counter() - started_at.pop())

    rng = random.Random(SEED)
    seq = iter(range(10**9))

    cpu: list[float] = []

    def one() -> float:
        req = AuthorizeRequest(
            rng.choice(NUMBERS), rng.choice(codes[depth]), uniqueid=f"p{depth}.{next(seq)}"
        )
        began, began_cpu = time.perf_counter(), time.process_time()
        with UnitOfWork(factory) as uow:
            assert authorize(uow, None, req).allowed
        cpu.append(time.process_time() - began_cpu)
        return time.perf_counter() - began

    for _ in range(100):
        one()
    driver.clear()
    cpu.clear()
    times = [one() for _ in range(CALLS)]
    python_ms = sum(cpu) / CALLS * 1000  # this process's CPU: Python and the driver's
    spent_by = {text: sum(spent) / CALLS * 1000 for text, spent in driver.items()}
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(CALLS):
        one()
    profiler.disable()
    total = statistics.median(times) * 1000
    calls = pstats.Stats(profiler).total_calls / CALLS  # type: ignore[attr-defined]
    print(f"== depth {depth}: median {total:.2f} ms per Authorize (unprofiled)")
    print(f"   CPU of this process {python_ms:.2f} ms per Authorize, {calls:.0f} function calls")
    for text, per in sorted(spent_by.items(), key=lambda kv: -kv[1]):
        print(f"   driver {per:5.2f} ms/call  {text}")
    print(
        f"   driver in all {sum(spent_by.values()):5.2f} ms/call (unprofiled, COMMIT not counted)"
    )
    for key in ("tottime", "cumtime"):
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats(key).print_stats(TOP)
        pstats.Stats(profiler, stream=out).sort_stats("cumtime").print_stats(
            r"(services|db|rating)/.*\.py|orm/(loading|context)\.py", TOP
        ) if key == "cumtime" else None
        print(f"-- by {key} ({CALLS} calls)")
        print("\n".join(out.getvalue().splitlines()[6:]))
    engine.dispose()


def run() -> None:
    server = PostgresServer().start()
    try:
        pg_admin(server.url, 'CREATE DATABASE "profile"')
        url = pg_db_url(server.url, "profile")
        codes = prepare(url)
        for depth in (0, 4):
            _profile(url, codes, depth)
    finally:
        server.stop()
