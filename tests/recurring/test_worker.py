"""The job worker: leases, run records, and exactly-once under two workers and SIGKILL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from db import ledger
from db.recurring_schema import JobRun, RecurringCharge
from db.schema import Account
from services.jobs.registry import Job, Registry, default_registry
from services.jobs.worker import Worker
from services.recurring import catalog
from services.recurring.bulk_setup import customers_with_subscriptions
from services.recurring.charging import charge_due
from settings import Settings
from tests.recurring.conftest import Tree

D = Decimal
ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2027, 1, 1, tzinfo=UTC)


class Wall:
    """An injected wall clock for the leases."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


def test_the_registry_takes_jobs_of_the_agreed_shape_and_refuses_a_duplicate_name() -> None:
    def job(factory: sessionmaker, now: datetime, settings: Settings) -> str:
        return "done"

    registry = Registry([Job("a", timedelta(minutes=1), job)])
    with pytest.raises(ValueError, match="registered already"):
        registry.register(Job("a", timedelta(minutes=5), job))
    assert registry.names() == ["a"]
    assert set(default_registry().names()) >= {
        "recurring-charges",
        "reservation-expiry",
        "invoices",
        "outbox",
    }


def test_a_lease_keeps_a_second_worker_out_until_it_expires(
    session_factory: sessionmaker[Session],
) -> None:
    wall = Wall()
    started = threading.Event()
    finish = threading.Event()
    seen: list[datetime] = []

    def slow(factory: sessionmaker, now: datetime, settings: Settings) -> str:
        seen.append(now)
        started.set()
        finish.wait(10)
        return "slow done"

    registry = Registry([Job("slow", timedelta(minutes=1), slow)])
    settings = Settings(job_lease_seconds=60)
    first = Worker(session_factory, registry, settings, clock=lambda: T0, wall=wall, holder="w1")
    second = Worker(session_factory, registry, settings, clock=lambda: T0, wall=wall, holder="w2")
    thread = threading.Thread(target=first.run, args=(registry.get("slow"),))
    thread.start()
    assert started.wait(10)
    assert second.run(registry.get("slow")).status == "busy"
    wall.now = T0 + timedelta(seconds=61)  # w1 froze: its lease ran out
    finish.set()
    thread.join()
    assert second.run(registry.get("slow"), now=T0).status == "ok"
    assert len(seen) == 2


def test_each_run_is_recorded_with_its_summary_or_its_error(
    session_factory: sessionmaker[Session],
) -> None:
    def ok(factory: sessionmaker, now: datetime, settings: Settings) -> str:
        return f"ran for {now.date()}"

    def broken(factory: sessionmaker, now: datetime, settings: Settings) -> str:
        raise RuntimeError("disk on fire")

    registry = Registry(
        [Job("ok", timedelta(hours=1), ok), Job("broken", timedelta(hours=1), broken)]
    )
    wall = Wall()
    worker = Worker(session_factory, registry, Settings(), clock=lambda: T0, wall=wall)
    results = {r.job: r.status for r in worker.run_due()}
    assert results == {"ok": "ok", "broken": "error"}
    wall.now += timedelta(minutes=10)
    assert {r.job: r.status for r in worker.run_due()} == {"ok": "not-due", "broken": "error"}
    with session_factory() as s:
        runs = s.scalars(select(JobRun).order_by(JobRun.id)).all()
    broken = ("broken", "error")
    assert [(r.job, r.status) for r in runs] == [("ok", "ok"), broken, broken]
    assert runs[0].summary == "ran for 2027-01-01" and runs[0].ended_at is not None
    assert runs[1].error == "RuntimeError: disk on fire"


def _many(tree: Tree, count: int, price: str = "10.00") -> int:
    with tree.uow() as u:
        service = catalog.create_service(
            u, tree.caller("admin"), catalog.NewService("Line rent", "monthly", D(price))
        )
        parent = u.session.get(Account, tree.ids["R2"])
        assert parent is not None
        customers_with_subscriptions(
            u.session, parent, service.id, count, date(2026, 12, 1), D(100)
        )
        u.commit()
        return service.id


def _fees(factory: sessionmaker[Session]) -> tuple[int, int]:
    """(fee rows, distinct keys) of level 0."""
    with factory() as s:
        rows = s.scalar(
            select(func.count()).where(RecurringCharge.what == "fee", RecurringCharge.level == 0)
        )
        keys = s.scalar(
            select(func.count(func.distinct(RecurringCharge.subscription_id))).where(
                RecurringCharge.what == "fee",
                RecurringCharge.level == 0,
                RecurringCharge.period_start == date(2027, 1, 1),
            )
        )
    return int(rows or 0), int(keys or 0)


def _balances_equal_ledgers(factory: sessionmaker[Session]) -> None:
    with factory() as s:
        for account_id, balance in s.execute(select(Account.id, Account.balance)).all():
            assert balance == ledger.ledger_sum(s, account_id), account_id


def _pg_only(backend: str) -> None:
    if backend != "postgresql":
        pytest.skip("two processes at one moment: the PostgreSQL case (SQLite is one writer)")


def test_two_charging_runs_at_the_same_moment_without_leases_charge_each_fee_once(
    backend: str, tree: Tree, session_factory: sessionmaker[Session]
) -> None:
    """The unique key alone, with the lease out of the way: two threads, one moment."""
    _pg_only(backend)
    _many(tree, 1500)
    barrier = threading.Barrier(2)

    def run() -> None:
        barrier.wait()
        charge_due(session_factory, datetime(2027, 1, 1, 0, 0, 1, tzinfo=UTC))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # December (setup day) and January: two periods per subscription.
    assert _fees(session_factory) == (3000, 1500)
    _balances_equal_ledgers(session_factory)


def _worker(url: str, *extra: str, lease: int = 120) -> subprocess.Popen[str]:
    env = {**os.environ, "SIPTAR_DATABASE_URL": url, "SIPTAR_JOB_LEASE_SECONDS": str(lease)}
    return subprocess.Popen(
        [sys.executable, "-m", "cli", "worker", "--once", "--job", "recurring-charges", *extra],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def test_two_worker_processes_started_at_one_moment_over_a_period_boundary_charge_once(
    backend: str, database_url: str, tree: Tree, session_factory: sessionmaker[Session]
) -> None:
    _pg_only(backend)
    _many(tree, 2000)
    charge_due(session_factory, datetime(2026, 12, 31, 23, 59, tzinfo=UTC))  # December done
    procs = [_worker(database_url, "--now", "2027-01-01T00:00:01Z") for _ in range(2)]
    outputs = [p.communicate(timeout=300)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    assert _fees(session_factory) == (4000, 2000)
    _balances_equal_ledgers(session_factory)


def test_a_worker_killed_mid_run_and_restarted_charges_each_fee_once(
    backend: str, database_url: str, tree: Tree, session_factory: sessionmaker[Session]
) -> None:
    _pg_only(backend)
    _many(tree, 6000)
    first = _worker(database_url, "--now", "2027-01-01T00:00:01Z", lease=2)
    deadline = time.monotonic() + 120
    while _fees(session_factory)[0] == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    first.send_signal(signal.SIGKILL)
    first.wait(30)
    done, _ = _fees(session_factory)
    assert 0 < done < 12000, "the kill should land between two batches"
    time.sleep(2.5)  # the dead worker's lease runs out
    second = _worker(database_url, "--now", "2027-01-01T00:00:01Z", lease=2)
    out = second.communicate(timeout=300)[0]
    assert second.returncode == 0, out
    assert _fees(session_factory) == (12000, 6000)
    _balances_equal_ledgers(session_factory)
