"""The SOAP benchmarks' clients: Authorize and the trivial Echo (bench/soap_server.py)
from one warmed-up zeep client per client thread, and the driver that times them.
bench_authorize's SOAP part and bench_soap_request build theirs here, so both measure
the same calls."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

One = Callable[[int, random.Random], None]
SEED = 4
# The first Authorize of a worker may compile a big sheet (tens of seconds for 1M
# prefixes on a busy machine): the warm-up must wait for it.
WARM_UP_TIMEOUT = 600
TIMEOUT = 30


def clients(base: str, numbers: Sequence[str], codes: Sequence[str], most: int) -> tuple[One, One]:
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
        answer = billing[i].billing.Authorize(call={**call, "uniqueid": f"s.{n}"})
        assert answer.allowed, answer.reason

    def echo_one(i: int, _rng: random.Random) -> None:
        assert trivial[i].service.Echo("x") == "x"

    return authorize_one, echo_one


def drive(threads: int, one: One, seconds: float) -> tuple[float, float]:
    """Calls per second and the p99 of `one` from `threads` threads for `seconds`."""
    deadline = time.perf_counter() + seconds
    times: list[list[float]] = [[] for _ in range(threads)]

    def worker(i: int) -> None:
        rng = random.Random(SEED + i)
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            one(i, rng)
            times[i].append(time.perf_counter() - started)

    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(worker, range(threads)))
    every = [t for ts in times for t in ts]
    return len(every) / (time.perf_counter() - started), p99(every)


def p99(times: list[float]) -> float:
    ordered = sorted(times)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
