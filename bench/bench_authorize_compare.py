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
        for depth in DEPTHS:
            times: dict[str, list[float]] = {label: [] for label in sides}
            for round_ in range(ROUNDS + 1):
                for label, proc in sides.items():
                    took = _ask(proc, depth, CHUNK)
                    if round_:  # the first round warms up (plans compiled, caches filled)
                        times[label] += took
            med = {k: statistics.median(v) * 1000 for k, v in times.items()}
            p99 = {k: _p99(v) * 1000 for k, v in times.items()}
            print(
                f"   depth {depth}: before median {med['before']:6.2f} ms"
                f" p99 {p99['before']:6.2f} ms; after median {med['after']:6.2f} ms"
                f" p99 {p99['after']:6.2f} ms; after/before {med['after'] / med['before']:4.2f}"
                f" (median), {p99['after'] / p99['before']:4.2f} (p99)",
                flush=True,
            )
        for proc in sides.values():
            assert proc.stdin is not None
            proc.stdin.close()
            proc.wait(timeout=60)
    finally:
        server.stop()
    print(f"   load after: {os.getloadavg()[0]:.1f}")
