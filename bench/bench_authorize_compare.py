"""Authorize before and after, in one run: this checkout's code against a baseline
checkout's, named by SIPTAR_BASELINE (e.g. `git worktree add <dir> main --detach` and
`make devenv` in it), each in a process of its own with its own interpreter, against
its own database of the same PostgreSQL server, both prepared the same way
(bench/bench_authorize.py `prepare`, each by its own code and migrations). The calls
are interleaved in rounds of CHUNK (baseline, this, baseline, this...) so that both
sides see the same load of a shared machine and the same growth of open reservations.
Prints, per depth, each side's median and p99 and the ratio. Skipped (said so) without
a baseline checkout."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
from collections.abc import Callable
from pathlib import Path

from bench.bench_authorize import DEPTHS, _p99
from tests.pgserver import PostgresServer, pg_admin, pg_db_url

BASELINE = Path(os.environ.get("SIPTAR_BASELINE") or "/nonexistent")
HERE = Path(__file__).resolve().parent.parent
CHUNK = 20
ROUNDS = 20  # per depth, after one warm-up round: CHUNK * ROUNDS calls a side and depth
PREPARE = (
    "import json, sys; from bench.bench_authorize import prepare; "
    "print(json.dumps({str(k): v for k, v in prepare(sys.argv[1]).items()}))"
)


def _side(checkout: Path, url: str, label: str) -> subprocess.Popen[str]:
    python = str(checkout / ".venv" / "bin" / "python")
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    out = subprocess.run(
        [python, "-c", PREPARE, url],
        cwd=checkout,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    codes = json.loads(out.strip().splitlines()[-1])
    worker = str(HERE / "bench" / "authorize_worker.py")
    return subprocess.Popen(
        [python, worker, url, json.dumps(codes), label],
        cwd=checkout,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )


def _ask(proc: subprocess.Popen[str], depth: int, calls: int) -> list[float]:
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(f"{depth} {calls}\n")
    proc.stdin.flush()
    return list(json.loads(proc.stdout.readline()))


def interleaved(
    ask: Callable[[str, int], list[float]], labels: list[str], depth: int, rounds: int
) -> dict[str, list[float]]:
    """Each side's seconds: `ask(label, depth)` for each label in turn (a, b, a, b...), so that
    all see the same load of a shared machine, `rounds` times after one warm-up round
    (plans compiled, caches filled, statements prepared), whose figures are dropped."""
    times: dict[str, list[float]] = {label: [] for label in labels}
    for round_ in range(rounds + 1):
        for label in labels:
            took = ask(label, depth)
            if round_:
                times[label] += took
    return times


def compared(times: dict[str, list[float]], base: str, other: str) -> str:
    """Both sides' median and p99, and `other`'s over `base`'s."""
    med = {k: statistics.median(v) * 1000 for k, v in times.items()}
    p99 = {k: _p99(v) * 1000 for k, v in times.items()}
    return (
        f"{base} median {med[base]:6.2f} ms p99 {p99[base]:6.2f} ms;"
        f" {other} median {med[other]:6.2f} ms p99 {p99[other]:6.2f} ms;"
        f" {other}/{base} {med[other] / med[base]:4.2f} (median),"
        f" {p99[other] / p99[base]:4.2f} (p99)"
    )


def run() -> None:
    if not (BASELINE / ".venv" / "bin" / "python").exists():
        print("   no baseline checkout (SIPTAR_BASELINE=<its directory>): skipped")
        return
    print(f"   load before: {os.getloadavg()[0]:.1f} (1-minute average; the machine is shared)")
    server = PostgresServer().start()
    try:
        sides = {}
        for label, checkout in (("before", BASELINE), ("after", HERE)):
            pg_admin(server.url, f'CREATE DATABASE "cmp_{label}"')
            sides[label] = _side(checkout, pg_db_url(server.url, f"cmp_{label}"), label)

        def ask(label: str, depth: int) -> list[float]:
            return _ask(sides[label], depth, CHUNK)

        for depth in DEPTHS:
            times = interleaved(ask, list(sides), depth, ROUNDS)
            print(f"   depth {depth}: {compared(times, 'before', 'after')}", flush=True)
        for proc in sides.values():
            assert proc.stdin is not None
            proc.stdin.close()
            proc.wait(timeout=60)
    finally:
        server.stop()
    print(f"   load after: {os.getloadavg()[0]:.1f}")
