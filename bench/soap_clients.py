"""The SOAP benchmarks' clients: Authorize and the trivial Echo (bench/soap_server.py)
from one warmed-up zeep client per client thread, and the driver that times them.
bench_authorize's SOAP part and bench_soap_request build theirs here, so both measure
the same calls."""

from __future__ import annotations

import multiprocessing
import random
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from multiprocessing.connection import Connection
from typing import Any

One = Callable[[int, random.Random], None]
SEED = 4
# The first Authorize of a worker may compile a big sheet (tens of seconds for 1M
# prefixes on a busy machine): the warm-up must wait for it.
WARM_UP_TIMEOUT = 600
TIMEOUT = 30


def clients(
    base: str, numbers: Sequence[str], codes: Sequence[str], most: int, tag: str = "s"
) -> tuple[One, One]:
    """Authorize (a random number of `numbers` for a random account of `codes`, each a
    new call) and Echo, for client threads 0..most-1. Every client checks the password
    once and authorizes once before this returns, so each worker has verified the login
    and compiled its plans before anything is timed."""
    from zeep import Client
    from zeep.transports import Transport

    from client import SiptarClient

    billing = [SiptarClient(base, "admin", "admin", timeout=WARM_UP_TIMEOUT) for _ in range(most)]
    for c in billing:
        c.billing.GetBalance()
        c.billing.Authorize(call={"number": numbers[0], "account": codes[0]})
    trivial = [
        Client(f"{base}/trivial?wsdl", transport=Transport(timeout=TIMEOUT)) for _ in range(most)
    ]
    seq = iter(range(10**9))
    lock = threading.Lock()

    def authorize_one(i: int, rng: random.Random) -> None:
        with lock:
            n = next(seq)
        call = {"number": rng.choice(numbers), "account": rng.choice(codes)}
        answer = billing[i].billing.Authorize(call={**call, "uniqueid": f"{tag}.{n}"})
        assert answer.allowed, answer.reason

    def echo_one(i: int, _rng: random.Random) -> None:
        assert trivial[i].service.Echo("x") == "x"

    return authorize_one, echo_one


def drive(threads: int, one: One, seconds: float) -> tuple[float, float]:
    """Calls per second and the p99 of `one` from `threads` threads for `seconds`."""
    deadline = time.perf_counter() + seconds
    times: list[list[float]] = [[] for _ in range(threads)]

    def worker(i: int) -> None:
        times[i] = _timed(one, i, i, deadline)

    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(worker, range(threads)))
    every = [t for ts in times for t in ts]
    return len(every) / (time.perf_counter() - started), p99(every)


def p99(times: list[float]) -> float:
    ordered = sorted(times)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def drive_processes(
    base: str, numbers: Sequence[str], codes: Sequence[str], kind: str, n: int, seconds: float
) -> tuple[float, float]:
    """`drive` with `n` client processes instead of threads (`kind`: "authorize" or
    "echo"), each with a zeep client of its own, started together once all are warm:
    one process's zeep threads wait for each other's interpreter lock (a thread whose
    answer has come waits up to the 5 ms switch interval for another's XML work), which
    lands in their p99; processes wait only for the cores."""
    context = multiprocessing.get_context("fork")
    start = context.Barrier(n + 1)
    pipes = [context.Pipe(duplex=False) for _ in range(n)]
    children = [
        context.Process(
            target=_client_process,
            args=(base, numbers, codes, kind, i, seconds, start, sender),
            daemon=True,
        )
        for i, (_, sender) in enumerate(pipes)
    ]
    for child in children:
        child.start()
    start.wait(timeout=WARM_UP_TIMEOUT)
    began = time.perf_counter()
    every = [t for receiver, _ in pipes for t in receiver.recv()]
    took = time.perf_counter() - began
    for child in children:
        child.join(TIMEOUT)
    return len(every) / took, p99(every)


def _client_process(
    base: str,
    numbers: Sequence[str],
    codes: Sequence[str],
    kind: str,
    i: int,
    seconds: float,
    start: Any,
    sender: Connection,
) -> None:
    # Each process its own calls' uniqueids (every process counts from 0).
    authorize_one, echo_one = clients(base, numbers, codes, 1, f"{kind}{i}.{time.time_ns()}")
    one = authorize_one if kind == "authorize" else echo_one
    start.wait(timeout=WARM_UP_TIMEOUT)
    sender.send(_timed(one, 0, i, time.perf_counter() + seconds))


def _timed(one: One, client: int, seed: int, deadline: float) -> list[float]:
    """The seconds each call of `one` by `client` took, until `deadline`."""
    rng = random.Random(SEED + seed)
    times: list[float] = []
    while time.perf_counter() < deadline:
        began = time.perf_counter()
        one(client, rng)
        times.append(time.perf_counter() - began)
    return times
