"""The operator's buy-cost row of a settled call (docs/credit_control.md, Settlement):
every column, since a charge with no account is read by profit reports, not by a
balance, and nothing else would notice a column left empty."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select, update

from db.schema import Cdr, Charge, Provider, RateSheet, Reservation, Trunk
from db.session import UnitOfWork
from services.cdr.batches import store_batch
from services.cdr.usecases import Outcome
from services.credit.expiry import expire_reservations
from services.currency.usecases import RateCommand, set_exchange_rate
from tests.credit.builders import NOON, trunk
from tests.credit.test_authorize import auth, cdr, record
from tests.credit.test_slices import ADMIN

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

    def test_a_buy_sheet_in_another_currency_keeps_its_own_amount_beside_the_converted_one(
        self, uow: Uow
    ) -> None:
        """docs/currencies.md: the provider's row is in the operator's currency (USD),
        and says what it was in the sheet's (EUR) and at which rate: the rate in force
        when the call began, not a later one."""
        with uow() as u:  # the demo provider's buy sheet priced in EUR
            u.session.execute(
                update(RateSheet)
                .where(RateSheet.id == 1)
                .values(currency="EUR", version=RateSheet.version + 1)
            )
            u.commit()
        for rate, valid_from in [("0.90", NOON.replace(hour=0)), ("0.80", NOON + timedelta(1))]:
            with uow() as u:  # the rate of the call's day, and the next day's
                set_exchange_rate(u, ADMIN, RateCommand("USD", "EUR", D(rate), valid_from))
        assert record(uow, cdr("buy.eur", "acct1001", 125)) is Outcome.RATED
        with uow() as u:
            buy = u.session.scalars(select(Charge).where(Charge.provider_id.is_not(None))).one()
            # 0.0167 EUR (125 s at 0.0080 a minute) at 1 / 0.90 = 0.018555.. USD
            assert (buy.cost, buy.sheet_currency, buy.sheet_cost, buy.fx_rate) == (
                D("0.0186"),
                "EUR",
                D("0.0167"),
                D("1.1111111111"),
            )


class TestBuyCostPerProvider:
    def test_a_batch_prices_each_call_at_its_own_providers_buy_sheet(self, uow: Uow) -> None:
        with uow() as u:
            cheap = trunk(u, "cheap", {"34": "0.0060"})  # a provider of its own
            cheap_provider = u.session.get(Trunk, cheap).provider_id  # type: ignore[union-attr]
        calls = [
            cdr("p.1", "acct1001", 60, dstchannel="PJSIP/carrier1-00000001"),
            cdr("p.2", "acct1001", 60, dstchannel="PJSIP/cheap-00000002"),
            cdr("p.3", "acct1001", 60, dstchannel="PJSIP/carrier1-00000003"),
        ]
        with uow() as u:
            assert store_batch(u, calls) == [Outcome.RATED] * 3
        with uow() as u:
            rows = u.session.execute(
                select(Cdr.uniqueid, Charge.provider_id, Charge.cost)
                .join(Charge, Charge.cdr_id == Cdr.id)
                .where(Charge.provider_id.is_not(None))
                .order_by(Cdr.uniqueid)
            ).all()
        assert [tuple(r) for r in rows] == [
            ("p.1", 1, D("0.0080")),
            ("p.2", cheap_provider, D("0.0060")),
            ("p.3", 1, D("0.0080")),
        ]

    def test_a_provider_without_a_buy_sheet_gives_no_buy_cost_and_says_so(
        self, uow: Uow, caplog: pytest.LogCaptureFixture
    ) -> None:
        with uow() as u:
            bare = trunk(u, "bare", {"34": "0.0060"})
            found = u.session.get(Trunk, bare)
            assert found is not None
            provider = u.session.get(Provider, found.provider_id)
            assert provider is not None
            provider.buy_sheet_id = None
            u.commit()
        with caplog.at_level(logging.WARNING, logger="services.credit.settlement"):
            rec = cdr("bare.1", "acct1001", 60, dstchannel="PJSIP/bare-00000001")
            assert record(uow, rec) is Outcome.RATED
        assert "trunk bare: its provider has no buy sheet; no buy cost" in caplog.messages
        with uow() as u:
            stored = u.session.scalars(select(Cdr)).one()
            assert stored.trunk_id == bare
            levels = u.session.scalars(select(Charge.level).order_by(Charge.level)).all()
            assert levels == [0, 1]  # the customer and the reseller; no provider row


class TestExpiryClock:
    def test_expiry_without_a_time_uses_the_clock(self, uow: Uow) -> None:
        auth(uow, account="acct1001", uniqueid="old.1")  # at NOON, long past
        with uow() as u:
            assert expire_reservations(u) == 1
        with uow() as u:
            statuses = set(u.session.scalars(select(Reservation.status)).all())
        assert statuses == {"expired"}
