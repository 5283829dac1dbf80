"""A 1,000,000-row CSV rate deck imported through the ImportRates use case (parse, bulk
insert, commit), into a throwaway PostgreSQL and into a SQLite file; then the same deck
merged into the full sheet (every row replaces one). Prints rows/s and seconds.

Set SIPTAR_BENCH_ROWS to try another size."""

from __future__ import annotations

import os
import random
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import func, select

from bench.bench_prefix import make_prefixes
from db import migrate, schema
from db.session import UnitOfWork, make_engine, make_session_factory
from rating.model import Rate
from rating.tariffs import parse_rates_csv
from services.common.caller import Caller
from services.config import usecases
from tests.pgserver import PostgresServer, pg_admin, pg_db_url

ROWS = int(os.environ.get("SIPTAR_BENCH_ROWS", "1000000"))
SEED = 20_250_703
_TIERS = ("", "", "", "0:0.10:60;60:0.05:6")
_DAYS = ("", "", "mon-fri")


def make_deck(rows: int) -> str:
    """Prefixes as bench_prefix makes them; a realistic mix of prices, increments,
    destinations, some tiers, bands and validity dates."""
    rng = random.Random(SEED)
    lines = [
        "prefix,destination,price,tiers,initial_increment,increment,connect_fee,"
        "weekdays,time_from,time_to,valid_from"
    ]
    for i, prefix in enumerate(make_prefixes(rng, rows)):
        tiers = _TIERS[i % len(_TIERS)]
        price = "" if tiers else f"0.{rng.randrange(1, 5000):04d}"
        days = _DAYS[i % len(_DAYS)]
        band = "08:00,18:00" if days else ","
        valid = "2025-07-01" if i % 10 == 0 else ""
        lines.append(
            f"{prefix},Destination {i % 3000},{price},{tiers},30,6,0.01,{days},{band},{valid}"
        )
    return "\n".join(lines) + "\n"


def admin_sheet(session_factory: Callable[[], object]) -> tuple[Caller, int]:
    with UnitOfWork(session_factory) as uow:  # type: ignore[arg-type]
        admin = schema.Account(role="admin", name="Bench", path="")
        uow.session.add(admin)
        uow.session.flush()
        admin.path = f"/{admin.id}/"
        caller = Caller(0, "bench", admin.id, "admin", admin.path)
        uow.commit()
        sheet = usecases.create_rate_sheet(uow, caller, usecases.NewRateSheet(name="bench"))
        return caller, sheet.id


def timed_import(url: str, deck: str, rates: list[Rate]) -> None:
    """ImportRates end to end (parse + insert + commit) with replace into an empty
    sheet; then a merge of the same rates, parse excluded (every row replaces one)."""
    engine = make_engine(url)
    factory = make_session_factory(engine)
    caller, sheet_id = admin_sheet(factory)
    with UnitOfWork(factory) as uow:
        started = time.perf_counter()
        result = usecases.import_rates(uow, caller, sheet_id, deck, replace=True)
        _report("replace, parse included", result.imported, result.removed, started)
    with UnitOfWork(factory) as uow:
        started = time.perf_counter()
        sheet = usecases.admin_sheet(uow, caller, sheet_id)
        result = usecases.load_rates(uow, sheet, rates, replace=False)
        _report("merge, parse excluded", result.imported, result.removed, started)
    with UnitOfWork(factory) as uow:
        count = uow.session.execute(
            select(func.count()).where(schema.Rate.sheet_id == sheet_id)
        ).scalar_one()
    assert count == ROWS, count  # a sanity check of the bench itself, not a timing
    engine.dispose()


def _report(label: str, imported: int, removed: int, started: float) -> None:
    seconds = time.perf_counter() - started
    print(
        f"   {label}: {imported:,} rows in {seconds:.1f} s, {imported / seconds:,.0f} rows/s"
        f" (removed {removed:,})"
    )


def run() -> None:
    started = time.perf_counter()
    deck = make_deck(ROWS)
    made = time.perf_counter() - started
    print(f"deck: {ROWS:,} rows, {len(deck) / 1e6:.0f} MB of CSV ({made:.1f} s to make)")
    started = time.perf_counter()
    rates = parse_rates_csv(deck)
    seconds = time.perf_counter() - started
    print(f"parse_rates_csv: {seconds:.1f} s, {ROWS / seconds:,.0f} rows/s")
    server = PostgresServer().start()
    try:
        pg_admin(server.url, 'CREATE DATABASE "bench"')
        url = pg_db_url(server.url, "bench")
        migrate.upgrade(url)
        print("PostgreSQL (COPY), through import_rates:")
        timed_import(url, deck, rates)
    finally:
        server.stop()
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'bench.db'}"
        migrate.upgrade(url)
        print("SQLite (executemany), through import_rates:")
        timed_import(url, deck, rates)
