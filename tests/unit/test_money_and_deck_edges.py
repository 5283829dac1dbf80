"""rating/money.py (to_money, quantize) and deck rows that an import must not get wrong:
the rules of their docstrings and of docs/rates.md, "The deck format"."""

from __future__ import annotations

from decimal import ROUND_DOWN, ROUND_HALF_UP, ROUND_UP, Decimal

import pytest

from rating import InvalidInput, InvalidRateRow, Rate, Tier, parse_rate_rows, parse_rates_csv
from rating.money import MAX_AMOUNT, Rounding, quantize, to_money
from rating.plan import _DECIMAL_ROUNDING
from tests.unit.test_tariffs import deck, error_of

D = Decimal


class TestToMoney:
    @pytest.mark.parametrize(
        ("value", "amount"),
        [
            ("12.5", "12.500000"),
            (" 0.10 ", "0.100000"),  # surrounding spaces are dropped
            ("-3", "-3.000000"),  # adjustments and limits may be negative
            ("1.0000000", "1.000000"),  # trailing zeros past 6 places round nothing
            ("999999999999.999999", "999999999999.999999"),
            ("-999999999999.999999", "-999999999999.999999"),
            (7, "7.000000"),
            (D("0.000001"), "0.000001"),
            ("1E+2", "100.000000"),
        ],
    )
    def test_reads_an_amount_and_gives_it_6_decimal_places(
        self, value: object, amount: str
    ) -> None:
        money = to_money(value)
        assert money == D(amount)
        assert str(money) == amount  # exactly 6 places, the stored scale

    @pytest.mark.parametrize(
        ("value", "problem"),
        [
            (0.1, "not a float"),
            (True, "not a float"),
            ("abc", "is not a decimal number"),
            ("", "is not a decimal number"),
            ("NaN", "is not a finite number"),
            ("Infinity", "is not a finite number"),
            (D("-Infinity"), "is not a finite number"),
            ("0.0000001", "more than 6 decimal places"),
            ("1.0000005", "more than 6 decimal places"),
            ("1000000000000", "out of range"),
            ("-1000000000000", "out of range"),
            ("1E+12", "out of range"),
        ],
    )
    def test_refuses_what_it_would_have_to_round_or_guess(
        self, value: object, problem: str
    ) -> None:
        with pytest.raises(InvalidInput) as raised:
            to_money(value, "credit_limit")
        message = str(raised.value)
        assert message.startswith("credit_limit: ")
        assert problem in message

    def test_names_the_field_amount_by_default(self) -> None:
        with pytest.raises(InvalidInput, match=r"^amount: "):
            to_money("x")


class TestQuantize:
    @pytest.mark.parametrize(
        ("rounding", "amount", "expected"),
        [
            (Rounding.HALF_UP, "0.00005", "0.0001"),
            (Rounding.HALF_UP, "0.000049", "0.0000"),
            (Rounding.UP, "0.00001", "0.0001"),
            (Rounding.UP, "-0.00001", "-0.0001"),  # away from zero
            (Rounding.DOWN, "0.00019", "0.0001"),
            (Rounding.DOWN, "-0.00019", "-0.0001"),
        ],
    )
    def test_rounds_with_the_given_mode(
        self, rounding: Rounding, amount: str, expected: str
    ) -> None:
        assert str(quantize(D(amount), 4, rounding)) == expected

    def test_rounds_half_up_to_6_places_by_default(self) -> None:
        assert str(quantize(D("0.0000005"))) == "0.000001"

    def test_keeps_every_digit_of_the_largest_amount_whatever_the_callers_precision(
        self,
    ) -> None:
        import decimal

        with decimal.localcontext() as ctx:
            ctx.prec = 5
            assert quantize(D("999999999999.9999994")) == MAX_AMOUNT

    def test_the_engine_rounds_as_quantize_does(self) -> None:
        assert _DECIMAL_ROUNDING == {
            Rounding.HALF_UP: ROUND_HALF_UP,
            Rounding.UP: ROUND_UP,
            Rounding.DOWN: ROUND_DOWN,
        }


class TestDeckRows:
    def test_rows_after_a_blank_row_are_read(self) -> None:
        rates = parse_rates_csv(deck("prefix,price", "34,0.10", "", "44,0.05", ",", "49,0.07"))
        assert [(r.prefix, r.price) for r in rates] == [
            ("34", D("0.10")),
            ("44", D("0.05")),
            ("49", D("0.07")),
        ]

    def test_a_bad_row_after_blank_rows_is_reported_at_its_own_line(self) -> None:
        error = error_of(deck("prefix,price", "34,0.10", "", "", "44,x"))
        assert (error.line, error.column) == (5, "price")

    def test_an_increment_of_0_in_a_later_row_is_refused(self) -> None:
        # the parser checks rows sharing their terms once: a later row with other terms
        # is checked on its own
        error = error_of(
            deck(
                "prefix,price,initial_increment,increment",
                "34,0.10,30,6",
                "44,0.10,30,6",
                "49,0.10,30,0",
            )
        )
        assert (error.line, error.column) == (4, "increment")

    def test_the_same_bad_terms_are_refused_on_every_row(self) -> None:
        rows = [{"prefix": "34", "price": "0.1", "increment": "0"}]
        for first_line in (2, 9):
            with pytest.raises(InvalidRateRow) as raised:
                parse_rate_rows(rows, first_line)
            assert raised.value.line == first_line

    def test_good_terms_after_a_refused_row_of_other_terms_still_parse(self) -> None:
        rates = parse_rates_csv(deck("prefix,price,increment", "34,0.10,6", "44,0.10,6"))
        assert [r.increment for r in rates] == [6, 6]

    @pytest.mark.parametrize("tiers", ["0:-0.10:60", "0:0.10:60;60:-0.05:1", "0:0.10:60;60:0.05:0"])
    def test_a_negative_price_or_zero_increment_inside_tiers_is_refused(self, tiers: str) -> None:
        error = error_of(deck("prefix,tiers", "34,0:0.10:60", f"44,{tiers}"))
        assert (error.line, error.column) == (3, "tiers")

    def test_a_tier_price_is_read_exactly(self) -> None:
        [rate] = parse_rates_csv(deck("prefix,tiers", "34,0:0.123456:60;60:0.05:1"))
        assert rate.tiers == (Tier(0, D("0.123456"), 60), Tier(60, D("0.05"), 1))
        assert rate == Rate("34", tiers=rate.tiers)
