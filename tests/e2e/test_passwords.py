"""ChangePassword (own login) and SetPassword (a login below you) over real HTTP with
zeep, on both databases; passwords never reach the logs."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest

from client import SiptarClient, errors

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("demo")]

Client = Callable[[str, str], SiptarClient]
NEW = "a-new-secret-42"


class TestChangePassword:
    def test_a_customer_changes_its_own_and_only_the_new_one_works(
        self, client_for: Client, caplog: pytest.LogCaptureFixture
    ) -> None:
        caplog.set_level(logging.DEBUG)
        alice = client_for("customer", "customer")
        done = alice.billing.ChangePassword(current="customer", new=NEW)
        assert (done.username, done.account_id) == ("customer", 3)
        with pytest.raises(errors.AuthenticationFailed):
            client_for("customer", "customer").billing.GetBalance()
        assert client_for("customer", NEW).billing.GetBalance().account_id == 3
        leaks = {r.name for r in caplog.records if NEW in r.getMessage()}
        assert leaks <= {"zeep.transports"}, leaks  # the client's own debug, not the server
        assert any("customer changed its password" in r.getMessage() for r in caplog.records)

    def test_the_current_password_must_be_right_and_the_new_one_long_enough(
        self, client_for: Client
    ) -> None:
        alice = client_for("customer", "customer")
        with pytest.raises(errors.AccessDenied):
            alice.billing.ChangePassword(current="not-the-password", new=NEW)
        with pytest.raises(errors.InvalidInput):
            alice.billing.ChangePassword(current="customer", new="short")
        with pytest.raises(errors.InvalidInput):
            alice.billing.ChangePassword(current="customer", new=" spaced-out ")
        assert alice.billing.GetBalance().account_id == 3  # unchanged


class TestSetPassword:
    def test_a_reseller_sets_its_customers_password(
        self, client_for: Client, caplog: pytest.LogCaptureFixture
    ) -> None:
        caplog.set_level(logging.DEBUG)
        reseller = client_for("reseller", "reseller")
        assert reseller.reseller.SetPassword(username="customer", password=NEW).account_id == 3
        assert client_for("customer", NEW).billing.GetBalance().account_id == 3
        leaks = {r.name for r in caplog.records if NEW in r.getMessage()}
        assert leaks <= {"zeep.transports"}, leaks

    def test_nobody_sets_a_password_above_or_beside_itself(self, client_for: Client) -> None:
        reseller = client_for("reseller", "reseller")
        with pytest.raises(errors.NotFound):
            reseller.reseller.SetPassword(username="admin", password=NEW)
        with pytest.raises(errors.NotFound):
            reseller.reseller.SetPassword(username="carol", password=NEW)  # the admin's
        with pytest.raises(errors.AccessDenied):
            reseller.reseller.SetPassword(username="reseller", password=NEW)  # its own
        with pytest.raises(errors.AccessDenied):
            client_for("customer", "customer").reseller.SetPassword(username="bob", password=NEW)
        assert client_for("admin", "admin").billing.GetBalance().account_id == 1

    def test_the_admin_sets_anybodys_below_it(self, client_for: Client) -> None:
        admin = client_for("admin", "admin")
        admin.reseller.SetPassword(username="reseller", password=NEW)
        assert client_for("reseller", NEW).reseller.ListAccounts().total >= 2
