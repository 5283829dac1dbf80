"""A SOAP call sends no statement of its own around its use case once its caller is
cached: no login read, no throttle count, no audit event for the counters Authorize
keeps (docs/soap_cost.md). Counted, not timed, on both databases, against the same
calls made in process through the use case."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

from db.session import UnitOfWork
from services.common import runtime_settings
from services.credit.authorize import AuthorizeRequest, authorize
from services.credit.policy import DEFAULT_POLICY

pytestmark = pytest.mark.usefixtures("demo")

SPAIN = "34911234567"


@contextmanager
def counted() -> Iterator[list[str]]:
    """Every statement any engine of this process sends meanwhile (the test server runs
    in a thread of this process), but SQLite's `BEGIN IMMEDIATE` (db/session.py), which
    PostgreSQL's driver sends without telling."""
    seen: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if not statement.startswith("BEGIN"):
            seen.append(" ".join(statement.split())[:120])

    event.listen(Engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(Engine, "before_cursor_execute", count)


def test_a_cached_caller_costs_no_statement(client_for: Callable[[str, str], Any]) -> None:
    admin = client_for("admin", "admin")
    admin.billing.GetBalance()  # the full check, recorded, and cached
    with counted() as seen:
        admin.billing.GetBalance()
    assert len(seen) == 1, seen  # the account's row, read by the use case


def test_authorize_over_soap_sends_what_the_use_case_sends(
    client_for: Callable[[str, str], Any], uow: Callable[[], UnitOfWork]
) -> None:
    admin = client_for("admin", "admin")
    for n in range(2):  # the caller cached, the plans compiled
        admin.billing.Authorize(call={"number": SPAIN, "account": "acct1001", "uniqueid": f"w{n}"})
    with counted() as over_soap:
        answer = admin.billing.Authorize(
            call={"number": SPAIN, "account": "acct1001", "uniqueid": "soap"}
        )
    assert answer.allowed, answer.reason

    def direct(uniqueid: str) -> None:
        with uow() as u:
            # As services/billing/credit_service.py calls it: with the settings in force.
            policy = runtime_settings.RuntimePolicy(DEFAULT_POLICY)
            answer = authorize(
                u, None, AuthorizeRequest(SPAIN, "acct1001", uniqueid=uniqueid), policy=policy
            )
            assert answer.allowed, answer

    # This engine's caches (routes per engine, plans) warmed like the server's were.
    direct("warm")
    with counted() as in_process:
        direct("direct")
    assert len(over_soap) == len(in_process), (over_soap, in_process)
    # The settings' stamp (the policy's check) is read by the chain's lock statement, not
    # by a statement of its own.
    assert not [s for s in over_soap if s.startswith("SELECT config_versions")], over_soap
