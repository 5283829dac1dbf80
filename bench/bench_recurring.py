"""The monthly run of the recurring-charges job for 100,000 subscriptions on
PostgreSQL: 100,000 customers under a two-reseller tree, each with one DID-like monthly
service (a provider cost too), so each period is 4 charge rows and 3 ledger rows per
subscription. Prints the seconds and rows/s of the first period's run and of the next
month's. One transaction per batch of 1,000 subscriptions.

Set SIPTAR_BENCH_SUBSCRIPTIONS to try another size."""

from __future__ import annotations

import os
import time
from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import func, select

from db import migrate
from db.recurring_schema import RecurringCharge
from db.schema import Account, Provider
from db.session import UnitOfWork, make_engine, make_session_factory
from services.common.caller import Caller
from services.recurring import catalog
from services.recurring.bulk_setup import customers_with_subscriptions
from services.recurring.charging import charge_due
from tests.pgserver import PostgresServer, pg_admin, pg_db_url

COUNT = int(os.environ.get("SIPTAR_BENCH_SUBSCRIPTIONS", "100000"))
D = Decimal


def _account(uow: UnitOfWork, role: str, parent: Account | None) -> Account:
    account = Account(role=role, name=role, path="", parent_id=parent.id if parent else None)
    if role == "reseller":
        account.billing_type, account.credit_limit = "postpaid", D(10**9)
    uow.session.add(account)
    uow.session.flush()
    account.path = f"{parent.path if parent else '/'}{account.id}/"
    return account


def setup(url: str) -> None:
    engine = make_engine(url)
    with UnitOfWork(make_session_factory(engine)) as uow:
        admin = _account(uow, "admin", None)
        r1 = _account(uow, "reseller", admin)
        r2 = _account(uow, "reseller", r1)
        provider = Provider(name="numbers")
        uow.session.add(provider)
        uow.session.flush()
        caller = Caller(0, "admin", admin.id, "admin", admin.path)
        new = catalog.NewService(
            "Number rent", "monthly", D("5.00"), provider_id=provider.id, cost_price=D("1.25")
        )
        service = catalog.create_service(uow, caller, new)
        for seller, price in ((r1, "6.10"), (r2, "7.35")):
            catalog.set_price(
                uow, Caller(0, "r", seller.id, "reseller", seller.path), service.id, D(price), D(0)
            )
        customers_with_subscriptions(uow.session, r2, service.id, COUNT, date(2027, 1, 1), D(1000))
        uow.commit()
    engine.dispose()


def timed(url: str, now: datetime, label: str) -> None:
    engine = make_engine(url)
    factory = make_session_factory(engine)
    started = time.perf_counter()
    report = charge_due(factory, now)
    seconds = time.perf_counter() - started
    with factory() as s:
        rows = s.scalar(select(func.count()).select_from(RecurringCharge))
    engine.dispose()
    print(
        f"{label}: {report.periods:,} periods, {report.rows:,} charge rows in "
        f"{report.batches} batches: {seconds:.1f} s ({report.rows / seconds:,.0f} rows/s; "
        f"{report.periods / seconds:,.0f} subscriptions/s); {rows:,} rows in the table"
    )


def run() -> None:
    server = PostgresServer().start()
    try:
        pg_admin(server.url, 'CREATE DATABASE "bench"')
        url = pg_db_url(server.url, "bench")
        migrate.upgrade(url)
        started = time.perf_counter()
        setup(url)
        print(
            f"setup: {COUNT:,} customers and subscriptions in {time.perf_counter() - started:.1f} s"
        )
        timed(url, datetime(2027, 1, 1, 0, 5, tzinfo=UTC), "first period (January)")
        timed(url, datetime(2027, 2, 1, 0, 5, tzinfo=UTC), "monthly run (February)")
        started = time.perf_counter()
        timed(url, datetime(2027, 2, 1, 0, 10, tzinfo=UTC), "rerun (nothing due)")
    finally:
        server.stop()
