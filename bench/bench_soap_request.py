"""What a SOAP request costs around its use case: Authorize against the trivial `Echo`
(bench/soap_server.py) over HTTP, 2 gunicorn workers x 8 threads, 4 and 16 client
threads, on PostgreSQL (a throwaway server of its own).

With `SIPTAR_BENCH_BASE=/path/to/another/checkout` (one with its own `.venv`, e.g. a
detached worktree of main) the same is run against that checkout's server too, in the
same run and interleaved (base, this, base, this... for `ROUNDS` rounds of `SECONDS`
each), each server on a database its own code prepared: the figures of one run compare,
those of two runs on a shared machine do not. Printed: calls per second and p99 of
Authorize and Echo per server and client threads, and the ratio Authorize / Echo.

With `SIPTAR_BENCH_PREFIXES=1000000` the sheet every bench account buys at gets that many
more prefixes (bench/decks.py) before the servers start, so each Authorize rates against
a big sheet's plan. The deck is written by this checkout's code into both databases
(the schema of the rates table is the same in both; it is the bench's data, not the
code under test); the warm-up waits for each worker's first build of the plan.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.bench_authorize import NUMBERS, SHEET, SOAP_THREADS
from bench.decks import deck
from bench.soap_clients import clients, drive
from bench.soap_server import Launcher
from tests.pgserver import PostgresServer, pg_admin, pg_db_url

HERE = Path(__file__).resolve().parent.parent
ROUNDS = 3
SECONDS = 4.0
PREFIXES = int(os.environ.get("SIPTAR_BENCH_PREFIXES", "0"))
# Run in the checkout measured, so its own `prepare` (its own schema and demo) is used.
PREPARE = (
    "import json, sys; from bench.bench_authorize import prepare; "
    "print(json.dumps(prepare(sys.argv[1])[0]))"
)


@dataclass
class Variant:
    name: str
    root: Path
    url: str
    codes: list[str] = field(default_factory=list)
    server: Launcher | None = None
    # (threads, operation) -> [(calls per second, p99 seconds)] of each round
    figures: dict[tuple[int, str], list[tuple[float, float]]] = field(default_factory=dict)

    @property
    def python(self) -> str:
        return (
            str(self.root / ".venv" / "bin" / "python") if self.name == "base" else sys.executable
        )

    def prepare(self) -> None:
        out = subprocess.run(
            [self.python, "-c", PREPARE, self.url],
            cwd=self.root,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        self.codes = json.loads(out.strip().splitlines()[-1])

    def start(self) -> None:
        self.server = Launcher(self.url, python=self.python, tree=self.root).start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()


def big_sheet(url: str) -> None:
    """PREFIXES prefixes more on sheet SHEET, in one transaction, its version bumped."""
    from db.rate_bulk import insert_rates
    from db.rates import bump_version
    from db.session import UnitOfWork, make_engine, make_session_factory

    started = time.perf_counter()
    engine = make_engine(url)
    with UnitOfWork(make_session_factory(engine)) as uow:
        insert_rates(uow.session, SHEET, deck(random.Random(16), PREFIXES))
        bump_version(uow.session, SHEET)
        uow.commit()
    engine.dispose()
    print(f"   {PREFIXES:,} prefixes written in {time.perf_counter() - started:.0f} s", flush=True)


def measure(variants: list[Variant]) -> None:
    ops = {}
    for v in variants:
        assert v.server is not None
        v.server.wait_ready()
        ops[v.name] = clients(v.server.base, NUMBERS, v.codes, max(SOAP_THREADS))
    for threads in SOAP_THREADS:
        for _ in range(ROUNDS):
            for v in variants:
                authorize_one, echo_one = ops[v.name]
                for op, one in (("Authorize", authorize_one), ("Echo", echo_one)):
                    figures = drive(threads, one, SECONDS)
                    v.figures.setdefault((threads, op), []).append(figures)


def report(variants: list[Variant]) -> None:
    load = os.getloadavg()
    print(f"   load average at the end: {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")
    for threads in SOAP_THREADS:
        for v in variants:
            rate = {op: _mean(v.figures[(threads, op)]) for op in ("Authorize", "Echo")}
            print(
                f"   {v.name:4s} {threads:2d} client threads:"
                f" Authorize {rate['Authorize'][0]:6.0f}/s"
                f" (p99 {rate['Authorize'][1] * 1000:5.1f} ms), Echo {rate['Echo'][0]:6.0f}/s"
                f" (p99 {rate['Echo'][1] * 1000:5.1f} ms), ratio"
                f" {rate['Authorize'][0] / rate['Echo'][0]:4.2f} (rounds {_spread(v, threads)})"
            )


def _spread(v: Variant, threads: int) -> str:
    """The lowest and highest ratio of one round (its Authorize run, then its Echo run):
    how much the machine's load moved the figure."""
    pairs = zip(v.figures[(threads, "Authorize")], v.figures[(threads, "Echo")], strict=True)
    ratios = [a / e for (a, _), (e, _) in pairs]
    return f"{min(ratios):.2f}-{max(ratios):.2f}"


def _mean(rounds: list[tuple[float, float]]) -> tuple[float, float]:
    """Calls per second averaged over the rounds, and the worst round's p99."""
    return sum(r for r, _ in rounds) / len(rounds), max(p for _, p in rounds)


def run() -> None:
    base_root = os.environ.get("SIPTAR_BENCH_BASE")
    server = PostgresServer().start()
    variants: list[Variant] = []
    try:
        names = (["base"] if base_root else []) + ["this"]
        for name in names:
            pg_admin(server.url, f'CREATE DATABASE "soap_{name}"')
            root = Path(base_root).resolve() if name == "base" and base_root else HERE
            variants.append(Variant(name, root, pg_db_url(server.url, f"soap_{name}")))
        load = os.getloadavg()
        print(f"   load average at the start: {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")
        for v in variants:
            v.prepare()
            if PREFIXES:
                big_sheet(v.url)
            v.start()
        print(
            f"   2 workers x 8 threads each, {ROUNDS} interleaved rounds of {SECONDS:.0f} s"
            f" per operation; {PREFIXES:,} more prefixes on the accounts' sheet;"
            f" base: {base_root or '(none)'}",
            flush=True,
        )
        measure(variants)
        report(variants)
    finally:
        for v in variants:
            v.stop()
        server.stop()


if __name__ == "__main__":
    run()
