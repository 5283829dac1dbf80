"""A rate change on a 1,000,000-prefix sheet while the server is busy (issue 16).

`siptar serve` with 2 workers (bench/soap_server.py) on PostgreSQL (a throwaway server),
the demo plus a realistic 1M-prefix deck (bench/decks.py) in the customer's sheet; 4
client threads call GetBalance and QuoteCall in turn as the demo customer. After a few
seconds the sheet's rate of the quoted prefix is doubled (an UPDATE and a version bump,
as an import ends) and the calls go on until every thread has been quoted the new price
for a while. Figures, per variant:

- the longest wait of any call, and of any call after the change;
- how long after the change the old price was last answered (the new plan's build);
- how long after the start calls are answered quickly (main: the first build runs in
  the request; now: workers start building at start and the database answers meanwhile);
- each worker's resident memory after start, and its peak over that.

Variants, in one run on the same database: `main` (the code of a checkout named by
SIPTAR_BENCH_BASE, e.g. a detached worktree of main) and this tree. The machine may be
shared: compare within a run.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from decimal import Decimal
from pathlib import Path

from sqlalchemy import update

from bench.bench_authorize import _wait_for
from bench.decks import deck
from db import migrate, schema
from db.rate_bulk import insert_rates
from db.rates import bump_version
from db.session import UnitOfWork, make_engine, make_session_factory
from rating import Rate
from services.common.demo import load_demo
from tests.pgserver import PostgresServer, free_port, pg_admin, pg_db_url

PREFIXES = int(os.environ.get("SIPTAR_BENCH_PREFIXES", "1000000"))  # fewer: a quick try
SHEET = 4  # the demo customer's ("Reseller One retail")
PREFIX = "9991234"  # no calling code of the deck starts 999: this row alone answers
NUMBER = PREFIX + "5678"
PRICE = Decimal("0.0100")
THREADS = 4
BEFORE_CHANGE = 5.0  # seconds of load before the change
AFTER_NEW = 5.0  # seconds of load once every thread has been quoted the new price
LIMIT = 300.0  # seconds: give up waiting for the new price
REPO = Path(__file__).resolve().parent.parent
# A checkout of the code to compare with (`git worktree add DIR main --detach`).
BASE = Path(os.environ.get("SIPTAR_BENCH_BASE", "no-base-given"))
MIB = 1024 * 1024


def prepare(url: str) -> None:
    migrate.upgrade(url)
    engine = make_engine(url)
    with UnitOfWork(make_session_factory(engine)) as uow:
        load_demo(uow)
        uow.commit()
    with UnitOfWork(make_session_factory(engine)) as uow:
        rates = deck(random.Random(16), PREFIXES)
        insert_rates(uow.session, SHEET, [Rate(PREFIX, "Bench", PRICE), *rates])
        bump_version(uow.session, SHEET)
        uow.commit()
    engine.dispose()


def change_rate(url: str, price: Decimal) -> None:
    engine = make_engine(url)
    with UnitOfWork(make_session_factory(engine)) as uow:
        uow.session.execute(
            update(schema.Rate)
            .where(schema.Rate.sheet_id == SHEET, schema.Rate.prefix == PREFIX)
            .values(price=price)
        )
        bump_version(uow.session, SHEET)
        uow.commit()
    engine.dispose()


def workers(master: int) -> list[int]:
    path = Path(f"/proc/{master}/task/{master}/children")
    return [int(pid) for pid in path.read_text().split()]


def memory(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no {field} for {pid}")


class Load:
    """THREADS threads calling GetBalance and QuoteCall in turn; every call timed."""

    def __init__(self, base: str) -> None:
        from client import SiptarClient

        self.clients = [
            SiptarClient(base, "customer", "customer", timeout=600) for _ in range(THREADS)
        ]
        for client in self.clients:
            # A connection per call: kept-alive ones would pin a thread to one worker,
            # and a worker nobody calls never loads the sheet.
            client.billing._client.transport.session.headers["Connection"] = "close"
        self.calls: list[tuple[float, float, Decimal | None]] = []  # start, seconds, quote
        self.stop = threading.Event()
        self.lock = threading.Lock()

    def run(self, i: int) -> None:
        client = self.clients[i]
        while not self.stop.is_set():
            for quote in (False, True):
                started = time.monotonic()
                if quote:
                    cost = client.billing.QuoteCall(number=NUMBER, duration=60).cost
                else:
                    client.billing.GetBalance()
                    cost = None
                with self.lock:
                    self.calls.append((started, time.monotonic() - started, cost))

    def quotes_since(self, moment: float) -> list[tuple[float, float, Decimal]]:
        """The quotes started at `moment` or later: (start, seconds, cost)."""
        with self.lock:
            return [(s, t, c) for s, t, c in self.calls if c is not None and s >= moment]


def variant(name: str, tree: Path, url: str, old_price: Decimal, new: Decimal) -> None:
    """One server of `tree`'s code under load, the quoted rate changed from `old_price`
    to `new` (a minute at either: the quote of a 60 s call)."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "SIPTAR_DATABASE_URL": url,
        "SIPTAR_PUBLIC_URL": base,
        "PYTHONPATH": str(tree),  # ahead of the editable install: that tree's code
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.soap_server", f"127.0.0.1:{port}", "2", "8"],
        cwd=tree,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        _wait_for(f"{base}/billing?wsdl")
        load = Load(base)
        for client in load.clients:
            client.billing.GetBalance()
        pids = workers(proc.pid)
        baseline = {pid: memory(pid, "VmRSS") for pid in pids}
        started = time.monotonic()
        threads = [threading.Thread(target=load.run, args=(i,)) for i in range(THREADS)]
        for thread in threads:
            thread.start()
        # Both workers compile the sheet on their first quote: wait for quick answers.
        while time.monotonic() - started < LIMIT:
            recent = load.quotes_since(time.monotonic() - 2)
            if len(recent) >= 20 and time.monotonic() - started > 2:
                break
            time.sleep(0.2)
        first_build = time.monotonic() - started
        time.sleep(BEFORE_CHANGE)
        changed = time.monotonic()
        change_rate(url, new)
        while time.monotonic() - changed < LIMIT:
            recent = load.quotes_since(time.monotonic() - 2)
            if len(recent) >= 8 and all(cost == new for _, _, cost in recent):
                break
            time.sleep(0.2)
        time.sleep(AFTER_NEW)
        load.stop.set()
        for thread in threads:
            thread.join()
        peaks = {pid: memory(pid, "VmHWM") for pid in pids}
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=60)
    longest = max(seconds for _, seconds, _ in load.calls)
    longest_after = max(t for s, t, _ in load.calls if s + t >= changed)
    quotes = load.quotes_since(changed)
    old = [s + t - changed for s, t, c in quotes if c == old_price]
    fresh = [s + t - changed for s, t, c in quotes if c == new]
    print(
        f"   {name}: {len(load.calls):,} calls; longest wait {longest:.2f} s, of a call"
        f" running after the change {longest_after:.2f} s; first build {first_build:.1f} s"
    )
    print(
        f"      after the change: the new price first answered at {min(fresh, default=-1):.1f} s,"
        f" the old one last at {max(old, default=0):.1f} s"
    )
    for pid in pids:
        print(
            f"      worker {pid}: {baseline[pid] / MIB:,.0f} MiB after start, peak"
            f" {peaks[pid] / MIB:,.0f} MiB (+{(peaks[pid] - baseline[pid]) / MIB:,.0f} MiB)"
        )


def run() -> None:
    print(f"   load: {os.getloadavg()[0]:.1f} {os.getloadavg()[1]:.1f} {os.getloadavg()[2]:.1f}")
    server = PostgresServer().start()
    try:
        pg_admin(server.url, 'CREATE DATABASE "bench_change"')
        url = pg_db_url(server.url, "bench_change")
        started = time.perf_counter()
        prepare(url)
        print(f"   {PREFIXES:,}-prefix deck loaded in {time.perf_counter() - started:.0f} s")
        trees = [("this tree", REPO)]
        if (BASE / "bench" / "soap_server.py").exists():
            trees.insert(0, ("main", BASE))
        else:
            print("   this tree only: SIPTAR_BENCH_BASE=DIR (a worktree of main) measures main too")
        prices = [PRICE, PRICE * 2]
        for name, tree in trees:
            variant(name, tree, url, prices[0], prices[1])
            prices.reverse()  # the next variant changes it back
            print(f"   load: {os.getloadavg()[0]:.1f}")
    finally:
        server.stop()
