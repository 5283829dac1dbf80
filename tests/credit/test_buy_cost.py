"""The operator's buy-cost row of a settled call (docs/credit_control.md, Settlement):
every column, since a charge with no account is read by profit reports, not by a
balance, and nothing else would notice a column left empty."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest
from sqlalchemy import select

from db.schema import Charge, Provider
from db.session import UnitOfWork
from services.cdr.usecases import Outcome
from tests.credit.test_authorize import auth, cdr, record

D = Decimal
Uow = Callable[[], UnitOfWork]

pytestmark = pytest.mark.usefixtures("demo")


class TestBuyCostRow:
    def test_the_operators_buy_cost_row_names_the_provider_sheet_and_prefix(self, uow: Uow) -> None:
        auth(uow, account="acct1001", uniqueid="buy.1")
        assert record(uow, cdr("buy.1", "acct1001", 125)) is Outcome.RATED
        with uow() as u:
            provider = u.session.scalars(select(Provider).where(Provider.id == 1)).one()
            buy = u.session.scalars(select(Charge).where(Charge.provider_id.is_not(None))).one()
            row = (buy.level, buy.account_id, buy.provider_id, buy.sheet_id, buy.prefix)
            assert row == (2, None, 1, provider.buy_sheet_id, "34")
            # 0.0080 a minute, per second: 125 s
            assert (buy.billed_seconds, buy.exact_cost, buy.cost) == (
                125,
                D("0.016667"),
                D("0.0167"),
            )
