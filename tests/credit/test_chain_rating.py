"""Authorize rates the chain in one pass (services/credit/chain_rating.py): each level's
rate found by its max duration and by the one rating of its first slice, and a level
priced again only when a level above it cut the call below the slice it was priced at.
The holds are those of the rules (docs/credit_control.md), checked in figures; the
passes counted, not timed."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select, update

from db.schema import Account, Reservation
from db.session import UnitOfWork
from rating import RatingPlan
from services.credit.authorize import AuthorizeRequest, Reason, authorize
from services.credit.policy import CreditPolicy
from tests.credit.builders import ALICE_ID, NOON, RESELLER_ID
from tests.credit.test_statement_count import DEPTHS, chain_of

pytestmark = pytest.mark.usefixtures("demo")

D = Decimal
Uow = Callable[[], UnitOfWork]
SPAIN = "34911234567"
SLICES = CreditPolicy(slice_seconds=300)


def held(uow: Uow, reservation_id: int | None) -> list[tuple[int, int, Decimal]]:
    """(account, reserved_seconds, amount) of a call's rows, the customer's first."""
    with uow() as u:
        return [
            (r.account_id, r.reserved_seconds, r.amount)
            for r in u.session.execute(
                select(Reservation)
                .where(
                    (Reservation.id == reservation_id) | (Reservation.parent_id == reservation_id)
                )
                .order_by(Reservation.id)
            ).scalars()
        ]


def set_fields(uow: Uow, account_id: int, **values: object) -> None:
    with uow() as u:
        u.session.execute(update(Account).where(Account.id == account_id).values(**values))
        u.commit()


def alice(uow: Uow, uniqueid: str) -> tuple[int, int, int | None]:
    with uow() as u:
        a = authorize(u, None, AuthorizeRequest(SPAIN, "acct1001", uniqueid=uniqueid), NOON, SLICES)
    assert a.allowed, a
    return a.max_seconds, a.reserved_seconds, a.reservation_id


def test_each_level_holds_a_slice_at_its_own_price(uow: Uow) -> None:
    # Alice 0.0180/min, her reseller 0.0120/min: 300 s hold 0.0900 and 0.0600.
    most, reserved, call = alice(uow, "cr.1")
    assert (most, reserved) == (10800, 300)
    assert held(uow, call) == [(ALICE_ID, 300, D("0.0900")), (RESELLER_ID, 300, D("0.0600"))]


def test_a_resellers_cap_under_the_slice_reprices_the_customers_hold(uow: Uow) -> None:
    # Alice was priced at a 300 s slice before her reseller's cap of 120 s cut the call:
    # both levels hold 120 s, Alice's at her own price (0.0180 x 2), not 300 s of it.
    set_fields(uow, RESELLER_ID, max_call_seconds=120)
    most, reserved, call = alice(uow, "cr.2")
    assert (most, reserved) == (120, 120)
    assert held(uow, call) == [(ALICE_ID, 120, D("0.0360")), (RESELLER_ID, 120, D("0.0240"))]


def test_a_resellers_credit_under_the_slice_reprices_the_customers_hold(uow: Uow) -> None:
    # The reseller's 0.0300 pays for 150 s at 0.0120/min (a second per second: the demo
    # sheets bill per second), under the slice: Alice holds 150 s at her price too.
    set_fields(uow, RESELLER_ID, balance=D("0.0300"))
    most, reserved, call = alice(uow, "cr.3")
    assert (most, reserved) == (150, 150)
    assert held(uow, call) == [(ALICE_ID, 150, D("0.0450")), (RESELLER_ID, 150, D("0.0300"))]


@pytest.fixture
def ratings(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, int]]:
    """How many times the plans' `find_rate` and `rate_call` run (the engine's own calls
    of them included)."""
    seen = {"find_rate": 0, "rate_call": 0}
    for name in seen:
        original = getattr(RatingPlan, name)

        def counted(self: RatingPlan, *args: Any, _o: Any = original, _n: str = name) -> Any:
            seen[_n] += 1
            return _o(self, *args)

        monkeypatch.setattr(RatingPlan, name, counted)
    yield seen


def test_each_level_is_rated_once(uow: Uow, ratings: dict[str, int]) -> None:
    """A level more in the chain is one max duration and one rating of its first slice:
    its rate found twice (once by each), where the two passes found it three times and
    rated the slice in the second."""
    with uow() as u:
        codes = {depth: chain_of(u, depth) for depth in DEPTHS}
    per_depth = {}
    for depth, code in codes.items():
        for n in range(2):  # the first compiles the plans
            ratings.update(find_rate=0, rate_call=0)
            with uow() as u:
                req = AuthorizeRequest(SPAIN, code, uniqueid=f"{code}.r{n}")
                assert authorize(u, None, req, NOON, SLICES).allowed
        per_depth[depth] = dict(ratings)
    for depth in DEPTHS:
        assert per_depth[depth]["find_rate"] - per_depth[0]["find_rate"] == 2 * depth
        assert per_depth[depth]["rate_call"] - per_depth[0]["rate_call"] == depth


@pytest.mark.parametrize("who", [ALICE_ID, RESELLER_ID])
def test_a_level_without_a_sheet_refuses_the_call_naming_the_customer(uow: Uow, who: int) -> None:
    # No sheet at a level, the customer's or a reseller's: nothing prices the call there.
    set_fields(uow, who, rate_sheet_id=None)
    with uow() as u:
        a = authorize(u, None, AuthorizeRequest(SPAIN, "acct1001", uniqueid="ns.1"), NOON, SLICES)
    assert (a.allowed, a.reason, a.account_id) == (False, Reason.NO_RATE, ALICE_ID)


def test_a_destination_without_rate_at_a_level_refuses_the_call_naming_the_customer(
    uow: Uow,
) -> None:
    # The demo sheets price Spain and a few more; nothing prices 888 at any level.
    with uow() as u:
        a = authorize(u, None, AuthorizeRequest("88812345", "acct1001"), NOON, SLICES)
    assert (a.allowed, a.reason, a.account_id) == (False, Reason.NO_RATE, ALICE_ID)


def test_a_cap_of_one_second_allows_a_one_second_call(uow: Uow) -> None:
    # A cap is not credit (docs/credit_control.md): a call capped under the minimum call
    # is allowed for the cap, down to a single second.
    set_fields(uow, ALICE_ID, max_call_seconds=1)
    with uow() as u:
        a = authorize(u, None, AuthorizeRequest(SPAIN, "acct1001", uniqueid="one.1"), NOON, SLICES)
    assert (a.allowed, a.max_seconds, a.reserved_seconds) == (True, 1, 1), a.reason
