"""What a SOAP request costs around its use case: Authorize against the trivial `Echo`
(bench/soap_server.py) over HTTP, 2 gunicorn workers x 8 threads, 4 and 16 client
threads, on PostgreSQL (a throwaway server of its own).

With `SIPTAR_BENCH_BASE=/path/to/another/checkout` (one with its own `.venv`, e.g. a
detached worktree of main) the same is run against that checkout's server too, in the
same run and interleaved (base, this, base, this... for `ROUNDS` rounds of `SECONDS`
each), each server on a database its own code prepared: the figures of one run compare,
those of two runs on a shared machine do not. Printed: calls per second and p99 of
Authorize and Echo per server and client threads, and the ratio Authorize / Echo.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bench.bench_authorize import NUMBERS, SOAP_THREADS, _drive, _wait_for
from tests.pgserver import PostgresServer, free_port, pg_admin, pg_db_url

HERE = Path(__file__).resolve().parent.parent
ROUNDS = 3
SECONDS = 4.0
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
    base: str = ""
    proc: subprocess.Popen[bytes] | None = None
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
        port = free_port()
        self.base = f"http://127.0.0.1:{port}"
        env = {**os.environ, "SIPTAR_DATABASE_URL": self.url, "SIPTAR_PUBLIC_URL": self.base}
        self.proc = subprocess.Popen(
            [self.python, "-m", "bench.soap_server", f"127.0.0.1:{port}", "2", "8"],
            cwd=self.root,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

    def stop(self) -> None:
        if self.proc is not None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=30)


def clients(variant: Variant, most: int) -> tuple[Callable[..., None], Callable[..., None]]:
    """Authorize and Echo, one zeep client per client thread, each warmed up."""
    import random

    from zeep import Client
    from zeep.transports import Transport

    from client import SiptarClient

    _wait_for(f"{variant.base}/billing?wsdl")
    _wait_for(f"{variant.base}/trivial?wsdl")
    billing = [SiptarClient(variant.base, "admin", "admin", timeout=30) for _ in range(most)]
    for c in billing:  # each worker checks the password once and compiles the plans
        c.billing.GetBalance()
        c.billing.Authorize(call={"number": NUMBERS[0], "account": variant.codes[0]})
    trivial = [
        Client(f"{variant.base}/trivial?wsdl", transport=Transport(timeout=30)) for _ in range(most)
    ]
    seq = iter(range(10**9))
    lock = threading.Lock()

    def authorize_one(i: int, rng: random.Random) -> None:
        with lock:
            n = next(seq)
        call = {"number": rng.choice(NUMBERS), "account": rng.choice(variant.codes)}
        answer = billing[i].billing.Authorize(call={**call, "uniqueid": f"r.{n}"})
        assert answer.allowed, answer.reason

    def echo_one(i: int, _rng: random.Random) -> None:
        assert trivial[i].service.Echo("x") == "x"

    return authorize_one, echo_one


def measure(variants: list[Variant]) -> None:
    ops = {v.name: clients(v, max(SOAP_THREADS)) for v in variants}
    for threads in SOAP_THREADS:
        for _ in range(ROUNDS):
            for v in variants:
                authorize_one, echo_one = ops[v.name]
                for op, one in (("Authorize", authorize_one), ("Echo", echo_one)):
                    figures = _drive_for(threads, one)
                    v.figures.setdefault((threads, op), []).append(figures)


def _drive_for(threads: int, one: Callable[..., None]) -> tuple[float, float]:
    import bench.bench_authorize as ba

    saved, ba.SOAP_SECONDS = ba.SOAP_SECONDS, SECONDS
    try:
        return _drive(threads, one)
    finally:
        ba.SOAP_SECONDS = saved


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
        for v in variants:
            v.prepare()
            v.start()
        print(
            f"   2 workers x 8 threads each, {ROUNDS} interleaved rounds of {SECONDS:.0f} s"
            f" per operation; base: {base_root or '(none)'}",
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
