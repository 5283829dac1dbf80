"""rating/fx.py: exact conversion at the rate in force, inverse pairs, rounding."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from rating.errors import InvalidInput, NoExchangeRate
from rating.fx import ExchangeRate, FxTable, check_code, check_rate
from rating.money import Rounding

D = Decimal
T0 = datetime(2026, 11, 1, tzinfo=UTC)
T1 = datetime(2026, 11, 15, tzinfo=UTC)


def table(*rates: ExchangeRate, **decimals: int) -> FxTable:
    return FxTable(rates, decimals)


class TestRateInForce:
    def test_the_latest_rate_started_at_or_before_the_moment_is_used(self) -> None:
        fx = table(
            ExchangeRate("USD", "EUR", D("0.90"), T0), ExchangeRate("USD", "EUR", D("0.95"), T1)
        )
        assert fx.convert(D("1.0000"), "USD", "EUR", T1 - timedelta(seconds=1)).amount == D(
            "0.9000"
        )
        assert fx.convert(D("1.0000"), "USD", "EUR", T1).amount == D("0.9500")  # starts at T1
        assert fx.convert(D("1"), "USD", "EUR", T1 + timedelta(days=99)).amount == D("0.9500")

    def test_before_the_first_rate_there_is_none(self) -> None:
        fx = table(ExchangeRate("USD", "EUR", D("0.90"), T0))
        with pytest.raises(NoExchangeRate):
            fx.convert(D(1), "USD", "EUR", T0 - timedelta(microseconds=1))
        with pytest.raises(NoExchangeRate):
            fx.convert(D(1), "USD", "GBP", T1)

    def test_a_currency_converts_to_itself_unchanged_without_a_rate(self) -> None:
        c = table().convert(D("0.123456"), "EUR", "EUR", T0)
        assert (c.amount, c.exact, c.multiplier) == (D("0.123456"), D("0.123456"), D(1))


class TestInverse:
    def test_the_opposite_pair_divides_by_the_rate(self) -> None:
        fx = table(ExchangeRate("EUR", "USD", D("1.08"), T0))
        c = fx.convert(D("0.0378"), "USD", "EUR", T1)
        # 0.0378 / 1.08 = 0.035 exactly; 10 / 3 is rounded half up at the end only.
        assert (c.amount, c.exact) == (D("0.0350"), D("0.035000"))
        assert fx.convert(D("10"), "USD", "EUR", T1).amount == D("9.2593")
        assert c.multiplier == D("0.9259259259")

    def test_the_rate_that_started_last_wins_between_both_directions(self) -> None:
        fx = table(
            ExchangeRate("USD", "EUR", D("0.90"), T0), ExchangeRate("EUR", "USD", D("1.25"), T1)
        )
        assert fx.convert(D(1), "USD", "EUR", T0).amount == D("0.9000")
        assert fx.convert(D(1), "USD", "EUR", T1).amount == D("0.8000")  # 1 / 1.25
        same_start = table(
            ExchangeRate("USD", "EUR", D("0.90"), T0), ExchangeRate("EUR", "USD", D("1.25"), T0)
        )
        assert same_start.convert(D(1), "USD", "EUR", T1).amount == D("0.9000")  # direct


class TestRounding:
    def test_half_up_to_the_target_currencys_decimals_from_the_exact_product(self) -> None:
        fx = table(ExchangeRate("USD", "EUR", D("0.9"), T0), EUR=2, JPY=0)
        assert fx.convert(D("0.0050"), "USD", "EUR", T1).amount == D("0.00")  # 0.0045
        assert fx.convert(D("0.0056"), "USD", "EUR", T1).amount == D("0.01")  # 0.00504
        assert fx.convert(D("0.0056"), "USD", "EUR", T1).exact == D("0.005040")
        fx4 = table(ExchangeRate("USD", "EUR", D("0.9"), T0))  # default: 4 places
        assert fx4.convert(D("0.0005"), "USD", "EUR", T1).amount == D("0.0005")  # 0.00045
        assert fx4.convert(D("0.0005"), "USD", "EUR", T1, Rounding.DOWN).amount == D("0.0004")

    def test_a_large_amount_times_a_long_rate_is_exact(self) -> None:
        fx = table(ExchangeRate("USD", "JPY", D("151.1234567891"), T0), JPY=6)
        c = fx.convert(D("99999999.999999"), "USD", "JPY", T1)
        # 15112345678.9098488765432109 exactly, rounded half up once, at the end.
        assert c.exact == c.amount == D("15112345678.909849")


class TestChecks:
    @pytest.mark.parametrize("bad", ["", "EU", "EURO", "E1R", "€UR"])
    def test_a_code_is_three_ascii_letters(self, bad: str) -> None:
        with pytest.raises(InvalidInput):
            check_code(bad)
        assert check_code(" eur ") == "EUR"

    @pytest.mark.parametrize(
        "bad", [D(0), D("-1"), D("NaN"), D("Infinity"), D("0.00000000001"), D("100000000")]
    )
    def test_a_rate_is_positive_finite_and_at_most_ten_places(self, bad: Decimal) -> None:
        with pytest.raises(InvalidInput):
            check_rate(bad)
        assert check_rate(D("0.0000000001")) == D("0.0000000001")


class TestRulesPinnedDown:
    """Rules of docs/currencies.md that the cases above leave open (found by mutation
    testing, docs/mutation.md): each would let a wrong amount or message through."""

    def test_rates_given_in_any_order_are_looked_up_by_their_start(self) -> None:
        # The table is built from database rows in whatever order they come.
        fx = table(
            ExchangeRate("USD", "EUR", D("0.95"), T1), ExchangeRate("USD", "EUR", D("0.90"), T0)
        )
        assert fx.convert(D(1), "USD", "EUR", T0).amount == D("0.9000")
        assert fx.convert(D(1), "USD", "EUR", T1).amount == D("0.9500")

    def test_an_inverse_rate_is_in_force_from_its_own_start_only(self) -> None:
        fx = table(ExchangeRate("EUR", "USD", D("1.25"), T1))
        with pytest.raises(NoExchangeRate):
            fx.convert(D(1), "USD", "EUR", T1 - timedelta(microseconds=1))
        assert fx.convert(D(1), "USD", "EUR", T1).amount == D("0.8000")

    def test_a_later_inverse_rate_loses_to_a_direct_one_started_after_it(self) -> None:
        fx = table(
            ExchangeRate("EUR", "USD", D("1.25"), T0), ExchangeRate("USD", "EUR", D("0.90"), T1)
        )
        c = fx.convert(D(2), "USD", "EUR", T1)
        assert (c.amount, c.exact, c.multiplier) == (D("1.8000"), D("1.800000"), D("0.90"))
        c = fx.convert(D(2), "USD", "EUR", T0)  # only the inverse is in force then
        assert (c.amount, c.multiplier) == (D("1.6000"), D("0.8000000000"))

    def test_the_exact_amount_is_rounded_half_up_to_six_places_whatever_the_rounding(
        self,
    ) -> None:
        fx = table(ExchangeRate("USD", "EUR", D("0.5"), T0))
        # 0.0000015 x 0.5 = 0.00000075: half up to 6 places is 0.000001, never 0.
        c = fx.convert(D("0.0000015"), "USD", "EUR", T1, Rounding.DOWN)
        assert (c.amount, c.exact) == (D("0.0000"), D("0.000001"))
        c = fx.convert(D("0.0000005"), "USD", "EUR", T1)  # 0.00000025
        assert c.exact == D("0.000000")

    def test_a_missing_rate_says_which_pair_and_when(self) -> None:
        with pytest.raises(NoExchangeRate) as raised:
            table().convert(D(1), "USD", "GBP", T1)
        assert raised.value.message == "no exchange rate USD->GBP at 2026-11-15 00:00:00+00:00"

    def test_a_code_of_three_letters_that_are_not_ascii_is_refused(self) -> None:
        for bad in ("ÉUR", "EUŔ"):  # isalpha() is true for these
            with pytest.raises(InvalidInput) as raised:
                check_code(bad)
            assert raised.value.message == f"currency {bad!r}: three letters (ISO 4217), e.g. EUR"
        with pytest.raises(InvalidInput):
            check_code(None)  # type: ignore[arg-type]

    def test_the_largest_rate_has_eight_digits_before_the_point(self) -> None:
        # 99999999 is the largest (MAX_RATE): the message says "below" it.
        assert check_rate(D("99999999")) == D("99999999")
        with pytest.raises(InvalidInput) as raised:
            check_rate(D("99999999.0000000001"))
        assert (
            raised.value.message
            == "rate 99999999.0000000001: a positive number of at most 99999999"
        )
        with pytest.raises(InvalidInput) as raised:
            check_rate(D("1.00000000001"))
        assert raised.value.message == "rate 1.00000000001: at most 10 decimal places"

    @pytest.mark.parametrize("bad", [1, "1.5", None])
    def test_a_rate_that_is_not_a_decimal_is_refused(self, bad: object) -> None:
        with pytest.raises(InvalidInput) as raised:
            check_rate(bad)  # type: ignore[arg-type]
        assert raised.value.message == f"rate {bad}: a positive number of at most 99999999"
