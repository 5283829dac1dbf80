"""Authorizations per second on PostgreSQL (a throwaway server of its own):

1. through the use case (services.credit.authorize), one transaction per call, with 1
   and 4 threads, for customers directly under the admin (each call locks one account
   row) and for customers of one reseller (each call also locks the reseller's row, so
   that reseller's customers are authorized one at a time);
2. through SOAP: `siptar serve --workers 2` (gunicorn) as a subprocess, driven by a few
   threads of zeep clients (client.SiptarClient), bounded in count and time.

Every authorization is a real one: the account chain is locked, the max duration is
computed at every level, the route planned and a reservation written (calls are capped
at 60 s and the accounts hold 1,000.00, so none is refused for credit).
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path

import requests
from sqlalchemy import update

from db import ledger, migrate
from db.schema import Account, Trunk
from db.session import UnitOfWork, make_engine, make_session_factory
from services.common.demo import load_demo
from services.credit.authorize import AuthorizeRequest, authorize
from tests.pgserver import PostgresServer, free_port, pg_admin, pg_db_url

ACCOUNTS = 200
PHASE_SECONDS = 5.0
SOAP_THREADS = 4
SERVE = [sys.executable, "-m", "cli", "serve"]
SOAP_CALLS = 3000  # at most, per SOAP run
SOAP_SECONDS = 10.0
NUMBERS = ["34911234567", "4930123456", "447700900123", "33612345678", "12125551234"]
SEED = 4


def prepare(url: str) -> tuple[list[str], list[str]]:
    """The demo, plus ACCOUNTS customers under the admin and ACCOUNTS under Reseller One."""
    migrate.upgrade(url)
    engine = make_engine(url)
    factory = make_session_factory(engine)
    direct, resold = [], []
    with UnitOfWork(factory) as uow:
        load_demo(uow)
        s = uow.session
        for n in range(2 * ACCOUNTS):
            under_reseller = n % 2 == 1
            parent = s.get(Account, 2 if under_reseller else 1)
            assert parent is not None
            code = f"bench{n}"
            account = Account(
                parent_id=parent.id,
                role="customer",
                name=code,
                accountcode=code,
                rate_sheet_id=4 if under_reseller else 3,
                max_call_seconds=60,
            )
            s.add(account)
            s.flush()
            account.path = f"{parent.path}{account.id}/"
            ledger.post(s, account.id, "payment", Decimal(1000), reference="bench")
            (resold if under_reseller else direct).append(code)
        ledger.post(s, 2, "payment", Decimal(1_000_000), reference="bench")
        # The demo trunk takes 30 calls at once; the bench's reservations stay open.
        s.execute(update(Trunk).values(channel_limit=None))
        uow.commit()
    engine.dispose()
    return direct, resold


def timed(threads: int, seconds: float, one: Callable[[random.Random], None]) -> float:
    """Calls per second of `one` from `threads` threads over `seconds`."""
    deadline = time.perf_counter() + seconds
    counts = [0] * threads

    def worker(i: int) -> None:
        rng = random.Random(SEED + i)
        while time.perf_counter() < deadline:
            one(rng)
            counts[i] += 1

    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(worker, range(threads)))
    return sum(counts) / (time.perf_counter() - started)


def use_case(url: str, direct: list[str], resold: list[str]) -> None:
    engine = make_engine(url, pool_size=8)
    factory = make_session_factory(engine)
    seq = iter(range(10**9))
    lock = threading.Lock()

    def call(codes: list[str]) -> Callable[[random.Random], None]:
        def one(rng: random.Random) -> None:
            with lock:
                n = next(seq)
            req = AuthorizeRequest(rng.choice(NUMBERS), rng.choice(codes), uniqueid=f"u.{n}")
            with UnitOfWork(factory) as uow:
                answer = authorize(uow, None, req)
            assert answer.allowed, answer.reason

        return one

    for label, codes in (("customers of the admin", direct), ("customers of a reseller", resold)):
        for threads in (1, 4):
            rate = timed(threads, PHASE_SECONDS, call(codes))
            print(f"   use case, {label:<24} {threads} thread(s): {rate:7.0f} authorizations/s")
    engine.dispose()


def soap(url: str, direct: list[str], threads: int) -> None:
    from client import SiptarClient

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "SIPTAR_DATABASE_URL": url, "SIPTAR_PUBLIC_URL": base}
    proc = subprocess.Popen(
        [*SERVE, "--bind", f"127.0.0.1:{port}", "--workers", "2", "--threads", str(threads)],
        cwd=Path(__file__).resolve().parent.parent,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        _wait_for(f"{base}/billing?wsdl")
        clients = [SiptarClient(base, "admin", "admin", timeout=30) for _ in range(SOAP_THREADS)]
        for c in clients:  # warm up: each worker verifies the password once
            c.billing.GetBalance()
        done = [0]
        lock = threading.Lock()
        deadline = time.perf_counter() + SOAP_SECONDS

        def worker(i: int) -> None:
            rng = random.Random(SEED + i)
            while time.perf_counter() < deadline:
                with lock:
                    if done[0] >= SOAP_CALLS:
                        return
                    done[0] += 1
                    n = done[0]
                call = {"number": rng.choice(NUMBERS), "account": rng.choice(direct)}
                answer = clients[i].billing.Authorize(call={**call, "uniqueid": f"s.{n}"})
                assert answer.allowed, answer.reason

        started = time.perf_counter()
        with ThreadPoolExecutor(SOAP_THREADS) as pool:
            list(pool.map(worker, range(SOAP_THREADS)))
        rate = done[0] / (time.perf_counter() - started)
        print(
            f"   SOAP Authorize, gunicorn 2 workers x {threads} thread(s), "
            f"{SOAP_THREADS} zeep threads: "
            f"{rate:7.0f} authorizations/s ({done[0]} calls)"
        )
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)


def _wait_for(url: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return
        except requests.RequestException:  # refused, or a worker still booting
            pass
        time.sleep(0.2)
    raise RuntimeError("siptar serve did not answer within 60 s")


def run() -> None:
    server = PostgresServer().start()
    try:
        for name in ("bench_uc", "bench_soap"):
            pg_admin(server.url, f'CREATE DATABASE "{name}"')
        uc_url = pg_db_url(server.url, "bench_uc")
        direct, resold = prepare(uc_url)
        use_case(uc_url, direct, resold)
        soap_url = pg_db_url(server.url, "bench_soap")
        direct, _ = prepare(soap_url)
        # --threads 1 is gunicorn's sync worker (the model before issue 11); 8 the default.
        for threads in (1, 8):
            soap(soap_url, direct, threads)
    finally:
        server.stop()
