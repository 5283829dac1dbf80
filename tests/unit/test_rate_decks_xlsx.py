"""Rate decks as .xlsx workbooks, the exact reading of spreadsheet cells, and the
remembering parser of big decks."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest
from openpyxl import Workbook

from rating import InvalidInput, InvalidRateRow, Rate, Tier, parse_rates_csv
from rating.tariffs import RATE_COLUMNS, header_columns, parse_rate_table, rate_to_row
from rating.xlsx import cell_text, parse_rates_xlsx
from services.common.exports import restored_rates, write_table

D = Decimal


def workbook(*rows: list[object]) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def error_of(data: bytes) -> InvalidRateRow:
    with pytest.raises(InvalidRateRow) as raised:
        parse_rates_xlsx(data)
    return raised.value


class TestCellText:
    def test_text_and_empty_cells_are_as_they_are(self) -> None:
        assert cell_text(" 0.10 ", "price", 2) == " 0.10 "
        assert cell_text(None, "price", 2) is None

    def test_a_whole_number_is_its_digits(self) -> None:
        assert cell_text(30, "increment", 2) == "30"
        assert cell_text(34.0, "prefix", 2) == "34"
        assert cell_text(1e16, "price", 2) == "10000000000000000"

    def test_a_fraction_is_the_shortest_decimal_of_its_double(self) -> None:
        assert cell_text(0.0125, "price", 2) == "0.0125"
        assert cell_text(0.1, "price", 2) == "0.1"
        assert cell_text(1e-05, "price", 2) == "0.00001"  # never "1e-05"

    def test_a_computed_fraction_keeps_every_digit_for_the_parser_to_refuse(self) -> None:
        assert cell_text(0.1 + 0.2, "price", 2) == "0.30000000000000004"

    def test_a_fraction_is_no_prefix(self) -> None:
        with pytest.raises(InvalidRateRow, match="line 7, column 'prefix'"):
            cell_text(34.5, "prefix", 7)

    def test_dates_and_times_are_rounded_to_the_second(self) -> None:
        assert cell_text(datetime(2025, 7, 1), "valid_from", 2) == "2025-07-01T00:00:00"
        late = datetime(2025, 7, 1, 7, 59, 59, 999_000)
        assert cell_text(late, "valid_from", 2) == "2025-07-01T08:00:00"
        assert cell_text(late, "time_from", 2) == "08:00:00"
        assert cell_text(date(2025, 7, 1), "valid_to", 2) == "2025-07-01"
        assert cell_text(time(17, 59, 59, 600_000), "time_to", 2) == "18:00:00"

    @pytest.mark.parametrize(
        "value", [True, float("nan"), float("inf"), timedelta(seconds=5), b"x"]
    )
    def test_booleans_non_numbers_and_durations_are_refused(self, value: object) -> None:
        with pytest.raises(InvalidRateRow, match="line 3, column 'price'"):
            cell_text(value, "price", 3)


class TestParseRatesXlsx:
    def test_reads_number_and_text_cells_with_the_header_in_any_case_and_order(self) -> None:
        data = workbook(
            ["Price", "PREFIX", "tiers", "valid_from", None, None],
            [0.0125, 34, None, datetime(2025, 7, 1), None, None],
            [None, "0044", "0:0.10:60;60:0.05:6", "2026-01-01", None],
        )
        assert parse_rates_xlsx(data) == [
            Rate("34", price=D("0.0125"), valid_from=datetime(2025, 7, 1, tzinfo=UTC)),
            Rate(
                "0044",
                tiers=(Tier(0, D("0.10"), 60), Tier(60, D("0.05"), 6)),
                valid_from=datetime(2026, 1, 1, tzinfo=UTC),
            ),
        ]

    def test_a_bad_row_is_reported_with_its_spreadsheet_row_number(self) -> None:
        data = workbook(["prefix", "price"], [34, 0.1], [], [44, -0.1])
        error = error_of(data)
        assert (error.line, error.column) == (4, "price")

    def test_a_value_right_of_the_last_column_is_refused(self) -> None:
        error = error_of(workbook(["prefix", "price"], [34, 0.1, "oops"]))
        assert error.line == 2

    def test_an_unknown_column_is_refused_on_line_1(self) -> None:
        error = error_of(workbook(["prefix", "prce"], [34, 0.1]))
        assert (error.line, error.column) == (1, "prce")

    def test_a_number_as_column_name_is_refused(self) -> None:
        assert error_of(workbook(["prefix", 5], [34, 0.1])).line == 1

    def test_what_is_not_a_workbook_is_invalid_input(self) -> None:
        with pytest.raises(InvalidInput, match="xlsx"):
            parse_rates_xlsx(b"prefix,price\n34,0.1\n")


class TestFormatRatesXlsx:
    def test_reads_back_equal_with_text_cells_only(self) -> None:
        rates = parse_rates_csv(
            "prefix,destination,price,weekdays,time_from,time_to,valid_to\n"
            '0034,"=HYPERLINK(""x"")",0.123456,sat,00:00:30,24:00,2030-01-01T08:00:00Z\n'
            "1,USA,5,,,,\n"
        )
        rows = [list(rate_to_row(r).values()) for r in rates]
        data = write_table("xlsx", "deck", RATE_COLUMNS, rows).data
        assert restored_rates(parse_rates_xlsx(data)) == rates
        from openpyxl import load_workbook

        cells = list(load_workbook(io.BytesIO(data)).active.iter_rows(min_row=2))
        assert {c.data_type for row in cells for c in row if c.value is not None} == {"s"}


class TestRememberingParser:
    def test_a_row_sharing_a_good_rows_terms_still_has_its_prefix_checked(self) -> None:
        with pytest.raises(InvalidRateRow) as raised:
            parse_rates_csv("prefix,price\n34,0.1\n+,0.1\n")
        assert (raised.value.line, raised.value.column) == (3, "prefix")

    def test_bad_terms_are_reported_on_every_deck_that_has_them(self) -> None:
        for _ in range(2):
            with pytest.raises(InvalidRateRow) as raised:
                parse_rates_csv("prefix,min_cost,max_cost,price\n34,2,1,0.1\n")
            assert (raised.value.line, raised.value.column) == (2, "max_cost")

    def test_the_first_bad_cell_is_found_in_column_order_whatever_the_header(self) -> None:
        for header, row in (
            ("price,increment,prefix", "x,y,1"),
            ("increment,price,prefix", "y,x,1"),
        ):
            with pytest.raises(InvalidRateRow) as raised:
                parse_rates_csv(f"{header}\n{row}\n")
            assert raised.value.column == "price"

    def test_a_parsed_rate_equals_one_built_by_its_constructor(self) -> None:
        (parsed,) = parse_rates_csv("prefix,price,increment\n34,0.1,6\n")
        built = Rate("34", price=D("0.1"), increment=6)
        assert parsed == built and hash(parsed) == hash(built)
        assert vars(parsed) == vars(built)

    def test_a_table_with_missing_trailing_cells_reads_them_as_empty(self) -> None:
        columns = header_columns(["prefix", "price", "increment"])
        rates = parse_rate_table(columns, [(2, ["34", "0.1"]), (3, [None, " "])])
        assert rates == [Rate("34", price=D("0.1"))]
