"""What a refused input says: a fault's text is how a caller finds the bad value
(docs/faults.md), and an import names the line and the column (docs/rates.md)."""

from __future__ import annotations

from datetime import UTC, datetime, time
from decimal import Decimal

import pytest

from rating import (
    InvalidInput,
    InvalidRateRow,
    NoRateForDestination,
    Rate,
    RateSheet,
    compile_sheet,
)
from rating.errors import BillingError
from rating.tariffs import parse_rate_rows, parse_rate_table
from rating.xlsx import cell_text, parse_rates_xlsx
from tests.unit.test_rate_decks_xlsx import workbook

D = Decimal
NOON = datetime(2025, 1, 6, 12, 0, tzinfo=UTC)
PLAN = compile_sheet(RateSheet("m", (Rate("34", "Spain", D("0.60")),)))
FREE = compile_sheet(RateSheet("free", (Rate("34", "Spain", D("0")),)))


def message_of(call: object, *args: object) -> str:
    with pytest.raises(InvalidInput) as raised:
        call(*args)  # type: ignore[operator]
    return str(raised.value)


class TestEngineMessages:
    def test_a_number_that_is_not_digits(self) -> None:
        assert (
            message_of(PLAN.find_rate, "34a", NOON)
            == "'34a' is not a normalised number (digits only)"
        )

    def test_a_naive_moment(self) -> None:
        naive = datetime(2025, 1, 6, 12, 0)
        assert (
            message_of(PLAN.find_rate, "34", naive)
            == f"at must be an aware datetime, not {naive!r}"
        )

    def test_a_moment_that_is_not_a_datetime(self) -> None:
        assert (
            message_of(PLAN.find_rate, "34", "noon") == "at must be an aware datetime, not 'noon'"
        )

    def test_an_available_amount_that_is_not_a_decimal(self) -> None:
        text = message_of(PLAN.max_duration, "34", NOON, 1.5)
        assert text == "available must be a finite Decimal, not 1.5"

    def test_a_limit_that_is_not_seconds(self) -> None:
        text = message_of(PLAN.max_duration, "34", NOON, D(1), -1)
        assert text == "limit must be a whole number of seconds >= 0, not -1"

    def test_a_limit_over_the_largest(self) -> None:
        text = message_of(PLAN.max_duration, "34", NOON, D(1), 10**8 + 1)
        assert text == "limit 100000001 is over 100000000 seconds"

    def test_the_default_limit_is_a_day(self) -> None:
        assert FREE.max_duration("34", NOON, D(0)) == 86400

    def test_included_seconds_one_short_of_the_limit_leave_one_second_to_pay(self) -> None:
        sheet = compile_sheet(
            RateSheet("i", (Rate("34", "Spain", D("0.60"), included_seconds=59),))
        )
        assert sheet.max_duration("34", NOON, D(0), 60) == 59
        assert sheet.max_duration("34", NOON, D("0.01"), 60) == 60

    def test_no_rate(self) -> None:
        with pytest.raises(
            NoRateForDestination, match=r"^no rate for 44 at 2025-01-06T12:00:00\+00:00$"
        ):
            PLAN.find_rate("44", NOON)


class TestErrors:
    def test_an_error_without_a_message_says_what_it_is(self) -> None:
        assert (
            str(NoRateForDestination())
            == "No rate of the sheet matches the dialled number at that time."
        )
        assert NoRateForDestination().message == str(NoRateForDestination())

    def test_an_error_class_without_a_docstring_says_its_code(self) -> None:
        class Bare(BillingError):
            code = "Bare"

        Bare.__doc__ = None
        assert str(Bare()) == "Bare"
        assert str(Bare("told")) == "told"


class TestTableMessages:
    def test_a_value_right_of_the_last_column(self) -> None:
        with pytest.raises(InvalidRateRow) as raised:
            parse_rate_table(["prefix", "price"], [(7, ["34", "0.1", "x"])])
        error = raised.value
        assert (error.line, error.column, error.problem) == (
            7,
            "",
            "a value right of the last named column",
        )

    def test_short_rows_are_padded_with_empty_cells(self) -> None:
        [rate] = parse_rate_table(["prefix", "price", "destination"], [(2, ["34", "0.1"])])
        assert (rate.prefix, rate.price, rate.destination) == ("34", D("0.1"), "")

    def test_rows_after_an_empty_dict_row_are_read(self) -> None:
        rows = [
            {"prefix": "34", "price": "0.1"},
            {"prefix": " ", "price": None},
            {"prefix": "44", "price": "0.2"},
        ]
        assert [r.prefix for r in parse_rate_rows(rows)] == ["34", "44"]

    def test_a_row_of_only_some_empty_cells_is_still_a_row(self) -> None:
        with pytest.raises(InvalidRateRow) as raised:
            parse_rate_rows([{"prefix": None, "price": "0.1"}])
        assert (raised.value.line, raised.value.column) == (2, "prefix")

    def test_a_cell_that_is_not_text(self) -> None:
        with pytest.raises(InvalidRateRow) as raised:
            parse_rate_rows([{"prefix": "34", "price": D("0.1")}], first_line=5)
        error = raised.value
        assert (error.line, error.column, error.problem) == (
            5,
            "price",
            "must be text, not Decimal",
        )


class TestWorkbookMessages:
    def test_not_a_workbook(self) -> None:
        assert (
            message_of(parse_rates_xlsx, b"prefix,price\n")
            == "not an .xlsx workbook (Office Open XML)"
        )

    def test_an_empty_worksheet_has_no_header(self) -> None:
        with pytest.raises(InvalidRateRow) as raised:
            parse_rates_xlsx(workbook())
        assert (raised.value.line, raised.value.column) == (1, "prefix")

    def test_a_header_cell_that_is_not_text(self) -> None:
        with pytest.raises(InvalidRateRow) as raised:
            parse_rates_xlsx(workbook(["prefix", 12]))
        error = raised.value
        assert (error.line, error.column, error.problem) == (
            1,
            "12",
            "a column name must be a text cell",
        )

    def test_a_value_right_of_the_last_named_column(self) -> None:
        with pytest.raises(InvalidRateRow) as raised:
            parse_rates_xlsx(workbook(["prefix", "price"], ["34", "0.1", None, "x"]))
        error = raised.value
        assert (error.line, error.column) == (2, "")
        assert error.problem == "a value right of the last named column: [None, 'x']"

    def test_a_row_as_wide_as_the_header_ending_empty_keeps_its_cells(self) -> None:
        rates = parse_rates_xlsx(workbook(["prefix", "price", "destination"], ["34", "0.1", None]))
        assert [(r.prefix, r.price) for r in rates] == [("34", D("0.1"))]

    def test_a_bad_cell_names_its_row_and_column(self) -> None:
        with pytest.raises(InvalidRateRow) as raised:
            parse_rates_xlsx(workbook(["prefix", "price"], ["34", "0.1"], ["44", True]))
        error = raised.value
        assert (error.line, error.column, error.problem) == (
            3,
            "price",
            "True is a boolean, not a value of this column",
        )

    def test_a_cell_of_another_type(self) -> None:
        with pytest.raises(InvalidRateRow) as raised:
            cell_text(D("1"), "price", 4)
        assert raised.value.problem == "a Decimal cell is not a value of this column"

    def test_a_time_is_rounded_to_the_second(self) -> None:
        assert cell_text(time(23, 59, 59, 600_000), "time_to", 2) == "00:00:00"
        assert cell_text(time(7, 59, 59, 400_000), "time_from", 2) == "07:59:59"

    @pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
    def test_a_float_that_is_not_a_number(self, value: float) -> None:
        with pytest.raises(InvalidRateRow) as raised:
            cell_text(value, "price", 2)
        assert raised.value.problem == f"{value!r} is not a number"
