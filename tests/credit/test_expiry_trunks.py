"""Expiry's parts the other expiry tests leave open (found by mutation testing,
docs/mutation.md): the expiry job gives an overdue call's channel back to its trunk
(`trunks.open_calls`, holds.py), not only its money (`_close` 46: the job's trunks'
part never applied), and more overdue calls than two statements take are all closed
(`_close` 19: overlapping chunks of 1,000 stepping by one reached row 1,999 at most)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import select

from db.schema import Trunk
from db.session import UnitOfWork
from services.credit.expiry import expire_reservations
from tests.credit import test_expiry_rules
from tests.credit.builders import ALICE_ID, NOON, route, trunk
from tests.credit.test_authorize import auth, reservations

Uow = Callable[[], UnitOfWork]

pytestmark = pytest.mark.usefixtures("demo")


def open_calls(uow: Uow, trunk_id: int) -> int:
    with uow() as u:
        return u.session.execute(select(Trunk.open_calls).where(Trunk.id == trunk_id)).scalar_one()


def call_on_a_trunk(uow: Uow, uniqueid: str) -> int:
    """Alice's call to Spain on a trunk of its own, which it holds one channel of."""
    with uow() as u:
        spain = trunk(u, "spain", {"34": "0.0060"}, channel_limit=5)
        route(u, "34", "lcr", [(spain, 0, 1)])
    auth(uow, account="acct1001", uniqueid=uniqueid)
    assert open_calls(uow, spain) == 1
    return spain


def test_the_expiry_job_gives_an_overdue_calls_channel_back_to_its_trunk(uow: Uow) -> None:
    spain = call_on_a_trunk(uow, "job.1")
    with uow() as u:
        assert expire_reservations(u, NOON + timedelta(days=1)) == 1
    assert open_calls(uow, spain) == 0
    assert {r.status for r in reservations(uow, ALICE_ID)} == {"expired"}


class TestTwoThousandCalls(test_expiry_rules.TestManyCallsAtOnce):
    """The same, past two statements' worth of rows."""

    CALLS = 2000
