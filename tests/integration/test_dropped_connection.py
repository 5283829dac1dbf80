"""No pool pre-ping (db/session.py): a connection PostgreSQL dropped is found out by the
call that uses it, and that call, having committed nothing, runs again on a new
connection, so the client never sees the drop."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url

from client import SiptarClient
from db.schema import Reservation
from db.session import UnitOfWork, commit_not_sent, commit_sent, make_engine
from tests.pgserver import pg_admin

pytestmark = [
    pytest.mark.integration,
    pytest.mark.usefixtures("demo"),
    pytest.mark.parametrize("backend", ["postgresql"], indirect=True),
]

Client = Callable[[str, str], SiptarClient]


def kill_every_connection(admin_url: str, database_url: str) -> None:
    """pg_terminate_backend on every session of the test's database (the server's pool)."""
    name = make_url(database_url).database
    pg_admin(
        admin_url,
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        f"WHERE datname = '{name}' AND pid <> pg_backend_pid()",
    )


def test_the_engine_does_not_ping_on_checkout(database_url: str) -> None:
    engine = make_engine(database_url)
    assert engine.pool._pre_ping is False
    engine.dispose()


def test_the_next_calls_work_after_the_backends_were_killed(
    client_for: Client, pg_admin_url: str, database_url: str
) -> None:
    alice = client_for("customer", "customer")
    reseller = client_for("reseller", "reseller")
    before = alice.billing.GetBalance().balance
    reseller.billing.GetBalance()
    kill_every_connection(pg_admin_url, database_url)
    assert alice.billing.GetBalance().balance == before
    kill_every_connection(pg_admin_url, database_url)
    # A write, too: run again once, so the payment is made exactly once.
    reseller.billing.AddPayment(account_id=3, amount=Decimal("1.50"), reference="after drop")
    assert alice.billing.GetBalance().balance == before + Decimal("1.50")
    answer = alice.billing.Authorize(
        call={"number": "34911234567", "account": "acct1001", "uniqueid": "drop.1"}
    )
    assert answer.allowed


def test_an_authorize_that_meets_a_dropped_connection_runs_again_once(
    client_for: Client, pg_admin_url: str, database_url: str, session_factory: Any
) -> None:
    # Authorize's first statement runs straight on the cursor (db/prepared_direct.py):
    # the drop must still be seen as one, and the call run again exactly once.
    alice = client_for("customer", "customer")
    call = {"number": "34911234567", "account": "acct1001"}
    assert alice.billing.Authorize(call={**call, "uniqueid": "warm"}).allowed
    kill_every_connection(pg_admin_url, database_url)
    answer = alice.billing.Authorize(call={**call, "uniqueid": "drop.2"})
    assert answer.allowed
    with session_factory() as s:
        held = s.scalars(select(Reservation).where(Reservation.uniqueid == "drop.2")).all()
    assert [r.id for r in held if r.parent_id is None] == [answer.reservation_id]


def test_a_unit_of_work_whose_statement_sent_its_commit_is_not_run_again(
    session_factory: Any,
) -> None:
    # call_hold.hold_and_commit sends the COMMIT in its statement's query string: a drop
    # during it may have committed, so the SOAP edge must not run the call again
    # (db/session.is_dropped_connection reads `commit_started`).
    with UnitOfWork(session_factory) as uow:
        assert not uow.commit_started
        commit_sent(uow.session)
        assert uow.commit_started
        commit_not_sent(uow.session)  # the statement failed before its COMMIT
        assert not uow.commit_started
