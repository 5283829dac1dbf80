"""On-net CDRs in the listener's batches, on both databases: who each call rang is
looked up for the whole batch in one statement (services/cdr/prefetch.py), and each is
charged at the on-net price with no provider cost, flagged with its callee."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest
from sqlalchemy import select, update

from db.ledger import ledger_sum
from db.schema import Account, Cdr, Charge
from db.session import UnitOfWork
from services.cdr.batches import store_batch
from services.cdr.commands import CdrRecord
from services.cdr.usecases import Outcome
from tests.integration.test_cdr_batches import counted, records
from tests.onnet.conftest import BOB_ID, BOB_PEER

pytestmark = pytest.mark.usefixtures("onnet")
Uow = Callable[[], UnitOfWork]
CAROL_PEER = "1003"


def on_net(n: int, peer: str) -> CdrRecord:
    """Alice's answered call n to `peer`'s SIP peer (records(0, 1) is answered)."""
    call = records(0, 1)[0]
    return replace(
        call,
        uniqueid=f"on.{n}",
        accountcode="acct1001",
        dst=peer,
        dstchannel=f"PJSIP/{peer}-{n:08x}",
        lastdata=f"PJSIP/{peer},30",
    )


def test_the_callees_of_a_batch_cost_one_statement_whatever_their_number(uow: Uow) -> None:
    with uow() as u:
        u.session.execute(
            update(Account).where(Account.accountcode == "acct1003").values(sip_username=CAROL_PEER)
        )
        u.commit()
        carol = u.session.scalars(select(Account.id).where(Account.accountcode == "acct1003")).one()
    with uow() as u:  # the first batch also compiles the rate sheets
        store_batch(u, [on_net(0, BOB_PEER)])
    with uow() as u, counted(u) as one:
        assert store_batch(u, [on_net(1, BOB_PEER)]) == [Outcome.RATED]
    calls = [on_net(n, BOB_PEER if n % 2 else CAROL_PEER) for n in range(2, 22)]
    with uow() as u, counted(u) as two:
        assert store_batch(u, calls) == [Outcome.RATED] * 20
    assert len(two) == len(one)  # was one statement more for the second callee
    with uow() as u:
        s = u.session
        rang = dict(s.execute(select(Cdr.uniqueid, Cdr.onnet_account_id)).all())
        assert rang == {f"on.{n}": BOB_ID if n % 2 or n < 2 else carol for n in range(22)}
        # No provider cost: every charge is an account's.
        assert s.scalars(select(Charge).where(Charge.account_id.is_(None))).all() == []
        assert all(a.balance == ledger_sum(s, a.id) for a in s.scalars(select(Account)))
