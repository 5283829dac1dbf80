"""SettleCall over HTTP: the switch reports a finished call without AMI."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from client.errors import AccessDenied, InvalidInput, NotFound

D = Decimal


class TestSettleCall:
    def test_a_settled_call_is_charged_once_and_releases_its_reservation(
        self, client_for: Callable[[str, str], Any], demo: None
    ) -> None:
        api = client_for("admin", "admin")
        a = api.billing.Authorize(call={"number": "34911234567", "account": "acct1001"})
        assert api.billing.GetBalance(account_id=3).reserved == D("0.09")  # a 5-minute slice
        call = {"uniqueid": "sw.1", "reservation_id": a.reservation_id, "billsec": 125}
        settled = api.billing.SettleCall(call={**call, "trunk_id": 1})
        assert (settled.outcome, settled.cost, settled.reservation_status) == (
            "rated",
            D("0.0378"),
            "settled",
        )
        again = api.billing.SettleCall(call=call)
        assert (again.outcome, again.cdr_id) == ("duplicate", settled.cdr_id)
        balance = api.billing.GetBalance(account_id=3)
        assert (balance.balance, balance.reserved) == (D("9.9622"), D(0))
        (cdr,) = api.cdr.ListCdrs(account_id=3).items
        assert (cdr.uniqueid, cdr.cost) == ("sw.1", D("0.0378"))

    def test_a_call_without_reservation_needs_its_account_and_number(
        self, client_for: Callable[[str, str], Any], demo: None
    ) -> None:
        api = client_for("admin", "admin")
        with pytest.raises(InvalidInput):
            api.billing.SettleCall(call={"uniqueid": "sw.2", "billsec": 60})
        done = api.billing.SettleCall(
            call={"uniqueid": "sw.2", "billsec": 60, "account_id": 5, "number": "4930123456"}
        )
        assert (done.outcome, done.account_id, done.reservation_id) == ("rated", 5, None)
        with pytest.raises(NotFound):
            api.billing.SettleCall(call={"uniqueid": "sw.3", "billsec": 1, "reservation_id": 99})
        with pytest.raises(AccessDenied):
            client_for("reseller", "reseller").billing.SettleCall(
                call={"uniqueid": "sw.4", "billsec": 1, "account_id": 3, "number": "34911"}
            )
