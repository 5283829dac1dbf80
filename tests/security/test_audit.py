"""The audit log: every change made through the services is recorded by the hook, with
who, which operation, which object and the changed fields; never a secret; readable by
the admin and by a reseller for its subtree."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from client import errors

pytestmark = pytest.mark.usefixtures("demo")


@pytest.fixture
def admin(client_for: Callable[[str, str], Any]) -> Any:
    return client_for("admin", "admin")


@pytest.fixture
def reseller(client_for: Callable[[str, str], Any]) -> Any:
    return client_for("reseller", "reseller")


def events(api: Any, **filters: Any) -> list[Any]:
    return list(api.reseller.ListAuditEvents(**filters).items or [])


def test_a_payment_is_recorded_with_who_and_the_ledger_row(admin: Any) -> None:
    admin.billing.AddPayment(account_id=5, amount=Decimal("12.5"), reference="cash")
    found = events(admin, operation="Billing.AddPayment", object_type="ledger")
    assert len(found) == 1
    event = found[0]
    assert (event.username, event.actor_account_id, event.action) == ("admin", 1, "insert")
    changes = json.loads(event.changes)
    assert changes["amount"] == [None, "12.500000"]
    assert changes["account_id"] == [None, 5]


def test_an_update_shows_before_and_after(reseller: Any) -> None:
    reseller.reseller.BlockAccount(account_id=3, reason="unpaid")
    (event,) = events(reseller, operation="Reseller.BlockAccount", object_type="accounts")
    assert event.object_id == "3"
    changes = json.loads(event.changes)
    assert changes["status"] == ["active", "blocked"]
    assert changes["status_reason"] == ["", "unpaid"]


def test_secrets_are_never_written(reseller: Any) -> None:
    reseller.reseller.CreateAccount(
        account={"name": "Dora", "username": "dora", "password": "dora-password-1"}
    )
    found = events(reseller, operation="Reseller.CreateAccount")
    assert {e.object_type for e in found} >= {"accounts", "logins"}
    text = " ".join(e.changes for e in found)
    assert "dora-password-1" not in text and "scrypt$" not in text
    (login,) = [e for e in found if e.object_type == "logins"]
    assert json.loads(login.changes)["password_hash"] == [None, "***"]


def test_a_reseller_reads_its_subtree_only_and_a_customer_nothing(
    admin: Any, reseller: Any, client_for: Callable[[str, str], Any]
) -> None:
    admin.billing.AddPayment(account_id=5, amount=Decimal(1), reference="carol, not yours")
    admin.billing.AddPayment(account_id=3, amount=Decimal(2), reference="alice, yours")
    mine = events(reseller, operation="Billing.AddPayment")
    assert [json.loads(e.changes)["account_id"][1] for e in mine] == [3]
    assert len(events(admin, operation="Billing.AddPayment")) == 2
    with pytest.raises(errors.AccessDenied):
        client_for("customer", "customer").reseller.ListAuditEvents()


def test_a_call_that_fails_leaves_no_event(admin: Any) -> None:
    before = admin.reseller.ListAuditEvents().total
    with pytest.raises(errors.InvalidInput):
        admin.billing.AddPayment(account_id=5, amount=Decimal(-1), reference="negative")
    page = admin.reseller.ListAuditEvents(limit=1)
    assert page.total == before


def test_an_authorize_writes_no_event_for_the_counters_it_keeps(admin: Any) -> None:
    # Authorize moves `accounts.reserved` and `trunks.open_calls` (services/credit/holds.py)
    # by statements: those counters are kept by code, like a balance by the ledger, and
    # the reservation rows are their record. An event per call was a round trip more.
    before = admin.reseller.ListAuditEvents().total
    answer = admin.billing.Authorize(call={"number": "34911234567", "account": "acct1001"})
    assert answer.allowed, answer.reason
    assert admin.reseller.ListAuditEvents().total == before
    # What somebody changes in the same tables is still recorded.
    admin.config.UpdateTrunk(trunk_id=1, changes={"channel_limit": 31})
    (event,) = events(admin, operation="Config.UpdateTrunk", object_type="trunks")
    assert json.loads(event.changes)["channel_limit"] == [30, 31]
