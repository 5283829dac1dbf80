"""Revision 0022 (maintained holds) computes `accounts.reserved` and `trunks.open_calls`
from the reservations already open, and those calls settle as before after it.

The reservations are written by real Authorize calls, then the schema is taken down to
0013c (the columns are dropped) and up again: the upgrade has only the rows to go on."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest
from sqlalchemy import select

from db import migrate
from db.schema import Account, Trunk
from db.session import UnitOfWork, make_engine, make_session_factory
from services.cdr.usecases import record_cdr
from services.common.demo import load_demo
from services.credit.authorize import AuthorizeRequest, authorize
from services.credit.expiry import release_gone
from tests.credit.builders import NOON
from tests.credit.test_authorize import cdr
from tests.credit.test_holds import drift
from tests.integration.test_migrations import empty_url  # noqa: F401  (a fixture)

pytestmark = pytest.mark.integration


def test_the_upgrade_computes_what_open_calls_hold(empty_url: str) -> None:  # noqa: F811
    migrate.upgrade(empty_url)
    engine = make_engine(empty_url)
    factory = make_session_factory(engine)

    def uow() -> UnitOfWork:
        return UnitOfWork(factory)

    with uow() as u:
        load_demo(u)
        u.commit()
    for n in range(4):
        with uow() as u:
            answer = authorize(
                u, None, AuthorizeRequest("34911234567", "acct1001", uniqueid=f"m.{n}"), NOON
            )
        assert answer.allowed, answer
    with uow() as u:
        release_gone(u.session, ["m.3"])  # not open any more: not counted
        u.commit()
    before = _holds(uow)
    assert before[0][3] > 0 and before[1][1] == 3
    engine.dispose()

    migrate.downgrade(empty_url, "0013c")
    migrate.upgrade(empty_url)

    engine = make_engine(empty_url)
    factory = make_session_factory(engine)
    try:
        assert _holds(uow) == before
        assert drift(uow) == []
        with uow() as u:  # a call authorized before the upgrade settles after it
            record_cdr(u, cdr("m.0", "acct1001", 30))
        assert drift(uow) == []
        assert _holds(uow)[1][1] == 2
    finally:
        engine.dispose()


def _holds(uow: Callable[[], UnitOfWork]) -> tuple[dict[int, Decimal], dict[int, int]]:
    with uow() as u:
        reserved = dict(u.session.execute(select(Account.id, Account.reserved)).all())
        calls = dict(u.session.execute(select(Trunk.id, Trunk.open_calls)).all())
    return reserved, calls
