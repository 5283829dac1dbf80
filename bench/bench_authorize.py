"""Authorize on PostgreSQL (a throwaway server of its own), as the issue measures it:

1. in process, through the use case (services.credit.authorize), one transaction per
   call on one thread: the median per Authorize and the statements it sends, for a
   customer directly under the admin (depth 0) and for customers 1, 2 and 4 reseller
   levels down (each level is one more account row locked and one more reservation),
   and the same median with the process and its backends on one CPU, without this
   machine's ~0.3 ms wake-up of an idle vCPU per round trip (bench/one_cpu.py);
2. over SOAP: `siptar serve --workers 2` (bench/soap_server.py: the same gunicorn setup
   plus a trivial `Echo` operation) driven by 4 and 16 threads of zeep clients, then by
   4 and 16 client processes (no client-side wait for one interpreter lock):
   Authorize's and the trivial operation's throughput in the same run, their ratio, and
   Authorize's p99;
3. with the call shop's and on-net checks in play vs without, in process, in one run,
   interleaved: ordinary calls on a server without booths or on-net numbers, the same
   calls on one with POPULATED peers, DIDs and booths, and there a mix of 10 % booth
   calls (open sessions) and 10 % on-net calls (to other accounts' peers).
   bench/bench_authorize_compare.py compares this code with a baseline checkout's.

Every authorization is a real one: the account chain is locked, the max duration is
computed at every level, the route planned and a reservation written (calls are capped
at 60 s and the accounts hold 1,000.00, so none is refused for credit). The machine may
be shared: compare figures of one run, not across runs.
"""

from __future__ import annotations

import random
import statistics
import time
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import event, select, update

from bench import one_cpu
from bench.soap_clients import clients, drive, drive_processes, p99
from bench.soap_server import Launcher, wait_for
from db import ledger, migrate
from db.bundle_schema import AccountBundle, Bundle
from db.schema import Account, Trunk
from db.session import UnitOfWork, make_engine, make_session_factory
from services.common.demo import load_demo
from services.credit.authorize import AuthorizeRequest, authorize
from tests.pgserver import PostgresServer, pg_admin, pg_db_url

ACCOUNTS = 100  # customers per depth
DEPTHS = (0, 1, 2, 4)
# Customers holding two bundles (from their parent) next to those holding none, at these
# depths: `BUNDLED + depth` in the codes.
BUNDLED = 100
BUNDLE_DEPTHS = (0, 2)
IN_PROCESS_CALLS = 400  # per depth, after a warm-up
SOAP_THREADS = (4, 16)
SOAP_SECONDS = 8.0
NUMBERS = ["34911234567", "4930123456", "447700900123", "33612345678", "12125551234"]
SHEET = 3  # the demo's wholesale sheet: every level buys at it
SEED = 4


def prepare(url: str) -> dict[int, list[str]]:
    """The demo, plus ACCOUNTS customers at each depth: under the admin (0), or under a
    chain of `depth` resellers of their own."""
    migrate.upgrade(url)
    engine = make_engine(url)
    factory = make_session_factory(engine)
    codes: dict[int, list[str]] = {}
    with UnitOfWork(factory) as uow:
        load_demo(uow)
        s = uow.session
        for depth in DEPTHS:
            parent = s.get(Account, 1)
            assert parent is not None
            for level in range(depth):
                parent = _account(s, parent, "reseller", f"r{depth}.{level}", 10**7)
            codes[depth] = [f"b{depth}.{n}" for n in range(ACCOUNTS)]
            for code in codes[depth]:
                _account(s, parent, "customer", code, 1000)
            if depth in BUNDLE_DEPTHS:
                codes[BUNDLED + depth] = _bundled(s, parent, depth)
        # The demo trunk takes 30 calls at once; the bench's reservations stay open.
        s.execute(update(Trunk).values(channel_limit=None))
        uow.commit()
    engine.dispose()
    return codes


def _bundled(s: Any, parent: Account, depth: int) -> list[str]:
    """ACCOUNTS customers of `parent` holding two of its bundles each (Spain, then
    everywhere), never used up in the bench."""
    bundles = [
        Bundle(owner_id=parent.id, name=f"bench {depth} {n}", quantity=10**9, prefixes=p)
        for n, p in enumerate(("34", ""))
    ]
    s.add_all(bundles)
    s.flush()
    codes = [f"bb{depth}.{n}" for n in range(ACCOUNTS)]
    for code in codes:
        account = _account(s, parent, "customer", code, 1000)
        for position, bundle in enumerate(bundles):
            s.add(
                AccountBundle(
                    account_id=account.id,
                    bundle_id=bundle.id,
                    position=position,
                    start=date(2026, 1, 1),
                    billing_day=1,
                )
            )
    return codes


def _account(s: Any, parent: Account, role: str, code: str, funds: int) -> Account:
    account = Account(
        parent_id=parent.id,
        role=role,
        name=code,
        accountcode=code,
        rate_sheet_id=SHEET,
        max_call_seconds=60,
    )
    s.add(account)
    s.flush()
    account.path = f"{parent.path}{account.id}/"
    ledger.post(s, account.id, "payment", Decimal(funds), reference="bench")
    return account


def in_process(url: str, codes: dict[int, list[str]]) -> None:
    engine = make_engine(url)
    factory = make_session_factory(engine)
    statements = [0]

    @event.listens_for(engine, "before_cursor_execute")
    def _count(*_: Any) -> None:
        statements[0] += 1

    rng = random.Random(SEED)
    seq = iter(range(10**9))

    def one(depth: int) -> float:
        req = AuthorizeRequest(
            rng.choice(NUMBERS), rng.choice(codes[depth]), uniqueid=f"u.{next(seq)}"
        )
        started = time.perf_counter()
        with UnitOfWork(factory) as uow:
            answer = authorize(uow, None, req)
        took = time.perf_counter() - started
        assert answer.allowed, answer.reason
        return took

    print(one_cpu.describe(engine))
    for depth in sorted(codes):
        for _ in range(50):
            one(depth)
        statements[0] = 0
        times = [one(depth) for _ in range(IN_PROCESS_CALLS)]
        per_call = statements[0] / IN_PROCESS_CALLS
        # The same calls without the machine's vCPU wake-ups (bench/one_cpu.py).
        with one_cpu.pinned_to_one_cpu(engine) as pinned:
            on_one = [one(depth) for _ in range(IN_PROCESS_CALLS)] if pinned else [0.0]
        label = f"depth {depth % BUNDLED}" + (", 2 bundles" if depth >= BUNDLED else "")
        print(
            f"   in process, {label}: median {statistics.median(times) * 1000:6.2f} ms,"
            f" p99 {p99(times) * 1000:6.2f} ms, {per_call:4.1f} statements per Authorize;"
            f" on one CPU {statistics.median(on_one) * 1000:5.2f} ms"
        )
    engine.dispose()


def soap(url: str, codes: list[str]) -> None:
    with Launcher(url) as server:
        authorize_one, echo_one = clients(server.base, NUMBERS, codes, max(SOAP_THREADS))
        for threads in SOAP_THREADS:
            authorized = drive(threads, authorize_one, SOAP_SECONDS)
            _soap_line(threads, "threads", authorized, drive(threads, echo_one, SOAP_SECONDS))
        for n in SOAP_THREADS:  # the same from client processes (soap_clients.drive_processes)
            authorized = drive_processes(server.base, NUMBERS, codes, "authorize", n, SOAP_SECONDS)
            echoed = drive_processes(server.base, NUMBERS, codes, "echo", n, SOAP_SECONDS)
            _soap_line(n, "processes", authorized, echoed)


def _soap_line(
    clients_: int, kind: str, authorized: tuple[float, float], echoed: tuple[float, float]
) -> None:
    (rate_a, p99_a), (rate_t, p99_t) = authorized, echoed
    print(
        f"   SOAP, 2 workers x 8 threads, {clients_:2d} client {kind}: Authorize"
        f" {rate_a:6.0f}/s (p99 {p99_a * 1000:5.1f} ms), trivial Echo {rate_t:6.0f}/s"
        f" (p99 {p99_t * 1000:5.1f} ms), ratio {rate_a / rate_t:4.2f}"
    )


# bench_rate_change and bench_authorize_compare import these names from here.
_wait_for = wait_for
_p99 = p99


POPULATED = 1000  # accounts with a digit SIP peer, DIDs assigned, and booths (a tenth)
CHECK_CALLS = 600


def checks(bare: str, populated: str) -> None:
    """Part 3 (issue 15's figure): an ordinary call's median on a server with call shops
    and on-net numbers (`populated`: POPULATED peers and DIDs, a shop of booths in
    session) and on one with none (`bare`), both prepared alike; and, on the populated
    one, a mix of 10 % booth calls and 10 % on-net calls among ordinary ones."""
    bare_codes, codes = prepare(bare), prepare(populated)
    peers, booths = _populate(populated)
    factories = {url: make_session_factory(make_engine(url)) for url in (bare, populated)}
    rng = random.Random(SEED)
    seq = iter(range(10**9))

    def one(url: str, number: str, account: str) -> float:
        started = time.perf_counter()
        with UnitOfWork(factories[url]) as uow:
            answer = authorize(
                uow, None, AuthorizeRequest(number, account, uniqueid=f"c.{next(seq)}")
            )
        assert answer.allowed, answer
        return time.perf_counter() - started

    def mixed() -> tuple[str, str]:
        roll = rng.random()
        if roll < 0.1:
            return rng.choice(NUMBERS), rng.choice(booths)
        if roll < 0.2:
            return rng.choice(peers), rng.choice(codes[0])
        return rng.choice(NUMBERS), rng.choice(codes[0])

    # Interleaved, one call of each kind in turn: every kind sees the same load of a
    # shared machine and the same growth of open reservations.
    times: dict[str, list[float]] = {"bare": [], "populated": [], "mix": []}
    for n in range(50 + CHECK_CALLS):
        number = rng.choice(NUMBERS)
        took = {
            "bare": one(bare, number, rng.choice(bare_codes[0])),
            "populated": one(populated, number, rng.choice(codes[0])),
            "mix": one(populated, *mixed()),
        }
        if n >= 50:
            for kind, seconds in took.items():
                times[kind].append(seconds)
    off, on, mix = (statistics.median(times[k]) * 1000 for k in ("bare", "populated", "mix"))
    print(
        f"   checks, depth 0, interleaved: an ordinary call on a server without booths or"
        f" on-net numbers {off:5.2f} ms, on one with {POPULATED} peers and DIDs and"
        f" {POPULATED // 10} booths {on:5.2f} ms ({(on / off - 1) * 100:+.1f} %); with 10 %"
        f" booth and 10 % on-net calls {mix:5.2f} ms ({(mix / off - 1) * 100:+.1f} %)"
    )


def _populate(url: str) -> tuple[list[str], list[str]]:
    """POPULATED customers' SIP peers (digits) and as many DIDs assigned to them; a call
    shop with a tenth as many booths, each with an open session. Returns the peers and
    the booths' peers."""
    from db.callshop_schema import Booth, BoothSession, CallShop
    from db.recurring_schema import CatalogService, Did
    from db.schema import Provider

    engine = make_engine(url)
    factory = make_session_factory(engine)
    with UnitOfWork(factory) as uow:
        s = uow.session
        admin = s.get(Account, 1)
        assert admin is not None
        callees = [_account(s, admin, "customer", f"p{n}", 10) for n in range(POPULATED)]
        for n, callee in enumerate(callees):
            callee.sip_username = f"7{n:05d}"
        shop = _account(s, admin, "customer", "bench-shop", 10**6)
        shop.kind = "callshop"
        s.add(CallShop(account_id=shop.id, sell_sheet_id=SHEET))
        service = CatalogService(owner_id=1, name="bench DID", kind="did")
        s.add(service)
        s.flush()
        provider = s.scalars(select(Provider).order_by(Provider.id).limit(1)).one()
        for n, callee in enumerate(callees):
            s.add(
                Did(
                    number=f"8{n:09d}",
                    provider_id=provider.id,
                    service_id=service.id,
                    status="assigned",
                    account_id=callee.id,
                )
            )
        booths = []
        for n in range(POPULATED // 10):
            booth = Booth(shop_id=shop.id, name=f"b{n}", sip_peer=f"bench-booth-{n}")
            s.add(booth)
            s.flush()
            s.add(BoothSession(booth_id=booth.id, shop_id=shop.id))
            booths.append(booth.sip_peer)
        uow.commit()
    engine.dispose()
    return [f"7{n:05d}" for n in range(POPULATED)], booths


def run() -> None:
    server = PostgresServer().start()
    try:
        for name in ("bench_uc", "bench_soap", "bench_bare", "bench_populated"):
            pg_admin(server.url, f'CREATE DATABASE "{name}"')
        uc_url = pg_db_url(server.url, "bench_uc")
        in_process(uc_url, prepare(uc_url))
        checks(pg_db_url(server.url, "bench_bare"), pg_db_url(server.url, "bench_populated"))
        soap_url = pg_db_url(server.url, "bench_soap")
        soap(soap_url, prepare(soap_url)[0])
    finally:
        server.stop()
