"""A simulated year: 1,000 subscriptions under a three-level tree, with starts and stops
mid-month, charged by daily runs of the job with an injected clock (no sleeping). Every
net charge equals an amount computed here independently, to the last digit, and every
balance equals its ledger."""

from __future__ import annotations

import calendar
import random
from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, cast

from sqlalchemy import Table, func, select
from sqlalchemy.orm import Session, sessionmaker

from db import bulk, ledger
from db.recurring_schema import RecurringCharge, Subscription
from db.schema import Account
from services.recurring import catalog
from services.recurring.charging import charge_due
from services.recurring.subscriptions import end_subscription
from tests.recurring.conftest import Tree

D = Decimal
YEAR = date(2027, 1, 1)
LAST = date(2027, 12, 31)
SERVICES = [  # (period, admin's price, R1's, R2's, R2's setup fee)
    ("monthly", "9.99", "11.37", "14.05", "2.00"),
    ("monthly", "31.00", "33.33", "40.01", "0"),
    ("weekly", "2.35", "2.41", "3.07", "0.50"),
    ("daily", "0.33", "0.35", "0.41", "0"),
    ("yearly", "120.00", "131.13", "150.00", "10.00"),
]


def _is_period_start(kind: str, first: date, billing_day: int, day: date) -> bool:
    dim = calendar.monthrange(day.year, day.month)[1]
    if kind == "daily":
        return True
    if kind == "weekly":
        return (day - first).days % 7 == 0
    if kind == "monthly":
        return day.day == min(billing_day, dim)
    return day.month == first.month and day.day == min(first.day, dim)


def expected_fees(kind: str, price: D, first: date, billing_day: int, end: date | None) -> D:
    """Walk day by day: find the period boundaries, then prorate each period."""
    total = D(0)
    period_start = first
    while not _is_period_start(kind, first, billing_day, period_start):
        period_start -= timedelta(days=1)
    while max(period_start, first) <= LAST and (end is None or period_start < end):
        period_end = period_start + timedelta(days=1)
        while not _is_period_start(kind, first, billing_day, period_end):
            period_end += timedelta(days=1)
        days = sum(
            1
            for n in range((period_end - period_start).days)
            if first <= period_start + timedelta(days=n)
            and (end is None or period_start + timedelta(days=n) < end)
        )
        share = price * days / (period_end - period_start).days
        total += share.quantize(D("0.01"), rounding=ROUND_HALF_UP)
        period_start = period_end
    return total


def _setup_year(tree: Tree, rng: random.Random) -> tuple[list[dict[str, Any]], list[int]]:
    admin, r1, r2 = (tree.caller(n) for n in ("admin", "R1", "R2"))
    service_ids = []
    with tree.uow() as u:
        for n, (kind, p0, p1, p2, setup) in enumerate(SERVICES):
            service = catalog.create_service(
                u, admin, catalog.NewService(f"S{n}", kind, D(p0), unpaid_policy="negative")
            )
            catalog.set_price(u, r1, service.id, D(p1), D(0))
            catalog.set_price(u, r2, service.id, D(p2), D(setup))
            service_ids.append(service.id)
        parent = u.session.get(Account, tree.ids["R2"])
        assert parent is not None
        accounts = cast(Table, Account.__table__)
        bulk.insert_rows(
            u.session,
            accounts,
            [
                {"parent_id": parent.id, "path": "", "role": "customer", "name": f"y{i}"}
                for i in range(1000)
            ],
        )
        ids = list(
            u.session.scalars(
                select(Account.id)
                .where(Account.parent_id == parent.id, Account.name.like("y%"))
                .order_by(Account.id)
            )
        )
        for i in ids:
            u.session.get(Account, i).path = f"{parent.path}{i}/"  # type: ignore[union-attr]
        ledger.post_many(u.session, dict.fromkeys(ids, D(5000)), "payment")
        plans = []
        for i in ids:
            n = rng.randrange(len(SERVICES))
            start = YEAR + timedelta(days=rng.randrange(300))
            end = start + timedelta(days=rng.randrange(1, 200)) if rng.random() < 0.4 else None
            plans.append(
                {
                    "account_id": i,
                    "service_id": service_ids[n],
                    "start": start,
                    "end": end,
                    "billing_day": rng.choice([start.day, 1, 15, 28, 29, 30, 31]),
                    "charged_through": start,
                    "status": "active",
                    "n": n,
                }
            )
        bulk.insert_rows(
            u.session,
            cast(Table, Subscription.__table__),
            [
                {("end_day" if k == "end" else k): v for k, v in p.items() if k != "n"}
                for p in plans
            ],
        )
        u.commit()
    return plans, ids


def test_a_simulated_year_charges_every_period_exactly_at_every_level(
    tree: Tree, session_factory: sessionmaker[Session]
) -> None:
    rng = random.Random(12)
    plans, ids = _setup_year(tree, rng)
    with session_factory() as s:
        by_account = {sub.account_id: sub.id for sub in s.scalars(select(Subscription))}
    # A quarter of the open-ended ones are unsubscribed mid-year, after being charged.
    stops: dict[date, list[dict[str, Any]]] = defaultdict(list)
    for p in plans:
        stop_on = p["start"] + timedelta(days=rng.randrange(20, 90))
        if p["end"] is None and rng.random() < 0.25 and stop_on <= LAST:
            p["end"] = stop_on + timedelta(days=rng.randrange(0, 20))
            stops[stop_on].append(p)
    day = YEAR
    while day <= LAST:
        now = datetime.combine(day, time(0, 30), UTC)
        charge_due(session_factory, now)
        if day.day == 1:
            assert charge_due(session_factory, now).rows == 0  # a rerun charges nothing
        with session_factory() as s:
            for p in stops.get(day, []):
                sub = s.get(Subscription, by_account[p["account_id"]])
                assert sub is not None
                end_subscription(s, sub, p["end"], now)
            s.commit()
        day += timedelta(days=1)

    totals = select(
        RecurringCharge.subscription_id, RecurringCharge.level, func.sum(RecurringCharge.amount)
    ).group_by(RecurringCharge.subscription_id, RecurringCharge.level)
    with session_factory() as s:
        net = {(sub, level): D(total) for sub, level, total in s.execute(totals)}
    wrong = []
    for p in plans:
        kind, *prices, setup = SERVICES[p["n"]]
        sub_id = by_account[p["account_id"]]
        for level, price in enumerate(reversed(prices)):  # C pays R2's, R2 R1's, R1 the admin's
            want = expected_fees(kind, D(price), p["start"], p["billing_day"], p["end"])
            if level == 0:
                want += D(setup)
            got = net.get((sub_id, level), D(0))
            if got != want:
                wrong.append((sub_id, level, kind, p["start"], p["end"], got, want))
    assert not wrong, wrong[:10]
    with session_factory() as s:
        for account_id, balance in s.execute(select(Account.id, Account.balance)).all():
            assert balance == ledger.ledger_sum(s, account_id), account_id
    assert len(plans) == 1000 and len(ids) == 1000
