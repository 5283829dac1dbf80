"""Authorize's locked chain read as plain rows (services/credit/levels.py): no ORM
`Account` entity is built for it on PostgreSQL's one statement, the levels hold what the
account rows hold, and an `Account` loaded earlier in the same unit of work still sees
the `reserved` Authorize changed (demo data, both databases)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import event

from db.schema import Account
from db.session import UnitOfWork
from services.credit.authorize import AuthorizeRequest, authorize
from services.credit.chain_lock import lock_chain
from services.credit.levels import COLUMNS, Level
from tests.credit.builders import ALICE_ID, NOON, RESELLER_ID

pytestmark = pytest.mark.usefixtures("demo")

Uow = Callable[[], UnitOfWork]
NUMBER = "34911234567"


@pytest.fixture
def account_loads() -> Iterator[list[int]]:
    """The ids of the `Account` entities the ORM builds while the test runs."""
    loaded: list[int] = []

    def _load(target: Any, _context: Any) -> None:
        loaded.append(target.id)

    event.listen(Account, "load", _load)
    yield loaded
    event.remove(Account, "load", _load)


def test_postgresql_authorize_builds_no_account_entity(uow: Uow, account_loads: list[int]) -> None:
    with uow() as u:
        if u.session.get_bind().dialect.name != "postgresql":
            pytest.skip("the one identify-and-lock statement is PostgreSQL's")
        answer = authorize(u, None, AuthorizeRequest(NUMBER, "acct1001", uniqueid="l.1"), NOON)
    assert answer.allowed, answer
    assert account_loads == []


def test_the_levels_hold_the_account_rows_fields(uow: Uow) -> None:
    with uow() as u:
        alice = u.session.get(Account, ALICE_ID)
        assert alice is not None
        chain = lock_chain(u.session, alice, NOON).chain
        assert [a.id for a in chain] == [ALICE_ID, RESELLER_ID]
        for level in chain:
            assert isinstance(level, Level)
            row = u.session.get(Account, level.id)
            assert row is not None
            for column in COLUMNS:
                assert getattr(level, column.key) == getattr(row, column.key), column.key


def test_an_account_loaded_before_authorize_sees_the_new_reserved(uow: Uow) -> None:
    with uow() as u:
        alice = u.session.get(Account, ALICE_ID)
        assert alice is not None
        before = alice.reserved
        answer = authorize(u, None, AuthorizeRequest(NUMBER, "acct1001", uniqueid="l.2"), NOON)
        assert answer.allowed, answer
        assert alice.reserved == before + answer.reserved
