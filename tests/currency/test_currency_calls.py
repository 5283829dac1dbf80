"""The issue's test: a customer charged in EUR on a USD sheet, under a reseller in USD
(demo data: operator and Reseller One in USD, provider 1 buys in USD), over SOAP and
on both databases. Each level's charge and profit exact in its own currency, at the
rate in force at the call's start; balance = ledger for every account.

Spain (34), 125 s: retail 0.0180/min "30/6" (126 s billed) = 0.0378 USD; wholesale
0.0120 "30/6" = 0.0252 USD; the provider 0.0080 per second = 0.016666.. = 0.0167 USD.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select, update

from client.errors import NoExchangeRate
from db.schema import Account, Cdr, Charge, LedgerEntry, RateSheet
from db.session import UnitOfWork
from services.cdr.batches import store_batch
from services.cdr.usecases import Outcome
from tests.currency.calls import spain_call

D = Decimal
RESELLER_RETAIL = 4  # the demo sheet "Reseller One retail" (USD), owned by Reseller One
T0 = datetime(2026, 11, 1, tzinfo=UTC)
T1 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)  # the second rate starts here
BEFORE, AFTER = T1 - timedelta(hours=1), T1 + timedelta(hours=1)


def customer(reseller: Any, name: str, currency: str, credit: str) -> int:
    created = reseller.reseller.CreateAccount(
        account={
            "name": name,
            "username": f"{name.lower()}-login",
            "password": "secret-password",
            "rate_sheet_id": RESELLER_RETAIL,
            "currency": currency,
            "initial_credit": D(credit),
            "accountcode": f"acct-{name.lower()}",
        }
    )
    assert created.currency == currency
    return int(created.id)


def settle(admin: Any, uniqueid: str, account_id: int, answer: datetime) -> Any:
    return admin.billing.SettleCall(
        call={
            "uniqueid": uniqueid,
            "billsec": 125,
            "account_id": account_id,
            "number": "34911234567",
            "answer": answer,
            "trunk_id": 1,
        }
    )


def charges(u: UnitOfWork, uniqueid: str) -> list[tuple[Any, ...]]:
    rows = u.session.execute(
        select(
            Charge.level,
            Charge.account_id,
            Charge.cost,
            Charge.sheet_currency,
            Charge.sheet_cost,
            Charge.fx_rate,
            Charge.operator_cost,
        )
        .join(Cdr, Cdr.id == Charge.cdr_id)
        .where(Cdr.uniqueid == uniqueid)
        .order_by(Charge.account_id.is_(None), Charge.level)
    ).all()
    return [tuple(r) for r in rows]


def assert_balance_is_ledger_everywhere(u: UnitOfWork) -> None:
    sums = dict(
        u.session.execute(
            select(LedgerEntry.account_id, func.sum(LedgerEntry.amount)).group_by(
                LedgerEntry.account_id
            )
        ).all()
    )
    for account_id, balance in u.session.execute(select(Account.id, Account.balance)):
        assert balance == sums.get(account_id, D(0)), account_id


@pytest.fixture
def world(client_for: Callable[[str, str], Any], demo: None) -> tuple[Any, Any, int]:
    admin, reseller = client_for("admin", "admin"), client_for("reseller", "reseller")
    admin.config.SetExchangeRate(
        from_currency="USD", to_currency="EUR", rate=D("0.90"), valid_from=T0
    )
    admin.config.SetExchangeRate(
        from_currency="USD", to_currency="EUR", rate=D("0.80"), valid_from=T1
    )
    return admin, reseller, customer(reseller, "Eve", "EUR", "10")


class TestEurCustomerOnUsdSheet:
    def test_each_level_is_charged_in_its_own_currency_at_the_rate_of_the_calls_start(
        self, world: tuple[Any, Any, int], uow: Callable[[], UnitOfWork]
    ) -> None:
        admin, reseller, eve = world
        first, second = settle(admin, "fx.1", eve, BEFORE), settle(admin, "fx.2", eve, AFTER)
        # 0.0378 USD at 0.90 = 0.03402 -> 0.0340 EUR; at 0.80 = 0.03024 -> 0.0302 EUR.
        assert (first.outcome, first.cost) == ("rated", D("0.0340"))
        assert (second.outcome, second.cost) == ("rated", D("0.0302"))
        with uow() as u:
            # customer: EUR, the sheet's USD amount and the rate beside it, and its worth
            # in the operator's USD (0.0340 / 0.90 = 0.03777.. -> 0.0378; 0.0302 / 0.80
            # = 0.03775 -> 0.0378, half up); the reseller and the provider in USD.
            assert charges(u, "fx.1") == [
                (0, eve, D("0.034"), "USD", D("0.0378"), D("0.9"), D("0.0378")),
                (1, 2, D("0.0252"), None, None, None, None),
                (2, None, D("0.0167"), None, None, None, None),
            ]
            assert charges(u, "fx.2") == [
                (0, eve, D("0.0302"), "USD", D("0.0378"), D("0.8"), D("0.0378")),
                (1, 2, D("0.0252"), None, None, None, None),
                (2, None, D("0.0167"), None, None, None, None),
            ]
            assert_balance_is_ledger_everywhere(u)
        balance = reseller.billing.GetBalance(account_id=eve)
        assert balance.balance == D("10") - D("0.0340") - D("0.0302")
        assert reseller.billing.GetBalance(account_id=2).balance == D("500") - D("0.0504")
        cdrs = sorted(reseller.cdr.ListCdrs(account_id=eve).items, key=lambda c: c.uniqueid)
        assert [(c.uniqueid, c.cost) for c in cdrs] == [("fx.1", D("0.034")), ("fx.2", D("0.0302"))]

    def test_profit_per_level_is_exact_in_the_operators_currency(
        self, world: tuple[Any, Any, int]
    ) -> None:
        admin, reseller, eve = world
        settle(admin, "fx.1", eve, BEFORE)
        settle(admin, "fx.2", eve, AFTER)
        period = {"period_start": T0, "period_end": T1 + timedelta(days=1)}
        mine = reseller.reseller.GetProfit(**period)
        assert mine.currency == "USD"
        assert (mine.children_paid, mine.paid, mine.profit) == (
            D("0.0756"),  # Eve's two charges, each worth 0.0378 USD
            D("0.0504"),
            D("0.0252"),
        )
        operator = admin.reseller.GetProfit(**period)
        assert (operator.children_paid, operator.paid, operator.profit) == (
            D("0.0504"),
            D("0.0334"),  # the provider, 2 x 0.0167
            D("0.0170"),
        )

    def test_a_quote_for_the_account_says_its_amount_too(self, world: tuple[Any, Any, int]) -> None:
        _, reseller, eve = world
        quote = reseller.billing.QuoteCall(
            account_id=eve, number="34911234567", start=BEFORE, duration=125
        )
        assert (quote.currency, quote.cost) == ("USD", D("0.0378"))
        assert (quote.account_currency, quote.account_cost) == ("EUR", D("0.0340"))
        by_sheet = reseller.billing.QuoteCall(
            sheet_id=RESELLER_RETAIL, number="34911234567", start=BEFORE, duration=125
        )
        assert (by_sheet.account_currency, by_sheet.account_cost) == (None, None)

    def test_authorize_converts_the_money_and_reserves_in_the_accounts_currency(
        self, world: tuple[Any, Any, int], client_for: Callable[[str, str], Any]
    ) -> None:
        admin, reseller, _ = world
        # 0.09 EUR is 0.1125 USD at today's rate (0.80, inverse): as much talk time as a
        # USD account holding 0.1125, and not the 300 s that 0.09 USD would buy.
        frank = customer(reseller, "Frank", "EUR", "0.09")
        gus = customer(reseller, "Gus", "USD", "0.1125")
        fa = admin.billing.Authorize(call={"number": "34911234567", "account": "acct-frank"})
        ga = admin.billing.Authorize(call={"number": "34911234567", "account": "acct-gus"})
        assert fa.allowed and ga.allowed
        assert fa.max_seconds == ga.max_seconds > 300
        # The first slice (300 s = 0.09 USD) held in EUR: 0.072, rounded up.
        assert admin.billing.GetBalance(account_id=frank).reserved == D("0.072")
        assert admin.billing.GetBalance(account_id=gus).reserved == D("0.09")


class TestNoRate:
    def test_a_call_without_a_rate_is_refused_and_its_cdr_stored_unrated(
        self, world: tuple[Any, Any, int], uow: Callable[[], UnitOfWork]
    ) -> None:
        admin, reseller, _ = world
        gina = customer(reseller, "Gina", "GBP", "10")
        refused = admin.billing.Authorize(call={"number": "34911234567", "account": "acct-gina"})
        assert (refused.allowed, refused.reason) == (False, "NoExchangeRate")
        settled = settle(admin, "fx.gbp", gina, AFTER)
        assert settled.outcome == "unrated"
        (cdr,) = reseller.cdr.ListCdrs(account_id=gina).items
        assert cdr.status == "unrated" and "no exchange rate USD->GBP" in cdr.unrated_reason
        assert reseller.billing.GetBalance(account_id=gina).balance == D("10")
        with pytest.raises(NoExchangeRate):
            reseller.billing.QuoteCall(account_id=gina, number="34911234567", duration=60)
        with uow() as u:
            assert charges(u, "fx.gbp") == []
            assert_balance_is_ledger_everywhere(u)

    def test_a_call_before_the_first_rate_is_unrated_and_rerated_once_one_covers_it(
        self, world: tuple[Any, Any, int]
    ) -> None:
        admin, reseller, eve = world
        early = T0 - timedelta(days=1)
        assert settle(admin, "fx.early", eve, early).outcome == "unrated"
        admin.config.SetExchangeRate(
            from_currency="EUR", to_currency="USD", rate=D("1.25"), valid_from=early
        )
        report = admin.config.RerateCdrs(account_id=eve)
        assert report.rated == 1
        (cdr,) = [
            c for c in reseller.cdr.ListCdrs(account_id=eve).items if c.uniqueid == "fx.early"
        ]
        assert (cdr.status, cdr.cost) == ("rated", D("0.0302"))  # 0.0378 / 1.25 = 0.03024


class TestListenerBatchPath:
    def test_a_batch_of_mixed_currencies_is_charged_in_one_go(
        self,
        world: tuple[Any, Any, int],
        uow: Callable[[], UnitOfWork],
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        # The AMI listener's path: plain rows, one INSERT (COPY on PostgreSQL) for every
        # charge of the batch, so every row must carry the same columns.
        _, _, eve = world
        with uow() as u:
            outcomes = store_batch(
                u,
                [
                    spain_call("b.eve", "acct-eve", BEFORE),
                    spain_call("b.alice", "acct1001", BEFORE),
                    spain_call("b.eve2", "acct-eve", AFTER),
                ],
            )
        assert outcomes == [Outcome.RATED] * 3
        assert "one by one" not in caplog.text  # the fast path took the whole batch
        with uow() as u:
            assert charges(u, "b.eve")[0] == (
                0,
                eve,
                D("0.034"),
                "USD",
                D("0.0378"),
                D("0.9"),
                D("0.0378"),
            )
            assert charges(u, "b.eve2")[0][2] == D("0.0302")
            assert charges(u, "b.alice") == [
                (0, 3, D("0.0378"), None, None, None, None),
                (1, 2, D("0.0252"), None, None, None, None),
                (2, None, D("0.0167"), None, None, None, None),
            ]
            assert_balance_is_ledger_everywhere(u)


class TestProviderInAnotherCurrency:
    def test_the_operators_cost_is_converted_and_profit_follows(
        self, world: tuple[Any, Any, int], uow: Callable[[], UnitOfWork]
    ) -> None:
        admin, _, eve = world
        with uow() as u:  # the provider's buy sheet (demo sheet 1) priced in EUR
            u.session.execute(
                update(RateSheet)
                .where(RateSheet.id == 1)
                .values(currency="EUR", version=RateSheet.version + 1)
            )
            u.commit()
        settle(admin, "fx.p", eve, BEFORE)
        with uow() as u:
            # 0.0167 EUR in USD through the inverse of USD->EUR 0.90: 0.018555.. -> 0.0186
            assert charges(u, "fx.p")[2] == (
                2,
                None,
                D("0.0186"),
                "EUR",
                D("0.0167"),
                D("1.1111111111"),
                None,
            )
        period = {"period_start": T0, "period_end": T1}
        operator = admin.reseller.GetProfit(**period)
        assert (operator.children_paid, operator.paid, operator.profit) == (
            D("0.0252"),
            D("0.0186"),
            D("0.0066"),
        )
