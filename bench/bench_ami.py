"""CDR events per second from a TCP AMI stream to rated, charged, committed rows.

A synthetic session of 20,000 `Event: Cdr` messages for the demo accounts (tests/
ami_synth.py; 60 % answered, every level of the tree charged) is replayed over TCP by
tests/ami_replay.AmiReplayServer, running in a process of its own, into the
production listener (`CdrListener` + `CdrWriter`: batches of up to 200 in one
transaction). Every call holds a reservation, as after Authorize, that its CDR
settles. The clock runs from the listener's login to the last batch committed.
On SQLite (a WAL file) and on a throwaway PostgreSQL (tests.pgserver). Set
BENCH_AMI_EVENTS to change the count. The listener's CPU time per event (its process
only: parsing and rating share one core, the GIL) is printed too: on a busy machine it
says more than the rate does.

Each backend runs twice in one run: with the on-net step of the CDR path switched off
(the session as above), then with it on and every tenth call on-net (to a demo
account's SIP peer, not through a trunk: priced at the on-net price, no provider cost)
and a call shop in play: acct1003 is a call shop with BOOTHS booths, and one call in
fifteen comes from a booth's peer (the CDR path has no booth step of its own: a booth
is Authorize's gate and the board's; its calls are the shop's CDRs).

Before and after, in one run: `BENCH_AMI_BASE=/path/to/other/checkout` (with its own
.venv) runs every case with that checkout's code and with this one's, alternately
(A, B, A, B...; BENCH_AMI_ROUNDS rounds, default 2), each in a process of its own
against the same PostgreSQL server and the same sessions, and prints each pair's
ratio and the machine's load (`uptime`) before and after: on a shared machine only a
ratio measured side by side means something.
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from statistics import median
from typing import cast

from sqlalchemy import Table, func, select, update

from ami_listener.listener import CdrListener
from ami_listener.spool import Spool
from ami_listener.writer import CdrWriter
from db import bulk, migrate
from db.ledger import ledger_sum
from db.schema import Account, Cdr, Reservation
from db.session import UnitOfWork, make_engine, make_session_factory
from services.common.demo import load_demo
from services.common.gc_tuning import tune_gc
from services.credit.holds import add_reserved
from tests.ami_synth import ACCOUNTS, NUMBERS, write_session
from tests.pgserver import PostgresServer, pg_admin, pg_db_url

EVENTS = int(os.environ.get("BENCH_AMI_EVENTS", "20000"))


_SERVER = """
import asyncio, sys
from tests.ami_replay import AmiReplayServer

async def main():
    server = AmiReplayServer(sys.argv[1])
    print(await server.start(), flush=True)
    await asyncio.Event().wait()

asyncio.run(main())
"""


class _ServerProcess:
    """The replay server in a process of its own, as Asterisk is."""

    def __init__(self, raw: Path) -> None:
        self.raw = raw

    def __enter__(self) -> _ServerProcess:
        root = Path(__file__).resolve().parents[1]
        self.proc = subprocess.Popen(
            [sys.executable, "-c", _SERVER, str(self.raw)],
            cwd=root,
            env=os.environ | {"PYTHONPATH": str(root)},
            stdout=subprocess.PIPE,
        )
        assert self.proc.stdout is not None
        self.port = int(self.proc.stdout.readline())
        return self

    def __exit__(self, *exc: object) -> None:
        self.proc.terminate()
        self.proc.wait(30)


async def _listen(port: int, writer: CdrWriter, count: int) -> float:
    listener = CdrListener(
        "127.0.0.1",
        port,
        "billing",
        "billing",
        UTC,
        lambda record: writer.write([record]),  # unused in batch mode
        handle_batch=writer.write,
    )
    started = time.perf_counter()
    await listener.start()
    try:
        while sum(writer.outcomes.values()) + writer.failed < count:
            await asyncio.sleep(0.01)
        return time.perf_counter() - started
    finally:
        await listener.stop()


def _reserve_every_call(uow: UnitOfWork) -> None:
    """A reservation per call, as Authorize leaves it: each CDR settles its own."""
    session = uow.session
    # accountcode is nullable; the WHERE leaves no NULL, and the keys read are strings.
    accounts: dict[str | None, int] = {
        code: account_id
        for code, account_id in session.execute(
            select(Account.accountcode, Account.id).where(Account.accountcode != "")
        )
    }
    expires = datetime.now(UTC) + timedelta(days=1)
    rows = [
        {
            "account_id": accounts[ACCOUNTS[n % len(ACCOUNTS)]],
            "number": NUMBERS[n % len(NUMBERS)],
            "amount": Decimal("0.5"),
            "max_seconds": 3600,
            "status": "open",
            "uniqueid": f"1800000000.{n}",
            "expires_at": expires,
        }
        for n in range(EVENTS)
    ]
    bulk.insert_rows(session, cast(Table, Reservation.__table__), rows)
    # What Authorize would have added to each account's maintained `reserved`.
    held: dict[int, Decimal] = {}
    for row in rows:
        account_id = cast(int, row["account_id"])
        held[account_id] = held.get(account_id, Decimal(0)) + Decimal("0.5")
    add_reserved(session, held)


ON_NET_PEER = "1002"  # Bob's SIP peer in the on-net run
BOOTHS = 10  # of the call shop of the on-net run (acct1003)

# Run in the checkout being measured (this one's or BENCH_AMI_BASE's), so it uses only
# what both have: the booths of the on-net run are added after the demo is loaded.
_BOOTHS = """
from sqlalchemy import select, update
from db.callshop_schema import Booth, CallShop
from db.schema import Account

def add_booths(uow, count):
    shop = uow.session.scalars(select(Account).where(Account.accountcode == "acct1003")).one()
    shop.kind = "callshop"
    uow.session.add(CallShop(account_id=shop.id, sell_sheet_id=shop.rate_sheet_id))
    uow.session.add_all(
        Booth(shop_id=shop.id, name=f"Booth {k}", sip_peer=f"booth{k}") for k in range(count)
    )
"""


def _on_net_session(raw: Path, path: Path) -> Path:
    """`raw` with every tenth call sent to ON_NET_PEER instead of a trunk."""
    events = raw.read_bytes().decode("utf-8").split("\r\n\r\n")
    for n in range(1, len(events), 10):  # events[0] holds the banner and the first call
        event = events[n]
        for old, new in (
            ("DestinationChannel: PJSIP/carrier1-", f"DestinationChannel: PJSIP/{ON_NET_PEER}-"),
            ("LastData: PJSIP/", f"LastData: PJSIP/{ON_NET_PEER},30\r\nX-Was: "),
        ):
            event = event.replace(old, new)
        lines = [
            f"Destination: {ON_NET_PEER}" if line.startswith("Destination: ") else line
            for line in event.split("\r\n")
            if not line.startswith("X-Was: ")
        ]
        events[n] = "\r\n".join(lines)
    # One call in fifteen from a booth of acct1003's shop (calls 5, 20, 35...: acct1003's).
    for n in range(5, len(events) - 1, 15):
        events[n] = events[n].replace("Channel: PJSIP/phone-", f"Channel: PJSIP/booth{n % BOOTHS}-")
    path.write_bytes("\r\n\r\n".join(events).encode("utf-8"))
    return path


def _one(label: str, url: str, raw: Path, spool: Path, *, on_net: bool) -> None:
    import services.onnet.pricing as onnet_pricing

    migrate.upgrade(url)
    engine = make_engine(url)
    factory = make_session_factory(engine)
    with UnitOfWork(factory) as uow:
        load_demo(uow)
        _reserve_every_call(uow)
        uow.session.execute(
            update(Account)
            .where(Account.accountcode == "acct1002")
            .values(sip_username=ON_NET_PEER)
        )
        if on_net:
            booths: dict[str, object] = {}
            exec(_BOOTHS, booths)
            booths["add_booths"](uow, BOOTHS)  # type: ignore[operator]
        uow.commit()
    step = onnet_pricing.price_onnet
    if not on_net:
        onnet_pricing.price_onnet = lambda _uow, _record: None  # type: ignore[assignment]
    writer = CdrWriter(factory, Spool(spool))
    tune_gc()  # as `siptar ami` does
    try:
        with _ServerProcess(raw) as server:
            cpu = time.process_time()
            elapsed = asyncio.run(_listen(server.port, writer, EVENTS))
            cpu = time.process_time() - cpu
    finally:
        onnet_pricing.price_onnet = step
    label += ", on-net 10 % + booths" if on_net else ", on-net off"
    with factory() as s:
        stored = s.execute(select(func.count(Cdr.id))).scalar_one()
        balanced = all(a.balance == ledger_sum(s, a.id) for a in s.scalars(select(Account)))
        still_open = s.execute(
            select(func.count(Reservation.id)).where(Reservation.status == "open")
        ).scalar_one()
        on_net_cdrs = s.execute(
            select(func.count(Cdr.id)).where(Cdr.onnet_account_id.is_not(None))
        ).scalar_one()
        from_booths = s.execute(
            select(func.count(Cdr.id)).where(Cdr.channel.like("PJSIP/booth%"))
        ).scalar_one()
    engine.dispose()
    print(
        f"   {label:<26} {EVENTS} Cdr events -> {stored} rows in {elapsed:.2f} s: "
        f"{EVENTS / elapsed:,.0f} events/s ({writer.outcomes['rated']} rated, "
        f"{writer.outcomes['unrated']} unrated, {on_net_cdrs} on-net, {from_booths} from booths; "
        f"balances = ledger: {balanced}; "
        f"reservations still open: {still_open}); "
        f"listener CPU {cpu / EVENTS * 1e6:.0f} us/event",
        flush=True,
    )


# One case in a process of its own, with the code of the checkout it runs in.
_CASE = """
import sys
from pathlib import Path
import bench.bench_ami as m

label, url, raw, spool, on_net = sys.argv[1:6]
if on_net == "1" and not hasattr(m, "BOOTHS"):  # an older checkout: its booths added here
    booths = {}
    exec(sys.argv[6], booths)
    load_demo = m.load_demo
    m.load_demo = lambda uow: (load_demo(uow), booths["add_booths"](uow, int(sys.argv[7])))
m._one(label, url, Path(raw), Path(spool), on_net=on_net == "1")
"""


def _case(
    checkout: Path, label: str, url: str, raw: Path, spool: Path, on_net: bool
) -> tuple[float, float]:
    """The case's events/s and listener CPU us/event, with `checkout`'s code."""
    python = checkout / ".venv" / "bin" / "python"
    args = [label, url, str(raw), str(spool), "1" if on_net else "0", _BOOTHS, str(BOOTHS)]
    env = os.environ | {"PYTHONPATH": str(checkout), "BENCH_AMI_EVENTS": str(EVENTS)}
    done = subprocess.run(
        [str(python), "-c", _CASE, *args], cwd=checkout, env=env, check=True, stdout=subprocess.PIPE
    )
    out = done.stdout.decode()
    print(out, end="", flush=True)
    rate = re.search(r"([0-9,]+) events/s", out)
    cpu = re.search(r"listener CPU ([0-9]+) us/event", out)
    assert rate is not None and cpu is not None, out
    return float(rate.group(1).replace(",", "")), float(cpu.group(1))


def _summary(figures: dict[tuple[str, bool, str], list[tuple[float, float]]]) -> None:
    """Medians per case; after / before, and on-net (with booths) / plain per checkout."""
    med = {k: (median(r for r, _ in v), median(c for _, c in v)) for k, v in figures.items()}
    for backend in ("SQLite", "PostgreSQL"):
        for on_net in (False, True):
            (b, bc), (a, ac) = med[(backend, on_net, "before")], med[(backend, on_net, "after")]
            case = "on-net 10 % + booths" if on_net else "plain"
            print(
                f"   {backend:<10} {case:<21} before {b:,.0f} ev/s ({bc:.0f} us CPU), "
                f"after {a:,.0f} ev/s ({ac:.0f} us CPU): after/before {a / b:.2f}",
                flush=True,
            )
        for name in ("before", "after"):
            plain, on = med[(backend, False, name)][0], med[(backend, True, name)][0]
            print(f"   {backend:<10} {name}: on-net+booths / plain {on / plain:.2f}", flush=True)


def _uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def _compare(base: Path) -> None:
    """Every case with `base`'s code and this checkout's, alternately, in one run."""
    here = Path(__file__).resolve().parents[1]
    rounds = int(os.environ.get("BENCH_AMI_ROUNDS", "2"))
    print(f"   before: {base}; after: {here}; {rounds} round(s); {_uptime()}", flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-ami-") as tmp:
        raw = write_session(Path(tmp) / "raw.txt", EVENTS)
        sessions = (raw, _on_net_session(raw, Path(tmp) / "raw-onnet.txt"))
        figures: dict[tuple[str, bool, str], list[tuple[float, float]]] = {}
        pg = PostgresServer().start()
        try:
            n = 0
            for r in range(rounds):
                for backend in ("SQLite", "PostgreSQL"):
                    for on_net in (False, True):
                        for name, tree in (("before", base), ("after", here)):
                            n += 1
                            if backend == "SQLite":
                                url = f"sqlite:///{tmp}/bench{n}.db"
                            else:
                                pg_admin(pg.url, f'CREATE DATABASE "bench{n}"')
                                url = pg_db_url(pg.url, f"bench{n}")
                            label = f"{backend} {name} r{r + 1}"
                            spool = Path(tmp) / f"spool{n}"
                            got = _case(tree, label, url, sessions[on_net], spool, on_net)
                            figures.setdefault((backend, on_net, name), []).append(got)
        finally:
            pg.stop()
    print(f"   {_uptime()}", flush=True)
    _summary(figures)


def run() -> None:
    base = os.environ.get("BENCH_AMI_BASE")
    if base:
        _compare(Path(base).resolve())
        return
    with tempfile.TemporaryDirectory(prefix="bench-ami-") as tmp:
        raw = write_session(Path(tmp) / "raw.txt", EVENTS)
        on_net_raw = _on_net_session(raw, Path(tmp) / "raw-onnet.txt")
        for n, (session, on_net) in enumerate(((raw, False), (on_net_raw, True))):
            url = f"sqlite:///{tmp}/bench{n}.db"
            _one("SQLite", url, session, Path(tmp) / f"spool-sqlite{n}", on_net=on_net)
        pg = PostgresServer().start()
        try:
            for n, (session, on_net) in enumerate(((raw, False), (on_net_raw, True))):
                pg_admin(pg.url, f'CREATE DATABASE "bench{n}"')
                url = pg_db_url(pg.url, f"bench{n}")
                _one("PostgreSQL", url, session, Path(tmp) / f"spool-pg{n}", on_net=on_net)
        finally:
            pg.stop()
