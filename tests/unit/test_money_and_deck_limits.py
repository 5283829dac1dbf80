"""Limits that the earlier money and deck tests did not reach: an amount far past the
12 integer digits (refused as out of range, never a decimal signal), a spreadsheet's
empty cell, and a holiday calendar's name (printable, at most 64 characters)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from rating import InvalidInput, parse_rate_rows
from rating.formats import FieldError
from rating.model import Holidays
from rating.money import ZERO, to_money
from rating.tariffs import parse_holidays

D = Decimal


class TestHugeAmounts:
    # More digits than quantize's private 50-digit context holds: the range check must
    # answer, not an InvalidOperation from rounding them to 6 places.
    @pytest.mark.parametrize("text", ["1" * 45 + ".000000", "1" * 50, "-" + "9" * 60 + ".5"])
    def test_an_amount_of_dozens_of_digits_is_out_of_range(self, text: str) -> None:
        with pytest.raises(InvalidInput, match=r"is out of range$"):
            to_money(text, "limit")


class TestSpreadsheetCells:
    def test_an_empty_cell_takes_the_columns_default(self) -> None:
        row = {"prefix": "34", "destination": "Spain", "price": "0.10", "connect_fee": None}
        (rate,) = parse_rate_rows([row])
        assert (rate.connect_fee, rate.price) == (ZERO, D("0.10"))
        (rate,) = parse_rate_rows([{**row, "holidays": None, "valid_to": None}])
        assert (rate.holidays, rate.valid_to) == (None, None)


class TestCalendarNames:
    def test_a_name_of_64_characters_is_a_calendar(self) -> None:
        assert parse_holidays("H" * 64).name == "H" * 64

    @pytest.mark.parametrize("name", ["H" * 65, "ES\tnational", "ES\x00"])
    def test_a_longer_or_unprintable_name_is_refused(self, name: str) -> None:
        with pytest.raises(FieldError, match="is not a calendar name"):
            parse_holidays(name)

    def test_only_a_date_can_be_a_holiday(self) -> None:
        calendar = Holidays("es", frozenset({date(2026, 12, 8)}), frozenset({(12, 25)}))
        assert date(2026, 12, 8) in calendar
        assert date(2027, 12, 25) in calendar
        for not_a_day in (None, "2026-12-08", (12, 25), 20261208):
            assert not_a_day not in calendar
