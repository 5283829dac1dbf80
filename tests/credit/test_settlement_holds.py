"""What settling a call gives back (docs/credit_control.md, Settlement; holds.py: an
account's `reserved` is the sum of its open reservations): every level's row of the
call is closed, so the reseller's hold goes too, not only the customer's, and the
trunk's channel is free again; a call released because its channel was gone is still
settled by its late CDR. Found by mutation testing (docs/mutation.md, `close_reservations`
44, 46: only the customer's row read under the locks left the reseller's money reserved
for good)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest
from sqlalchemy import select

from db.schema import Account, Cdr
from db.session import UnitOfWork
from services.cdr.batches import store_batch
from services.cdr.usecases import Outcome
from services.credit.expiry import release_gone
from tests.credit.builders import ALICE_ID, RESELLER_ID
from tests.credit.test_authorize import auth, cdr, record, reservations
from tests.credit.test_expiry_trunks import call_on_a_trunk, open_calls

Uow = Callable[[], UnitOfWork]

pytestmark = pytest.mark.usefixtures("demo")


def reserved(uow: Uow) -> dict[int, Decimal]:
    with uow() as u:
        return {a: r for a, r in u.session.execute(select(Account.id, Account.reserved))}


def held_by_reseller(uow: Uow) -> Decimal:
    return reserved(uow)[RESELLER_ID]


def test_a_settled_call_frees_what_it_held_at_every_level(uow: Uow) -> None:
    before = reserved(uow)
    auth(uow, account="acct1001", uniqueid="lv.1")
    assert held_by_reseller(uow) > before[RESELLER_ID]  # the call holds at both levels
    assert record(uow, cdr("lv.1", "acct1001", 60)) is Outcome.RATED
    assert reserved(uow) == before
    assert {r.status for r in reservations(uow, ALICE_ID)} == {"settled"}
    assert {r.status for r in reservations(uow, RESELLER_ID)} == {"settled"}


def test_a_batch_frees_what_each_call_held_at_every_level(uow: Uow) -> None:
    before = reserved(uow)
    for uniqueid in ("lv.2", "lv.3"):
        auth(uow, account="acct1001", uniqueid=uniqueid)
    with uow() as u:
        calls = [cdr("lv.2", "acct1001", 60), cdr("lv.3", "acct1001", 0)]
        assert store_batch(u, calls) == [Outcome.RATED] * 2
    assert reserved(uow) == before


def test_a_settled_call_gives_its_channel_back_to_its_trunk(uow: Uow) -> None:
    """`close_reservations` 81: the customer's row's trunk dropped kept the channel busy."""
    spain = call_on_a_trunk(uow, "tr.1")
    assert record(uow, cdr("tr.1", "acct1001", 60)) is Outcome.RATED
    assert open_calls(uow, spain) == 0


def test_a_call_released_because_its_channel_was_gone_is_settled_by_its_late_cdr(
    uow: Uow,
) -> None:
    """`_open_reservations` 15: a released reservation never found again by its CDR."""
    before = reserved(uow)
    auth(uow, account="acct1001", uniqueid="late.1")
    with uow() as u:
        assert release_gone(u.session, ["late.1"]) == 1
        u.commit()
    assert record(uow, cdr("late.1", "acct1001", 60)) is Outcome.RATED
    with uow() as u:
        cdr_id = u.session.scalars(select(Cdr.id).where(Cdr.uniqueid == "late.1")).one()
    (held,) = reservations(uow, ALICE_ID)
    assert (held.status, held.cdr_id) == ("settled", cdr_id)
    assert reserved(uow) == before  # its money freed once, when it was released
