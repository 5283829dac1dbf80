"""The maintained holds (services/credit/holds.py) never drift: after a seeded random
mix of every writer of reservations (Authorize, settlement one CDR at a time and in the
listener's batches, unrated CDRs, release of gone channels, expiry, slice extension),
every account's `reserved` equals the sum of its open reservations and every trunk's
`open_calls` the count of its open calls, on both databases; and writers running at
once on PostgreSQL, each in the one lock order, never deadlock."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select, update

from db.schema import Account, LiveCall, Reservation, Trunk
from db.session import UnitOfWork
from services.cdr.batches import store_batch
from services.cdr.usecases import record_cdr
from services.credit.authorize import AuthorizeRequest, authorize
from services.credit.expiry import expire_due, release_gone
from services.credit.policy import CreditPolicy
from services.credit.slices import extend_due
from tests.credit.builders import NOON, customer
from tests.credit.test_authorize import cdr
from tests.credit.test_slices import AST, answered

pytestmark = pytest.mark.usefixtures("demo")

D = Decimal
Uow = Callable[[], UnitOfWork]
POLICY = CreditPolicy(slice_seconds=60)
NUMBERS = ("34911234567", "34611222333", "4930123456")


def drift(uow: Uow) -> list[str]:
    """Every account and trunk whose maintained value is not what the rows say."""
    with uow() as u:
        s = u.session
        held = dict(
            s.execute(
                select(Reservation.account_id, func.sum(Reservation.amount))
                .where(Reservation.status == "open")
                .group_by(Reservation.account_id)
            ).all()
        )
        calls = dict(
            s.execute(
                select(Reservation.trunk_id, func.count())
                .where(Reservation.status == "open", Reservation.parent_id.is_(None))
                .group_by(Reservation.trunk_id)
            ).all()
        )
        wrong = [
            f"account {a}: reserved {r}, open rows {held.get(a, D(0))}"
            for a, r in s.execute(select(Account.id, Account.reserved))
            if r != held.get(a, D(0))
        ]
        wrong += [
            f"trunk {t}: open_calls {n}, open calls {calls.get(t, 0)}"
            for t, n in s.execute(select(Trunk.id, Trunk.open_calls))
            if n != calls.get(t, 0)
        ]
    return wrong


def open_calls(uow: Uow) -> list[tuple[str, datetime]]:
    with uow() as u:
        rows = u.session.execute(
            select(Reservation.uniqueid, Reservation.created_at).where(
                Reservation.status == "open", Reservation.parent_id.is_(None)
            )
        ).all()
    return [(r.uniqueid, r.created_at) for r in rows]


def customers(uow: Uow) -> list[str]:
    """Customers of the reseller and of the admin, and one two levels down."""
    with uow() as u:
        customer(u, "H1", accountcode="h1", credit=D(5))
        customer(u, "H2", accountcode="h2", credit=D("0.40"))
        customer(u, "H3", accountcode="h3", parent_id=1, sheet_id=3, credit=D(3))
        sub = customer(u, "Sub", parent_id=2, credit=D(20))
        u.session.execute(update(Account).where(Account.id == sub).values(role="reseller"))
        u.commit()
        customer(u, "H4", accountcode="h4", parent_id=sub, credit=D(2))
        # A few channels only: calls are refused for the channel limit too.
        u.session.execute(update(Trunk).values(channel_limit=4))
        u.commit()
    return ["h1", "h2", "h3", "h4", "acct1001"]


def test_a_random_mix_of_every_writer_leaves_no_drift(uow: Uow) -> None:
    codes = customers(uow)
    rng = random.Random(16)
    clock = NOON
    seq = 0
    for step in range(80):
        clock += timedelta(seconds=rng.randint(5, 40))
        what = rng.choice(
            ["authorize"] * 4 + ["settle", "batch", "unrated", "release", "expire", "extend"]
        )
        live = open_calls(uow)
        if what == "authorize" or not live:
            seq += 1
            req = AuthorizeRequest(rng.choice(NUMBERS), rng.choice(codes), uniqueid=f"h.{seq}")
            with uow() as u:
                authorize(u, None, req, clock, POLICY)
        elif what in ("settle", "unrated"):
            uniqueid, _ = rng.choice(live)
            dst = "34911234567" if what == "settle" else "not a number"
            with uow() as u:
                record_cdr(u, cdr(uniqueid, "", rng.randint(0, 200), dst=dst))
        elif what == "batch":
            picked = rng.sample(live, min(len(live), rng.randint(1, 4)))
            with uow() as u:
                store_batch(u, [cdr(uid, "", rng.randint(1, 120)) for uid, _ in picked])
        elif what == "release":
            with uow() as u:
                release_gone(u.session, [uid for uid, _ in rng.sample(live, 1)])
                u.commit()
        elif what == "expire":
            with uow() as u:  # the calls of the first minutes are long overdue by then
                expire_due(u.session, clock + timedelta(minutes=rng.randint(5, 12)))
                u.commit()
        else:  # extend: the call answered at its start, 40 s into its 60 s slice
            uniqueid, started = rng.choice(live)
            with uow() as u:
                known = u.session.get(LiveCall, uniqueid) is not None
            if not known:
                answered(uow, uniqueid, int((started - NOON).total_seconds()))
            with uow() as u:
                extend_due(u.session, started + timedelta(seconds=40), POLICY, AST)
                u.commit()
        assert drift(uow) == [], (step, what)
    with uow() as u:  # the mix did reach every writer
        statuses = set(u.session.scalars(select(Reservation.status).distinct()))
        extended = u.session.scalar(select(func.count()).where(Reservation.reserved_seconds > 60))
    assert statuses == {"open", "settled", "released", "expired"}
    assert extended


def test_writers_at_once_never_deadlock_and_leave_no_drift(uow: Uow, backend: str) -> None:
    """Authorize (customer-first locks) against the listener's batches (many accounts)
    and expiry, from 6 threads: a transaction that locked in another order would wait in
    a cycle, and PostgreSQL would abort one with a deadlock error."""
    if backend != "postgresql":
        pytest.skip("SQLite serialises every writer (BEGIN IMMEDIATE): no row locks")
    codes = customers(uow)
    with uow() as u:
        u.session.execute(update(Trunk).values(channel_limit=None))
        u.commit()
    errors: list[BaseException] = []
    stop = threading.Event()

    def caller(n: int) -> None:
        rng = random.Random(n)
        for i in range(40):
            req = AuthorizeRequest(rng.choice(NUMBERS), rng.choice(codes), uniqueid=f"c{n}.{i}")
            with uow() as u:
                authorize(u, None, req, NOON, POLICY)

    def settler(n: int) -> None:
        rng = random.Random(100 + n)
        while not stop.is_set():
            live = open_calls(uow)
            picked = rng.sample(live, min(len(live), 6))
            with uow() as u:
                store_batch(u, [cdr(uid, "", rng.randint(1, 60)) for uid, _ in picked])
            with uow() as u:
                expire_due(u.session, NOON + timedelta(minutes=rng.choice([0, 20])))
                u.commit()

    def guarded(work: Callable[[int], None], n: int) -> None:
        try:
            work(n)
        except BaseException as exc:  # a deadlock surfaces here as a DBAPI error
            errors.append(exc)

    with ThreadPoolExecutor(6) as pool:
        settlers = [pool.submit(guarded, settler, n) for n in range(2)]
        callers = [pool.submit(guarded, caller, n) for n in range(4)]
        for f in callers:
            f.result()
        stop.set()
        for f in settlers:
            f.result()
    assert errors == []
    assert drift(uow) == []
