"""Bundle seconds in Authorize: counted in the max duration and held like money, so
parallel calls can't each be promised the same last seconds.

50 Authorize requests at once over HTTP (SQLite and PostgreSQL) on an account whose only
credit is a bundle of 300 seconds (0.00 money) and whose calls last at most 60 s: five
calls get 60 s each, the rest InsufficientCredit. Every call is then settled (SettleCall
finds its reservation by the channel's uniqueid, as a CDR does): the counter has
consumed what the calls billed, holds nothing, and the ledger agrees."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from client import SiptarClient
from db import ledger
from db.bundle_schema import BundleCounter, BundleHold, BundleUse
from db.schema import Account, Reservation
from db.session import UnitOfWork
from services.bundles.counters import counters
from services.credit.authorize import AuthorizeRequest, authorize
from services.credit.expiry import expire_due
from services.credit.policy import CreditPolicy
from services.credit.slices import extend_due
from tests.bundles.builders import give_bundle
from tests.credit.builders import NOON, RESELLER_ID, customer
from tests.credit.test_slices import AST, answered

D = Decimal
CALLS = 50
Uow = Callable[[], UnitOfWork]


def with_bundle(u: UnitOfWork, name: str, seconds: int, **fields: object) -> int:
    account_id = customer(u, name, **fields)
    give_bundle(u.session, RESELLER_ID, account_id, f"{name} Spain", seconds, date(2026, 1, 1))
    u.commit()
    return account_id


def test_fifty_parallel_authorizations_share_300_bundle_seconds(
    uow: Uow, demo: None, server_url: str
) -> None:
    with uow() as u:
        # The whole call in one slice: no listener extends it here.
        account_id = with_bundle(
            u, "Free", 300, accountcode="free", max_call_seconds=60, credit_slice_seconds=600
        )
    clients = [SiptarClient(server_url, "admin", "admin", timeout=120) for _ in range(CALLS)]
    barrier = threading.Barrier(CALLS)

    def ask(i: int) -> Any:
        barrier.wait()
        call = {"number": "34911234567", "account": "free", "uniqueid": f"free.{i}"}
        return clients[i].billing.Authorize(call=call)

    with ThreadPoolExecutor(CALLS) as pool:
        answers = list(pool.map(ask, range(CALLS)))
    allowed = {i: a for i, a in enumerate(answers) if a.allowed}
    assert sum(a.max_seconds for a in allowed.values()) <= 300
    assert len(allowed) == 5 and {a.max_seconds for a in allowed.values()} == {60}
    assert {a.reserved for a in allowed.values()} == {D(0)}  # free: no money held
    assert {a.reason for a in answers if not a.allowed} == {"InsufficientCredit"}
    usage = clients[0].billing.GetBundleUsage(account_id=account_id)
    assert [(u.consumed, u.reserved, u.remaining) for u in usage.items] == [(0, 300, 0)]

    rng = random.Random(14)
    # 30/6: a call of 1..60 s bills 30..60, what it takes from the bundle.
    durations = {i: rng.randint(1, 60) for i in allowed}

    def settle(i: int) -> Any:
        return clients[i].billing.SettleCall(
            call={"uniqueid": f"free.{i}", "billsec": durations[i]}
        )

    with ThreadPoolExecutor(len(allowed)) as pool:
        settled = list(pool.map(settle, allowed))
    assert {s.reservation_status for s in settled} == {"settled"}
    assert {s.cost for s in settled} == {D(0)}
    billed = sum(max(30, -(-d // 6) * 6) for d in durations.values())
    with uow() as u:
        s = u.session
        counter = s.scalars(select(BundleCounter)).one()
        assert (counter.consumed, counter.reserved) == (billed, 0)
        assert s.scalar(select(func.sum(BundleUse.amount))) == billed
        assert s.scalar(select(func.count()).select_from(BundleHold)) == 0
        account = s.get(Account, account_id)
        assert account is not None and account.balance == ledger.ledger_sum(s, account_id) == 0
        reseller = s.get(Account, RESELLER_ID)
        assert reseller is not None and reseller.balance == ledger.ledger_sum(s, RESELLER_ID)
    left = clients[0].billing.GetBundleUsage(account_id=account_id).items[0]
    assert (left.consumed, left.reserved, left.remaining) == (billed, 0, 300 - billed)


def test_an_expired_reservation_gives_its_bundle_seconds_back(uow: Uow, demo: None) -> None:
    with uow() as u:
        account_id = with_bundle(u, "Lost", 120, accountcode="lost", credit_slice_seconds=60)
    with uow() as u:
        a = authorize(u, None, AuthorizeRequest("34911234567", "lost", uniqueid="lost.1"), NOON)
    # 120 free seconds, no money: the whole call is free, and held whole.
    assert (a.allowed, a.max_seconds, a.reserved, a.reserved_seconds) == (True, 120, 0, 120)
    with uow() as u:
        held = counters(u.session, [account_id], NOON.date())[account_id][0]
        assert (held.reserved, held.remaining) == (120, 0)
        reservation = u.session.get(Reservation, a.reservation_id)
        assert reservation is not None
        # The reservation lasts as long as its free part, not just the first slice.
        assert reservation.expires_at >= NOON + timedelta(seconds=120)
        refused = authorize(u, None, AuthorizeRequest("34911234567", "lost"), NOON)
        assert (refused.allowed, refused.reason) == (False, "InsufficientCredit")
    with uow() as u:
        assert expire_due(u.session, NOON + timedelta(hours=1)) == 1
        u.commit()
    with uow() as u:
        held = counters(u.session, [account_id], NOON.date())[account_id][0]
        assert (held.reserved, held.remaining) == (0, 120)
        again = authorize(
            u, None, AuthorizeRequest("34911234567", "lost"), NOON + timedelta(hours=1)
        )
        assert (again.allowed, again.max_seconds) == (True, 120)


def test_a_call_with_money_and_bundle_seconds_gets_both(uow: Uow, demo: None) -> None:
    """60 free seconds and 0.018 (one minute at 0.0180/min): a call of 120 s at most;
    only the paid minute's money is held."""
    with uow() as u:
        with_bundle(u, "Both", 60, credit=D("0.018"), accountcode="both", credit_slice_seconds=600)
    with uow() as u:
        a = authorize(u, None, AuthorizeRequest("34911234567", "both"), NOON)
    assert (a.allowed, a.max_seconds, a.reserved) == (True, 120, D("0.018"))


def test_the_listener_extends_a_bundled_call_past_its_free_part_with_its_money(
    uow: Uow, demo: None
) -> None:
    """60 free seconds, money for one more minute, one-minute slices: the first stretch
    is the free minute (nothing held); when it runs out the extension prices the rest
    past the held units, so the paid minute is granted. Priced from the call's start at
    the full sheet, the money would pay for the free minute again and the call would be
    cut when its bundle ends."""
    with uow() as u:
        with_bundle(u, "Ext", 60, credit=D("0.018"), accountcode="ext", credit_slice_seconds=60)
    with uow() as u:
        a = authorize(u, None, AuthorizeRequest("34911234567", "ext", uniqueid="ext.1"), NOON)
    assert (a.allowed, a.max_seconds, a.reserved_seconds, a.reserved) == (True, 120, 60, D(0))
    answered(uow, "ext.1")
    with uow() as u:
        done = extend_due(u.session, NOON + timedelta(seconds=30), CreditPolicy(), AST)
        u.commit()
    assert done.extended == {a.reservation_id: 120} and done.refused == []
    with uow() as u:
        row = u.session.get(Reservation, a.reservation_id)
        assert row is not None and row.amount == D("0.018")  # the paid minute only
        account = u.session.scalars(select(Account).where(Account.accountcode == "ext")).one()
        assert account.reserved == D("0.018")  # kept with the row (services/credit/holds.py)
