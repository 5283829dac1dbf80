"""`accounts.reserved` (kept by a trigger: db/reserved_triggers.py) always equals the
sum of the account's open reservations, whatever writes them: a seeded random mix of
Authorize, settlement (SettleCall), release of gone channels, expiry and the listener's
slice extension, on both databases."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from db.schema import Account, LiveCall, Reservation
from db.session import UnitOfWork
from rating.money import ZERO
from services.credit.authorize import AuthorizeRequest, authorize
from services.credit.calls import SettleCommand, settle_call
from services.credit.expiry import expire_due, release_gone
from services.credit.policy import CreditPolicy
from services.credit.slices import extend_due
from tests.credit.builders import NOON, customer
from tests.credit.test_slices import ADMIN, AST

pytestmark = pytest.mark.usefixtures("demo")

Uow = Callable[[], UnitOfWork]
NUMBERS = ("34911234567", "4930123456", "447700900123")
STEPS = 120
SLICE = CreditPolicy(slice_seconds=60)


def mismatches(uow: Uow) -> dict[int, tuple[Decimal, Decimal]]:
    """Accounts whose `reserved` is not the sum of their open reservations."""
    with uow() as u:
        sums = dict(
            u.session.execute(
                select(Reservation.account_id, func.sum(Reservation.amount))
                .where(Reservation.status == "open")
                .group_by(Reservation.account_id)
            ).all()
        )
        kept = dict(u.session.execute(select(Account.id, Account.reserved)).all())
    return {
        a: (kept[a], Decimal(sums.get(a) or ZERO))
        for a in kept
        if kept[a] != Decimal(sums.get(a) or ZERO)
    }


def test_reserved_equals_the_open_reservations_after_a_random_mix(uow: Uow) -> None:
    rng = random.Random(16)
    with uow() as u:
        codes = [
            f"mix{n}"
            for n in range(6)
            if customer(u, f"mix{n}", accountcode=f"mix{n}", credit=Decimal("3.00"))
        ]
    now = NOON
    live: list[str] = []
    ops = {"authorize": 0, "settle": 0, "release": 0, "expire": 0, "extend": 0}
    for step in range(STEPS):
        now += timedelta(seconds=rng.randint(1, 40))
        op = rng.choices(list(ops), weights=(5, 2, 1, 1, 2))[0]
        with uow() as u:
            if op == "authorize":
                req = AuthorizeRequest(rng.choice(NUMBERS), rng.choice(codes), uniqueid=f"m.{step}")
                if authorize(u, None, req, now, SLICE).allowed:
                    live.append(req.uniqueid)
                    u.session.add(
                        LiveCall(
                            uniqueid=req.uniqueid,
                            channel=f"PJSIP/1001-{step}",
                            state="up",
                            started_at=now,
                            answered_at=now,
                            asterisk=AST,
                            seen_at=now,
                        )
                    )
                    u.commit()
                    ops[op] += 1
            elif op == "settle" and live:
                uniqueid = live.pop(rng.randrange(len(live)))
                settle_call(u, ADMIN, SettleCommand(uniqueid, rng.randint(0, 200)))
                ops[op] += 1
            elif op == "release" and live:
                uniqueid = live.pop(rng.randrange(len(live)))
                release_gone(u.session, [uniqueid])
                u.commit()
                ops[op] += 1
            elif op == "expire":
                expire_due(u.session, now + timedelta(minutes=rng.randint(0, 20)))
                u.commit()
                ops[op] += 1
            elif op == "extend":
                extend_due(u.session, now, SLICE, AST)
                u.commit()
                ops[op] += 1
        assert mismatches(uow) == {}, (step, op)
    assert all(ops.values()), ops  # every writer took part
