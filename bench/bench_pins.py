"""GeneratePins: one lot of 100,000 calling cards with initial credit, in one call of
the use case, on SQLite and on a throwaway PostgreSQL; then a second lot of 100,000
(uniqueness is checked against 100,000 taken PINs), a refill of the whole lot, and the
XLSX export of one lot."""

from __future__ import annotations

import tempfile
import time
from decimal import Decimal
from pathlib import Path

from sqlalchemy import func, select

from db import migrate
from db.schema import Account, LedgerEntry
from db.session import UnitOfWork, make_engine, make_session_factory
from services.common.caller import Caller
from services.common.demo import load_demo
from services.common.exports import write_table
from services.reseller import pins_usecases

COUNT = 100_000


def _run_on(url: str, label: str) -> None:
    migrate.upgrade(url)
    engine = make_engine(url)
    factory = make_session_factory(engine)
    with UnitOfWork(factory) as uow:
        load_demo(uow)
    # The demo reseller ("Reseller One", account 2) generates the lots.
    caller = Caller(login_id=2, username="reseller", account_id=2, role="reseller", path="/1/2/")
    lots = []
    for n in (1, 2):
        cmd = pins_usecases.NewLot(COUNT, 10, Decimal("5"), 4, f"bench {n}")
        started = time.perf_counter()
        with UnitOfWork(factory) as uow:
            summary = pins_usecases.generate_pins(uow, caller, cmd)
            lots.append(summary.lot.id)
        took = time.perf_counter() - started
        print(f"   {label}: lot {n} of {COUNT:,} cards in {took:.1f} s ({COUNT / took:,.0f}/s)")
    started = time.perf_counter()
    with UnitOfWork(factory) as uow:
        pins_usecases.refill_lot(uow, caller, lots[0], Decimal("1.5"), "bench")
    print(f"   {label}: refill of {COUNT:,} cards in {time.perf_counter() - started:.1f} s")
    started = time.perf_counter()
    with UnitOfWork(factory) as uow:
        _lot, cards = pins_usecases.lot_cards(uow, caller, lots[0])
        data = write_table("xlsx", "lot", ("id", "pin"), [(c.id, c.pin) for c in cards]).data
    took = time.perf_counter() - started
    print(f"   {label}: XLSX export of {COUNT:,} cards in {took:.1f} s ({len(data) / 1e6:.1f} MB)")
    with factory() as s:
        pins = s.execute(select(func.count(Account.pin), func.count(func.distinct(Account.pin))))
        total, distinct = pins.one()
        balances = s.execute(select(func.sum(Account.balance)).where(Account.pin.is_not(None)))
        ledger = s.execute(
            select(func.sum(LedgerEntry.amount))
            .join(Account, Account.id == LedgerEntry.account_id)
            .where(Account.pin.is_not(None))
        )
        print(
            f"   {label}: {total:,} PINs, {distinct:,} distinct; "
            f"balances {balances.scalar_one()} = ledger {ledger.scalar_one()}"
        )
    engine.dispose()


def run() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        _run_on(f"sqlite:///{Path(tmp) / 'pins.db'}", "sqlite")
    from tests.pgserver import PostgresServer, pg_admin, pg_db_url

    server = PostgresServer().start()
    try:
        pg_admin(server.url, 'CREATE DATABASE "bench_pins"')
        _run_on(pg_db_url(server.url, "bench_pins"), "postgresql")
    finally:
        server.stop()
