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
account's SIP peer, not through a trunk: priced at the on-net price, no provider cost).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
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
        "127.0.0.1", port, "billing", "billing", UTC, writer.write, handle_batch=writer.write
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
    accounts: dict[str, int] = {
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
    label += ", on-net 10 %" if on_net else ", on-net off"
    with factory() as s:
        stored = s.execute(select(func.count(Cdr.id))).scalar_one()
        balanced = all(a.balance == ledger_sum(s, a.id) for a in s.scalars(select(Account)))
        still_open = s.execute(
            select(func.count(Reservation.id)).where(Reservation.status == "open")
        ).scalar_one()
        on_net_cdrs = s.execute(
            select(func.count(Cdr.id)).where(Cdr.onnet_account_id.is_not(None))
        ).scalar_one()
    engine.dispose()
    print(
        f"   {label:<26} {EVENTS} Cdr events -> {stored} rows in {elapsed:.2f} s: "
        f"{EVENTS / elapsed:,.0f} events/s ({writer.outcomes['rated']} rated, "
        f"{writer.outcomes['unrated']} unrated, {on_net_cdrs} on-net; "
        f"balances = ledger: {balanced}; "
        f"reservations still open: {still_open}); "
        f"listener CPU {cpu / EVENTS * 1e6:.0f} us/event",
        flush=True,
    )


def run() -> None:
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
