"""What a refused input says: a fault's text is how a caller finds the bad value
(docs/faults.md), and an import names the line and the column (docs/rates.md)."""

from __future__ import annotations

from datetime import UTC, datetime, time
from decimal import Decimal
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from rating import (
    InvalidInput,
    InvalidRateRow,
    NoRateForDestination,
    Rate,
    RateSheet,
    Tier,
    compile_sheet,
)
from rating.errors import BillingError
from rating.formats import format_decimal, normalise_number
from rating.model import Holidays
from rating.prefix_index import PrefixIndex
from rating.tariffs import RATE_COLUMNS, parse_rate_rows, parse_rate_table, parse_rates_csv
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


class TestDeckMessages:
    def problem_of(self, text: str) -> tuple[int, str, str]:
        with pytest.raises(InvalidRateRow) as raised:
            parse_rates_csv(text)
        error = raised.value
        return error.line, error.column, error.problem

    def test_an_unknown_column(self) -> None:
        line, column, problem = self.problem_of("prefix,prce\n34,0.1\n")
        assert (line, column) == (1, "prce")
        assert problem == "unknown column; the columns are " + ", ".join(RATE_COLUMNS)

    def test_a_column_name_that_is_not_text(self) -> None:
        with pytest.raises(InvalidRateRow) as raised:
            parse_rate_rows([{"prefix": "34", 7: "0.1"}])  # type: ignore[dict-item]
        assert (raised.value.column, raised.value.problem[:15]) == ("7", "unknown column;")

    def test_a_column_named_twice(self) -> None:
        assert self.problem_of("prefix,price,Price\n") == (1, "price", "the column appears twice")

    def test_a_missing_prefix_column(self) -> None:
        assert self.problem_of("price\n0.1\n") == (1, "prefix", "missing required column")

    def test_a_missing_price_column(self) -> None:
        problem = (1, "price", "missing required column: price or tiers")
        assert self.problem_of("prefix,destination\n") == problem

    def test_a_row_with_too_many_fields(self) -> None:
        problem = (2, "", "3 fields, but the header has 2 columns")
        assert self.problem_of("prefix,price\n34,0.1,x\n") == problem

    def test_a_row_with_too_few_fields_names_the_first_missing_column(self) -> None:
        problem = (2, "destination", "2 fields, but the header has 3 columns")
        assert self.problem_of("prefix,price,destination\n34,0.1\n") == problem

    def test_malformed_csv(self) -> None:
        line, column, problem = self.problem_of('prefix,price\n"34"x,0.1\n')
        assert (line, column) == (2, "")
        assert problem.startswith("not valid CSV: ")

    def test_a_row_without_a_prefix(self) -> None:
        assert self.problem_of("prefix,price\n,0.1\n") == (2, "prefix", "a prefix is required")

    def test_a_quoted_cell_keeps_its_line_breaks(self) -> None:
        [rate] = parse_rates_csv('prefix,destination,price\r\n34,"Spain\r\nMobile",0.1\r\n')
        assert rate.destination == "Spain\r\nMobile"

    @pytest.mark.parametrize(
        ("text", "problem"),
        [
            ("1234567890123", "'1234567890123' is out of range"),
            ("1.1234567", "'1.1234567' has more than 6 decimal places"),
            ("-1", "'-1' is not a plain non-negative decimal number like 0.05"),
        ],
    )
    def test_a_bad_price(self, text: str, problem: str) -> None:
        assert self.problem_of(f"prefix,price\n34,{text}\n") == (2, "price", problem)

    def test_the_largest_price_and_increment_are_accepted(self) -> None:
        [rate] = parse_rates_csv("prefix,price,increment\n34,999999999999.999999,999999999\n")
        assert (rate.price, rate.increment) == (D("999999999999.999999"), 999999999)

    def test_an_increment_out_of_range(self) -> None:
        problem = (2, "increment", "'1000000000' is out of range")
        assert self.problem_of("prefix,price,increment\n34,0.1,1000000000\n") == problem

    def test_a_bad_day(self) -> None:
        _, column, problem = self.problem_of("prefix,price,weekdays\n34,0.1,mon-fry\n")
        assert column == "weekdays"
        assert (
            problem
            == "'fry' is not a day; use mon, tue, wed, thu, fri, sat, sun and ranges like mon-fri"
        )

    def test_24_00_00_ends_a_band_at_midnight(self) -> None:
        [rate] = parse_rates_csv("prefix,price,time_from,time_to\n34,0.1,18:00,24:00:00\n")
        assert (rate.time_from, rate.time_to) == (time(18), time(0))

    def test_a_number_that_is_not_text(self) -> None:
        with pytest.raises(InvalidInput) as raised:
            normalise_number(34)  # type: ignore[arg-type]
        assert str(raised.value) == "a number must be text, not int"


class TestFormats:
    @pytest.mark.parametrize(
        ("value", "text"),
        [("1.000000", "1"), ("5.000", "5"), ("10", "10"), ("0.100000", "0.1"), ("0E-6", "0")],
    )
    def test_a_decimal_is_written_without_trailing_zeros(self, value: str, text: str) -> None:
        assert format_decimal(D(value)) == text


class TestPrefixIndex:
    def test_the_rate_of_exactly_a_prefix(self) -> None:
        plain = Rate("34", "Spain", D("0.1"))
        weekend = Rate("44", "UK", D("0.2"), weekdays=frozenset({5, 6}))
        index = PrefixIndex([plain, weekend], ZoneInfo("UTC"))
        assert index.find_for_prefix("34", NOON) is plain
        assert index.find_for_prefix("3", NOON) is None
        assert index.find_for_prefix("44", NOON) is None  # a Monday
        assert index.find_for_prefix("44", datetime(2025, 1, 11, tzinfo=UTC)) is weekend


class TestSheetMessages:
    @pytest.mark.parametrize(
        ("fields", "problem"),
        [
            (
                {"weekdays": frozenset()},
                "weekdays: must be a non-empty frozenset of days, or None for every day",
            ),
            (
                {"valid_from": NOON, "valid_to": NOON},
                "valid_to: must be after valid_from",
            ),
        ],
    )
    def test_a_rate_that_cannot_be_billed(self, fields: dict[str, object], problem: str) -> None:
        rate = Rate("34", "Spain", D("0.1"), **fields)  # type: ignore[arg-type]
        text = message_of(compile_sheet, RateSheet("s", (rate,)))
        assert text == f"sheet 's', rate '34': {problem}"

    def test_a_band_with_only_a_start_is_labelled_to_midnight(self) -> None:
        from rating.bands import band_label

        assert band_label(Rate("34", price=D("0.1"), time_from=time(18))) == "18:00-00:00"
        assert band_label(Rate("34", price=D("0.1"), time_to=time(8))) == "00:00-08:00"


class TestRateProblems:
    """compile_sheet checks rates built in code or loaded from the database too, and
    names the deck column of the first problem (rating/checks.py)."""

    @pytest.mark.parametrize(
        ("fields", "problem"),
        [
            ({"prefix": "3x"}, "'3x' is not a prefix of digits, nor '*', nor 'onnet'"),
            ({"destination": 5}, "destination: must be text"),
            ({"price": None}, "price: a price or tiers is required"),
            ({"price": D("-1")}, "price: Decimal('-1') is not a non-negative Decimal"),
            ({"tiers": [Tier(0, D(1), 60)]}, "tiers: must be a tuple of Tier"),
            ({"tiers": (Tier(5, D(1), 60),)}, "tiers: the first tier must start at second 0"),
            (
                {"tiers": (Tier(0, D("-1"), 60),)},
                "tiers: tier price Decimal('-1') is not a non-negative Decimal",
            ),
            (
                {"tiers": (Tier(0, D("Infinity"), 60),)},
                "tiers: tier price Decimal('Infinity') is not a non-negative Decimal",
            ),
            (
                {"tiers": (Tier(0, "1", 60),)},
                "tiers: tier price '1' is not a non-negative Decimal",
            ),
            (
                {"tiers": (Tier(0, D(1), 0),)},
                "tiers: tier at 0: the increment must be a whole number >= 1",
            ),
            (
                {"tiers": (Tier(0, D(1), 60), Tier(1.5, D(1), 1))},
                "tiers: tier at 1.5: the increment must be a whole number >= 1",
            ),
            ({"increment": 0}, "increment: must be at least 1 second"),
            ({"max_cost": D("-1")}, "max_cost: Decimal('-1') is not a non-negative Decimal"),
            (
                {"weekdays": frozenset({7})},
                "weekdays: [7] has a day outside 0 (Monday) .. 6 (Sunday)",
            ),
            # A holiday band names a calendar: a Holidays with a name, nothing else.
            (
                {"holidays": Holidays("")},
                "holidays: Holidays(name='', dates=frozenset(), yearly=frozenset())"
                " is not a named holiday calendar",
            ),
            (
                {"holidays": "christmas"},
                "holidays: 'christmas' is not a named holiday calendar",
            ),
            (
                {"holidays": SimpleNamespace(name="christmas")},
                "holidays: namespace(name='christmas') is not a named holiday calendar",
            ),
            (
                {"time_from": time(8, 0, 0, 1)},
                "time_from: datetime.time(8, 0, 0, 1) is not a plain time of day in whole seconds",
            ),
            (
                {"time_to": time(8, tzinfo=UTC)},
                "time_to: datetime.time(8, 0, tzinfo=datetime.timezone.utc)"
                " is not a plain time of day in whole seconds",
            ),
            (
                {"time_from": time(8), "time_to": "18:00"},
                "time_to: '18:00' is not a plain time of day in whole seconds",
            ),
        ],
    )
    def test_the_first_problem_is_named_with_its_column(
        self, fields: dict[str, object], problem: str
    ) -> None:
        values: dict[str, object] = {"prefix": "34", "destination": "Spain", "price": D("0.1")}
        values.update(fields)
        rate = Rate(**values)  # type: ignore[arg-type]
        text = message_of(compile_sheet, RateSheet("s", (rate,)))
        column = "prefix: " if "prefix" in fields else ""
        assert text == f"sheet 's', rate {values['prefix']!r}: {column}{problem}"


class TestWorkbookCells:
    def test_a_small_number_is_written_out_not_in_exponent_form(self) -> None:
        assert cell_text(1.25e-07, "price", 2) == "0.000000125"

    def test_a_fractional_prefix_is_refused(self) -> None:
        with pytest.raises(InvalidRateRow) as raised:
            cell_text(34.5, "prefix", 3)
        error = raised.value
        assert (error.line, error.column, error.problem) == (
            3,
            "prefix",
            "34.5 is not a prefix of digits",
        )
