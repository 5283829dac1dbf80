"""The currency table and exchange rates over SOAP (config service, admin only), and
what refuses a second currency: recurring fees, unknown codes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from client import errors

D = Decimal
T0 = datetime(2026, 11, 1, tzinfo=UTC)
HEADER = "from_currency,to_currency,rate,valid_from\n"


@pytest.fixture
def admin(client_for: Callable[[str, str], Any], demo: None) -> Any:
    return client_for("admin", "admin")


def rates(admin: Any, **kw: Any) -> list[tuple[str, str, Decimal, datetime]]:
    page = admin.config.ListExchangeRates(**kw)
    return [(r.from_currency, r.to_currency, r.rate, r.valid_from) for r in page.items or []]


class TestCurrencies:
    def test_the_iso_table_is_seeded_and_paged(self, admin: Any) -> None:
        page = admin.config.ListCurrencies(limit=1000)
        by_code = {c.code: (c.minor_unit, c.decimals) for c in page.items}
        assert page.total == len(page.items) >= 40
        assert (by_code["EUR"], by_code["JPY"], by_code["BHD"]) == ((2, 4), (0, 4), (3, 4))
        assert [c.code for c in admin.config.ListCurrencies(offset=1, limit=2).items] == [
            c.code for c in page.items[1:3]
        ]

    def test_set_currency_adds_or_changes_one(self, admin: Any) -> None:
        made = admin.config.SetCurrency(code="xau", name="Gold", minor_unit=0, decimals=6)
        assert (made.code, made.name, made.minor_unit, made.decimals) == ("XAU", "Gold", 0, 6)
        changed = admin.config.SetCurrency(code="XAU", name="Gold ounce", minor_unit=0)
        assert (changed.name, changed.decimals) == ("Gold ounce", 4)
        with pytest.raises(errors.InvalidInput, match="decimals"):
            admin.config.SetCurrency(code="XAG", name="Silver", minor_unit=0, decimals=7)


class TestSetExchangeRate:
    def test_a_rate_is_stored_and_listed_latest_first(self, admin: Any) -> None:
        later = datetime(2026, 11, 20, tzinfo=UTC)
        admin.config.SetExchangeRate(
            from_currency="USD", to_currency="EUR", rate=D("0.9"), valid_from=T0
        )
        made = admin.config.SetExchangeRate(
            from_currency="usd", to_currency="eur", rate=D("0.1234567891"), valid_from=later
        )
        assert (made.from_currency, made.rate) == ("USD", D("0.1234567891"))
        assert rates(admin) == [
            ("USD", "EUR", D("0.1234567891"), later),
            ("USD", "EUR", D("0.9"), T0),
        ]
        assert rates(admin, currency="GBP") == []
        assert len(rates(admin, currency="EUR", offset=1, limit=1)) == 1

    def test_the_same_pair_and_start_again_is_refused_and_changes_nothing(self, admin: Any) -> None:
        args = {"from_currency": "USD", "to_currency": "EUR", "valid_from": T0}
        admin.config.SetExchangeRate(rate=D("0.9"), **args)
        with pytest.raises(errors.AlreadyExists):
            admin.config.SetExchangeRate(rate=D("0.5"), **args)
        assert rates(admin) == [("USD", "EUR", D("0.9"), T0)]

    @pytest.mark.parametrize(
        ("src", "dst", "match"),
        [("USD", "USD", "another currency"), ("USD", "ZZZ", "ZZZ: not in the currency table")],
    )
    def test_a_bad_pair_is_refused(self, admin: Any, src: str, dst: str, match: str) -> None:
        with pytest.raises(errors.InvalidInput, match=match):
            admin.config.SetExchangeRate(
                from_currency=src, to_currency=dst, rate=D("1.1"), valid_from=T0
            )

    @pytest.mark.parametrize("bad", [D(0), D("-1"), D("0.00000000001")])
    def test_a_rate_must_be_positive_with_ten_places_at_most(self, admin: Any, bad: Any) -> None:
        with pytest.raises(errors.SchemaValidationError):
            admin.config.SetExchangeRate(
                from_currency="USD", to_currency="EUR", rate=bad, valid_from=T0
            )
        assert rates(admin) == []


class TestImport:
    def test_a_file_is_stored_whole(self, admin: Any) -> None:
        text = (
            HEADER
            + "USD,EUR,0.9,2026-11-01T00:00:00+00:00\n\nEUR,GBP,0.86,2026-11-01T01:00+01:00\n"
        )
        done = admin.config.ImportExchangeRates(csv=text)
        assert (done.imported, done.total) == (2, 2)
        assert rates(admin) == [("EUR", "GBP", D("0.86"), T0), ("USD", "EUR", D("0.9"), T0)]

    @pytest.mark.parametrize(
        ("body", "error", "match"),
        [
            (
                "USD,EUR,0.9,2026-11-01T00:00Z\nUSD,EUR,abc,2026-11-02T00:00Z\n",
                "InvalidInput",
                "line 3: rate",
            ),
            (
                "USD,EUR,0.9,2026-11-01T00:00Z\nUSD,EUR,0.9,2026-11-02\n",
                "InvalidInput",
                "line 3: valid_from",
            ),
            (
                "USD,EUR,0.9,2026-11-01T00:00Z\nUSD,XXQ,0.9,2026-11-02T00:00Z\n",
                "InvalidInput",
                "line 3: currency XXQ",
            ),
            (
                "USD,EUR,0.9,2026-11-01T00:00Z\nUSD,EUR,0.8,2026-11-01T00:00Z\n",
                "AlreadyExists",
                "line 3: ",
            ),
            ("USD,EUR,0.9,2026-11-01T00:00Z\nUSD,EUR,0.9\n", "InvalidInput", "line 3: 3 columns"),
        ],
    )
    def test_a_bad_line_is_named_and_nothing_is_stored(
        self, admin: Any, body: str, error: str, match: str
    ) -> None:
        with pytest.raises(getattr(errors, error), match=match):
            admin.config.ImportExchangeRates(csv=HEADER + body)
        assert rates(admin) == []

    def test_a_wrong_header_is_line_one(self, admin: Any) -> None:
        with pytest.raises(errors.InvalidInput, match="line 1"):
            admin.config.ImportExchangeRates(csv="from,to,rate\nUSD,EUR,0.9\n")


class TestWhatRefusesAnotherCurrency:
    def test_an_account_in_an_unknown_currency_is_refused(self, admin: Any) -> None:
        account = {"name": "Zed", "username": "zed-login", "password": "secret-password"}
        with pytest.raises(errors.InvalidInput, match="QQQ"):
            admin.reseller.CreateAccount(account={**account, "currency": "QQQ"})

    def test_a_recurring_fee_across_two_currencies_is_refused_clearly(
        self, client_for: Callable[[str, str], Any], demo: None
    ) -> None:
        reseller = client_for("reseller", "reseller")
        eve = reseller.reseller.CreateAccount(
            account={
                "name": "Eve",
                "username": "eve-login",
                "password": "secret-password",
                "rate_sheet_id": 4,
                "currency": "EUR",
            }
        ).id
        service = reseller.reseller.CreateService(service={"name": "Line", "price": "1.00"})
        with pytest.raises(errors.InvalidInput, match="one currency along the account's chain"):
            reseller.reseller.Subscribe(account_id=eve, service_id=service.id, start=T0)
        assert reseller.reseller.ListSubscriptions().total == 0
