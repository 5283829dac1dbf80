"""The ordinary PostgreSQL Authorize sends its statements at SQLAlchemy's Core level
(db/core_execute.py): no ORM execution; and a Core statement still sees what the
session has pending, as the ORM's autoflush made it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from db.core_execute import execute_core
from db.schema import Account
from db.session import UnitOfWork
from services.credit import holds
from services.credit.authorize import AuthorizeRequest, authorize
from tests.credit.builders import ALICE_ID, NOON
from tests.credit.test_statement_count import on_postgresql

pytestmark = pytest.mark.usefixtures("demo")

Uow = Callable[[], UnitOfWork]
SPAIN = "34911234567"


def test_the_ordinary_postgresql_authorize_runs_no_orm_execution(uow: Uow) -> None:
    """Its two statements go to the session's connection at the Core level: the ORM's
    execution (its compile state, events and row loading) is skipped."""
    if not on_postgresql(uow):
        pytest.skip("the Core-level statements are PostgreSQL's two")
    orm_executions: list[object] = []

    def seen(state: Any) -> None:
        orm_executions.append(state.statement)

    for n in range(2):  # the first compiles the plans and loads the routes
        orm_executions.clear()
        with uow() as u:
            event.listen(u.session, "do_orm_execute", seen)
            req = AuthorizeRequest(SPAIN, "acct1001", uniqueid=f"core.{n}")
            assert authorize(u, None, req, NOON).allowed
    assert orm_executions == []


def test_a_core_statement_sees_what_the_session_has_pending(uow: Uow) -> None:
    """execute_core flushes pending ORM changes first, as session.execute's autoflush."""
    with uow() as u:
        s: Session = u.session
        alice_row = s.get(Account, ALICE_ID)
        assert alice_row is not None
        alice_row.name = "Alice renamed"
        found = execute_core(s, select(Account.name).where(Account.id == ALICE_ID), {})
        assert found.scalar_one() == "Alice renamed"


def test_the_ordinary_postgresql_authorize_looks_up_no_loaded_object(
    uow: Uow, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nothing is loaded in its session, so the counters its statements change are not
    looked up in the identity map (an identity key costs microseconds a row)."""
    if not on_postgresql(uow):
        pytest.skip("the session of PostgreSQL's ordinary Authorize holds no object")
    looked_up: list[object] = []
    monkeypatch.setattr(holds, "identity_key", lambda *key: looked_up.append(key))
    for n in range(2):  # the first compiles the plans and loads the routes
        with uow() as u:
            req = AuthorizeRequest(SPAIN, "acct1001", uniqueid=f"keys.{n}")
            assert authorize(u, None, req, NOON).allowed
    assert looked_up == []
