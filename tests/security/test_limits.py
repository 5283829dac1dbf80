"""Out-of-range numbers answer `Client.InvalidInput`, with one limit on both databases,
and change nothing."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy.orm import Session

from client import errors
from db.ledger import ledger_sum
from db.schema import Account

pytestmark = pytest.mark.usefixtures("demo")
BIG = Decimal("999999999999")  # the largest whole amount Numeric(18, 6) holds


@pytest.fixture
def admin(client_for: Callable[[str, str], Any]) -> Any:
    return client_for("admin", "admin")


def test_an_offset_of_ten_to_the_23_is_invalid_input(admin: Any) -> None:
    with pytest.raises(errors.InvalidInput, match="offset"):
        admin.reseller.ListAccounts(offset=10**23)


def test_an_account_id_of_ten_to_the_20_is_invalid_input(admin: Any) -> None:
    with pytest.raises(errors.InvalidInput, match="account_id"):
        admin.billing.GetBalance(account_id=10**20)
    with pytest.raises(errors.InvalidInput, match="account_id"):
        admin.billing.GetBalance(account_id=2**31)
    with pytest.raises(errors.NotFound):
        admin.billing.GetBalance(account_id=2**31 - 1)


def test_an_amount_over_the_column_is_invalid_input(admin: Any) -> None:
    with pytest.raises(errors.InvalidInput, match="amount"):
        admin.billing.AddPayment(account_id=5, amount=Decimal("1e13"), reference="x")


def test_a_balance_that_would_overflow_is_refused_and_nothing_changes(
    admin: Any, session_factory: Callable[[], Session]
) -> None:
    admin.billing.AddPayment(account_id=5, amount=BIG, reference="first")
    with pytest.raises(errors.InvalidInput, match="out of range"):
        admin.billing.AddPayment(account_id=5, amount=BIG, reference="second")
    with session_factory() as s:
        account = s.get(Account, 5)
        assert account is not None
        assert account.balance == ledger_sum(s, 5) < 2 * BIG


def test_a_markup_making_an_out_of_range_price_is_refused(
    client_for: Callable[[str, str], Any],
) -> None:
    reseller = client_for("reseller", "reseller").reseller
    reseller.SetRates(sheet_id=4, csv="prefix,price\n999,1.5\n", force=True)
    with pytest.raises(errors.InvalidInput, match="out of range"):
        reseller.CopySheet(source_sheet_id=4, name="Greedy", markup_per_minute=BIG)
    assert "Greedy" not in [s.name for s in reseller.ListSheets().items]


def test_a_reservation_id_is_a_64_bit_id(admin: Any) -> None:
    call = {"uniqueid": "u-64", "billsec": 0, "account_id": 3, "number": "34911234567"}
    with pytest.raises(errors.NotFound):
        admin.billing.SettleCall(call={**call, "reservation_id": 2**40})
    with pytest.raises(errors.SchemaValidationError):  # xs:long is its own limit
        admin.billing.SettleCall(call={**call, "reservation_id": 2**63})
