"""Every way a call's reservation closes gives its bundle hold back or turns it into
consumption (docs/bundles.md, "Holds"): in the credit tests, where mutation testing
(docs/mutation.md) looks for settlement's and expiry's rules. An account whose only
credit is 120 bundle seconds to Spain: Authorize holds all 120 on the counter."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from db.bundle_schema import BundleHold
from db.session import UnitOfWork
from services.bundles.counters import counters
from services.cdr.usecases import Outcome
from services.credit.authorize import AuthorizeRequest, authorize
from services.credit.expiry import expire_due, release_gone
from tests.bundles.builders import give_bundle
from tests.credit.builders import NOON, RESELLER_ID, customer
from tests.credit.test_authorize import cdr, record, reservations

Uow = Callable[[], UnitOfWork]

pytestmark = pytest.mark.usefixtures("demo")


@pytest.fixture
def held(uow: Uow) -> int:
    """The account, with its call `free.1` authorized and its 120 seconds held."""
    with uow() as u:
        account_id = customer(u, "Free", accountcode="free", credit_slice_seconds=60)
        give_bundle(u.session, RESELLER_ID, account_id, "Free Spain", 120, date(2026, 1, 1))
        u.commit()
    with uow() as u:
        a = authorize(u, None, AuthorizeRequest("34911234567", "free", uniqueid="free.1"), NOON)
    assert (a.allowed, a.max_seconds, a.reserved_seconds) == (True, 120, 120)
    assert counter(uow, account_id) == (0, 120, 1)  # one hold row, on the reservation
    return account_id


def counter(uow: Uow, account_id: int) -> tuple[int, int, int]:
    """(consumed, reserved) of the account's one counter, and how many hold rows are left."""
    with uow() as u:
        (c,) = counters(u.session, [account_id], NOON.date())[account_id]
        holds = u.session.scalar(select(func.count()).select_from(BundleHold))
        return c.consumed, c.reserved, int(holds or 0)


class TestABundleHoldWhenTheCallCloses:
    def test_a_rated_cdr_consumes_what_the_call_billed_and_holds_nothing(
        self, uow: Uow, held: int
    ) -> None:
        assert record(uow, cdr("free.1", "free", 45)) is Outcome.RATED
        assert counter(uow, held) == (48, 0, 0)  # 45 s on "30/6": 48 billed, all free
        assert {r.status for r in reservations(uow, held)} == {"settled"}

    def test_an_unrated_cdr_gives_the_whole_hold_back(self, uow: Uow, held: int) -> None:
        # The same channel's CDR, to a number no sheet prices: nothing is charged.
        assert record(uow, cdr("free.1", "free", 45, dst="99123456")) is Outcome.UNRATED
        assert counter(uow, held) == (0, 0, 0)
        assert {r.status for r in reservations(uow, held)} == {"released"}

    def test_a_channel_gone_gives_the_whole_hold_back(self, uow: Uow, held: int) -> None:
        with uow() as u:
            assert release_gone(u.session, ["free.1"]) == 1
            u.commit()
        assert counter(uow, held) == (0, 0, 0)

    def test_an_expired_reservation_gives_the_whole_hold_back(self, uow: Uow, held: int) -> None:
        with uow() as u:
            assert expire_due(u.session, NOON + timedelta(hours=1)) == 1
            u.commit()
        assert counter(uow, held) == (0, 0, 0)
