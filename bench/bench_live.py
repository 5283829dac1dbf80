"""What keeping `live_calls` honest costs the listener, with many calls up at once.

For BENCH_LIVE_CALLS answered calls (default 5,000) of one Asterisk, on SQLite (a WAL
file) and on a throwaway PostgreSQL (tests.pgserver), the database work of
ami_listener/live.py, timed:

- write: every call written at once (the worst tick: all changed, e.g. after a reconnect);
- refresh: `seen_at` of every call plus the purge of rows nobody refreshed (every 10 s);
- reconcile: the rows checked against a CoreShowChannels list that lacks half of them
  (deleted), with the other half adopted by a restarted listener.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ami_listener.live import LiveCallMonitor
from ami_listener.live_rows import Call
from bench.backends import on_both
from db import migrate
from db.schema import LiveCall
from db.session import make_engine, make_session_factory

CALLS = int(os.environ.get("BENCH_LIVE_CALLS", "5000"))


def _timed(what: Callable[[], object]) -> float:
    started = time.perf_counter()
    what()
    return time.perf_counter() - started


def _count(factory: Callable[[], Session]) -> int:
    with factory() as s:
        return int(s.execute(select(func.count()).select_from(LiveCall)).scalar_one())


def _one(label: str, url: str) -> None:
    migrate.upgrade(url)
    engine = make_engine(url)
    factory = make_session_factory(engine)
    monitor = LiveCallMonitor(factory, asterisk="10.0.0.1:5038")
    started = datetime.now(UTC) - timedelta(minutes=5)
    for n in range(CALLS):
        uid = f"1795316003.{n}"
        call = Call(uid, linkedid=uid, channel=f"SIP/phone-{n:08x}", accountcode="acct1001")
        call.number, call.dialstring = "34911234567", "SIP/34911234567@trunk"
        call.state, call.started_at, call.answered_at = "up", started, started
        monitor.calls[uid] = call
    changes: dict[str, Call | None] = dict(monitor.calls)
    write = _timed(lambda: monitor.sync(changes))
    refresh = _timed(lambda: monitor.sync({}, refresh=list(monitor.calls), purge=True))
    listed = set(list(monitor.calls)[: CALLS // 2])
    restarted = LiveCallMonitor(factory, asterisk="10.0.0.1:5038")
    cutoff = datetime.now(UTC)
    result: list[tuple[int, list[Call]]] = []
    reconcile = _timed(lambda: result.append(restarted._reconcile_rows(listed, set(), cutoff)))
    removed, adopted = result[0]
    left = _count(factory)
    engine.dispose()
    print(
        f"   {label:<10} {CALLS} calls: write {write * 1000:,.0f} ms, refresh+purge "
        f"{refresh * 1000:,.0f} ms, reconcile {reconcile * 1000:,.0f} ms "
        f"({removed} removed, {len(adopted)} adopted, {left} rows left)",
        flush=True,
    )


def run() -> None:
    on_both("bench-live-", _one)
