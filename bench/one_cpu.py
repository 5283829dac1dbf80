"""What a round trip to PostgreSQL costs on this machine, and the in-process figures with
that cost taken out.

These machines are Firecracker VMs whose guests do not poll before halting an idle vCPU
(`haltpoll.guest_halt_poll_ns=0` on the kernel's command line): a process woken on the
other, idle vCPU starts ~0.3 ms later. A client that works between its statements (as
Authorize does: it rates the chain between the lock and the hold) leaves the server's
backend idle long enough for its vCPU to halt, so each round trip pays that wake-up
twice over, on top of the server's work: measured here, `SELECT 1` takes ~30 us in a
tight loop and ~360 us after 0.4 ms of client work, ~45 us when the client and its
backend share one CPU. A busy machine (or one that polls) does not pay it; a quiet one
does, and that is most of what separates the median of a quiet run from the code's own
cost. So bench_authorize prints both: the ordinary median, and the median with the
process and its PostgreSQL backends pinned to one CPU (`pinned_to_one_cpu`), where a
wake-up is a context switch. Linux only (sched_setaffinity), and it needs the right to
set the backends' affinity (the same user, or root).
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress

from sqlalchemy import text
from sqlalchemy.engine import Engine

_CLIENT_WORK = 0.0004  # seconds of client work between two statements, as Authorize's


@contextmanager
def pinned_to_one_cpu(engine: Engine) -> Iterator[bool]:
    """This thread and every client backend of the engine's database on the first CPU it
    may run on, restored afterwards. Yields False (nothing pinned) where that cannot be
    done."""
    if not hasattr(os, "sched_setaffinity"):
        yield False
        return
    mine = os.sched_getaffinity(0)
    cpu = {min(mine)}
    with engine.connect() as conn:
        pids = conn.execute(
            text(
                "SELECT pid FROM pg_stat_activity WHERE backend_type = 'client backend'"
                " AND datname = current_database()"
            )
        ).scalars()
        backends = {pid: os.sched_getaffinity(pid) for pid in pids}
    try:
        for pid in backends:
            os.sched_setaffinity(pid, cpu)
        os.sched_setaffinity(0, cpu)
    except OSError:
        yield False
        return
    try:
        yield True
    finally:
        os.sched_setaffinity(0, mine)
        for pid, was in backends.items():
            with suppress(ProcessLookupError):  # the pool closed it meanwhile
                os.sched_setaffinity(pid, was)


def round_trip_us(engine: Engine, calls: int = 2000) -> float:
    """Median microseconds of `SELECT 1` on one connection, each after _CLIENT_WORK of
    busy client work (so the backend's vCPU has time to go idle)."""
    times: list[float] = []
    with engine.connect() as conn:
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        for _ in range(calls):
            until = time.perf_counter() + _CLIENT_WORK
            while time.perf_counter() < until:
                pass
            began = time.perf_counter()
            cursor.execute("SELECT 1")
            cursor.fetchall()
            times.append(time.perf_counter() - began)
        cursor.close()
        conn.rollback()
    return statistics.median(times) * 1e6


def describe(engine: Engine) -> str:
    """One line: the round trip after client work, free and pinned to one CPU."""
    free = round_trip_us(engine)
    with pinned_to_one_cpu(engine) as pinned:
        one = round_trip_us(engine) if pinned else float("nan")
    return (
        f"   machine: SELECT 1 after 0.4 ms of client work {free:4.0f} us,"
        f" {one:4.0f} us with client and backend on one CPU (a halted vCPU's wake-up)"
    )
