"""What currency conversion costs: pure conversions per second (rating/fx.py, a table
of 10 pairs x 1,000 rates), and the listener's batch path (services/cdr/batches.py,
batches of 200) for CDRs of a USD customer on its USD sheet against CDRs of a EUR
customer on the same sheet (every charge converted), on SQLite and PostgreSQL."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select

from bench.backends import on_both
from db import ledger, migrate
from db.currency_schema import ExchangeRateRow
from db.ledger import ledger_sum
from db.schema import Account
from db.session import UnitOfWork, make_engine, make_session_factory
from rating.fx import ExchangeRate, FxTable
from services.cdr.batches import store_batch
from services.cdr.commands import CdrRecord
from services.common.demo import load_demo
from tests.currency.calls import spain_call

CONVERSIONS = 200_000
CDRS = 4_000
BATCH = 200
START = datetime(2026, 1, 1, tzinfo=UTC)
CODES = ("EUR", "GBP", "CHF", "JPY", "SEK", "NOK", "DKK", "PLN", "CZK", "HUF")


def _pure() -> None:
    rates = [
        ExchangeRate("USD", code, Decimal(100 + day).scaleb(-2), START + timedelta(days=day))
        for code in CODES
        for day in range(1000)
    ]
    table = FxTable(rates, {})
    moments = [START + timedelta(hours=7 * n) for n in range(1000)]
    amount = Decimal("0.0378")
    started = time.perf_counter()
    for n in range(CONVERSIONS):
        table.convert(amount, "USD", CODES[n % 10], moments[n % 1000])
    elapsed = time.perf_counter() - started
    print(
        f"   pure: {CONVERSIONS / elapsed:,.0f} conversions/s "
        f"({elapsed / CONVERSIONS * 1e6:.1f} us each, bisect over 1,000 rates a pair)",
        flush=True,
    )


def _record(n: int, accountcode: str) -> CdrRecord:
    return spain_call(f"fx.{accountcode}.{n}", accountcode, START + timedelta(days=200, seconds=n))


def _one(label: str, url: str) -> None:
    migrate.upgrade(url)
    engine = make_engine(url)
    factory = make_session_factory(engine)
    with UnitOfWork(factory) as u:
        load_demo(u)
        s = u.session
        alice = s.get(Account, 3)
        assert alice is not None
        eve = Account(
            parent_id=alice.parent_id,
            role="customer",
            name="Eve",
            currency="EUR",
            rate_sheet_id=alice.rate_sheet_id,
            accountcode="acct-eur",
        )
        s.add(eve)
        s.flush()
        eve.path = f"{alice.path.rsplit('/', 2)[0]}/{eve.id}/"
        ledger.post(s, eve.id, "payment", Decimal(1000), reference="bench")
        ledger.post(s, alice.id, "payment", Decimal(1000), reference="bench")
        s.add(
            ExchangeRateRow(
                from_currency="USD", to_currency="EUR", rate=Decimal("0.9"), valid_from=START
            )
        )
        u.commit()
    figures = {}
    for code in ("acct1001", "acct-eur"):
        with UnitOfWork(factory) as u:  # warm: the sheets compiled, the rates loaded
            store_batch(u, [_record(n, code) for n in range(CDRS, CDRS + BATCH)])
        started = time.perf_counter()
        for first in range(0, CDRS, BATCH):
            with UnitOfWork(factory) as u:
                store_batch(u, [_record(n, code) for n in range(first, first + BATCH)])
        figures[code] = CDRS / (time.perf_counter() - started)
    with factory() as s:
        balanced = all(a.balance == ledger_sum(s, a.id) for a in s.scalars(select(Account)))
        accounts = s.execute(select(func.count(Account.id))).scalar_one()
    engine.dispose()
    same, converted = figures["acct1001"], figures["acct-eur"]
    print(
        f"   {label:<10} batch path: same currency {same:,.0f} CDRs/s, converted "
        f"{converted:,.0f} CDRs/s ({(same / converted - 1) * 100:+.1f} % time); "
        f"balances = ledger for all {accounts} accounts: {balanced}",
        flush=True,
    )


def run() -> None:
    _pure()
    on_both("bench-fx-", _one)
