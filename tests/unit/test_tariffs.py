"""Rate decks: CSV and table rows -> Rate, and back."""

from __future__ import annotations

from datetime import UTC, datetime, time
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rating import (
    RATE_COLUMNS,
    InvalidRateRow,
    Rate,
    Tier,
    parse_rate_rows,
    parse_rates_csv,
    rate_to_row,
)
from rating.model import Holidays
from services.common.exports import restored_rates, write_table

D = Decimal


def deck(*lines: str) -> str:
    return "\n".join(lines) + "\n"


def error_of(text: str) -> InvalidRateRow:
    with pytest.raises(InvalidRateRow) as raised:
        parse_rates_csv(text)
    return raised.value


class TestParseRatesCsv:
    def test_reads_one_rate_per_row(self) -> None:
        rates = parse_rates_csv(deck("prefix,destination,price", "34,Spain,0.10", "44,UK,0.05"))
        assert rates == [
            Rate("34", "Spain", D("0.10")),
            Rate("44", "UK", D("0.05")),
        ]

    def test_reads_the_columns_in_any_order(self) -> None:
        text = deck("increment,price,initial_increment,prefix", "6,0.10,30,34")
        assert parse_rates_csv(text) == [
            Rate("34", price=D("0.10"), initial_increment=30, increment=6)
        ]

    def test_reads_every_column(self) -> None:
        header = ",".join(RATE_COLUMNS)
        row = (
            "34 6,Spain Mobile,0.10,0:0.2:60;60:0.1:1,30,6,0.05,60,3,0.01,5,mon-fri,"
            "08:00,18:00,ES,2025-07-01,2026-01-01T00:00:00+01:00"
        )
        (rate,) = parse_rates_csv(deck(header, row))
        assert rate == Rate(
            prefix="346",
            destination="Spain Mobile",
            price=D("0.10"),
            tiers=(Tier(0, D("0.2"), 60), Tier(60, D("0.1"), 1)),
            initial_increment=30,
            increment=6,
            connect_fee=D("0.05"),
            included_seconds=60,
            free_below=3,
            min_cost=D("0.01"),
            max_cost=D("5"),
            weekdays=frozenset(range(5)),
            time_from=time(8),
            time_to=time(18),
            valid_from=datetime(2025, 7, 1, tzinfo=UTC),
            valid_to=datetime(2025, 12, 31, 23, tzinfo=UTC),
            holidays=Holidays("ES"),
        )

    def test_an_empty_cell_takes_the_rate_default(self) -> None:
        text = deck("prefix,price,increment,connect_fee,max_cost,weekdays", "34,0.1,,,,")
        assert parse_rates_csv(text) == [Rate("34", price=D("0.1"))]

    def test_a_tiered_deck_needs_no_price_column(self) -> None:
        (rate,) = parse_rates_csv(deck("prefix,tiers", "34,0:0.10:60;60:0.05:1"))
        assert rate.price is None and len(rate.tiers) == 2

    def test_header_names_are_read_without_case_or_spaces(self) -> None:
        assert parse_rates_csv(deck(" Prefix , PRICE", "34,0.1")) == [Rate("34", price=D("0.1"))]

    def test_reads_excel_output_with_a_byte_order_mark_and_crlf(self) -> None:
        text = "\ufeffprefix,price\r\n34,0.1\r\n"
        assert parse_rates_csv(text) == [Rate("34", price=D("0.1"))]

    def test_skips_blank_rows(self) -> None:
        text = deck("prefix,price", "", "34,0.1", ",", "44,0.2")
        assert [rate.prefix for rate in parse_rates_csv(text)] == ["34", "44"]

    def test_reads_quoted_cells(self) -> None:
        (rate,) = parse_rates_csv(deck("prefix,destination,price", '34,"Spain, mobile",0.1'))
        assert rate.destination == "Spain, mobile"

    def test_a_header_alone_is_an_empty_deck(self) -> None:
        assert parse_rates_csv("prefix,price\n") == []

    def test_normalises_the_prefix_like_a_number(self) -> None:
        (rate,) = parse_rates_csv(deck("prefix,price", "+34 (6),0.1"))
        assert rate.prefix == "346"


class TestDeckErrors:
    @pytest.mark.parametrize(
        ("header", "column"),
        [
            ("destination,price", "prefix"),
            ("prefix,destination", "price"),
            ("prefix,prce", "prce"),
            ("prefix,price,price", "price"),
        ],
    )
    def test_a_bad_header_is_reported_on_line_1(self, header: str, column: str) -> None:
        error = error_of(deck(header, "34,0.1"))
        assert (error.line, error.column) == (1, column)

    def test_an_empty_file_has_no_header(self) -> None:
        assert error_of("").line == 1

    @pytest.mark.parametrize(
        ("column", "value", "problem"),
        [
            ("price", "0,10", "decimal"),
            ("price", "abc", "decimal"),
            ("price", "-0.10", "decimal"),
            ("price", "1e-2", "decimal"),
            ("price", "0.1234567", "decimal places"),
            ("connect_fee", "NaN", "decimal"),
            ("max_cost", "∞", "decimal"),
            ("increment", "6.5", "whole"),
            ("increment", "0", "at least 1"),
            ("initial_increment", "-30", "whole"),
            ("included_seconds", "sixty", "whole"),
            ("tiers", "0:0.10", "from_second"),
            ("tiers", "10:0.10:60", "second 0"),
            ("weekdays", "mon-fry", "not a day"),
            ("time_from", "8am", "time of day"),
            ("time_to", "18:60", "time of day"),
            ("valid_from", "01/07/2025", "date"),
            ("valid_to", "2025-02-30", "date"),
            ("prefix", "34x", "not a number"),
        ],
    )
    def test_a_bad_value_is_reported_with_its_line_and_column(
        self, column: str, value: str, problem: str
    ) -> None:
        header = "prefix,price" if column in ("prefix", "price") else f"prefix,price,{column}"
        row = {"prefix": "34", "price": "0.1", column: value}
        cells = [row[name] for name in header.split(",")]
        good_row = "44,0.2" + "," * (header.count(",") - 1)
        error = error_of(deck(header, good_row, ",".join(f'"{cell}"' for cell in cells)))
        assert (error.line, error.column) == (3, column)
        assert problem in error.problem
        assert f"line 3, column '{column}'" in str(error)

    def test_a_row_without_price_or_tiers_is_refused(self) -> None:
        error = error_of(deck("prefix,price,tiers", "34,,"))
        assert (error.line, error.column) == (2, "price")

    def test_a_row_without_prefix_is_refused(self) -> None:
        error = error_of(deck("prefix,price", ",0.1"))
        assert (error.line, error.column) == (2, "prefix")

    def test_max_cost_below_min_cost_is_refused(self) -> None:
        error = error_of(deck("prefix,price,min_cost,max_cost", "34,0.1,2,1"))
        assert (error.line, error.column) == (2, "max_cost")

    def test_valid_to_not_after_valid_from_is_refused(self) -> None:
        text = deck("prefix,price,valid_from,valid_to", "34,0.1,2025-07-01,2025-07-01")
        assert error_of(text).column == "valid_to"

    def test_a_row_with_the_wrong_number_of_fields_is_refused(self) -> None:
        assert error_of(deck("prefix,price", "34,0.1,extra")).line == 2
        assert error_of(deck("prefix,price,destination", "34,0.1")).column == "destination"

    def test_two_rows_for_the_same_prefix_band_and_validity_are_refused(self) -> None:
        error = error_of(deck("prefix,price", "34,0.1", "44,0.1", "34,0.2"))
        assert (error.line, error.column) == (4, "prefix")
        assert "line 2" in error.problem

    def test_the_same_prefix_in_other_bands_is_accepted(self) -> None:
        quoted = deck("prefix,price,weekdays", "34,0.2,mon-fri", '34,0.1,"sat,sun"')
        assert len(parse_rates_csv(quoted)) == 2

    def test_the_first_bad_row_is_the_one_reported(self) -> None:
        error = error_of(deck("prefix,price", "34,0.1", "35,bad", "36,worse"))
        assert error.line == 3

    def test_line_numbers_count_the_lines_of_multi_line_cells(self) -> None:
        text = deck("prefix,destination,price", '34,"Spain', 'mobile",0.1', "44,UK,bad")
        assert error_of(text).line == 4

    def test_line_numbers_count_blank_lines(self) -> None:
        assert error_of(deck("prefix,price", "", "", "34,bad")).line == 4

    def test_malformed_csv_is_reported(self) -> None:
        assert error_of('prefix,price\n34,"0.1\n').line >= 2


class TestParseRateRows:
    def test_reads_rows_given_as_dicts(self) -> None:
        rows = [{"prefix": "34", "price": "0.10"}, {"Prefix": "44", "Price": "0.05"}]
        assert [rate.prefix for rate in parse_rate_rows(rows)] == ["34", "44"]

    def test_numbers_rows_from_first_line(self) -> None:
        rows = [{"prefix": "34", "price": "0.1"}, {"prefix": "35", "price": "x"}]
        with pytest.raises(InvalidRateRow) as raised:
            parse_rate_rows(rows, first_line=5)
        assert raised.value.line == 6

    def test_refuses_floats(self) -> None:
        with pytest.raises(InvalidRateRow, match="float") as raised:
            parse_rate_rows([{"prefix": "34", "price": 0.1}])  # type: ignore[dict-item]
        assert (raised.value.line, raised.value.column) == (2, "price")

    def test_refuses_values_that_are_not_text(self) -> None:
        with pytest.raises(InvalidRateRow, match="text") as raised:
            parse_rate_rows([{"prefix": "34", "price": "0.1", "increment": 60}])  # type: ignore[dict-item]
        assert raised.value.column == "increment"

    def test_reads_none_as_an_empty_cell(self) -> None:
        rows = [{"prefix": "34", "price": "0.1", "max_cost": None}]
        assert parse_rate_rows(rows) == [Rate("34", price=D("0.1"))]

    def test_refuses_an_unknown_column(self) -> None:
        with pytest.raises(InvalidRateRow) as raised:
            parse_rate_rows([{"prefix": "34", "price": "0.1", "notes": ""}])
        assert raised.value.column == "notes"

    def test_refuses_a_row_missing_the_prefix_column(self) -> None:
        with pytest.raises(InvalidRateRow) as raised:
            parse_rate_rows([{"price": "0.1"}])
        assert (raised.value.line, raised.value.column) == (2, "prefix")


def amounts(high: int = 10**8) -> st.SearchStrategy[Decimal]:
    return st.integers(0, high).map(lambda n: Decimal(n).scaleb(-6))


@st.composite
def valid_rates(draw: st.DrawFn) -> Rate:
    starts = sorted(draw(st.sets(st.integers(1, 3600), max_size=3)))
    tiers = tuple(Tier(start, draw(amounts()), draw(st.integers(1, 600))) for start in [0, *starts])
    times = st.one_of(st.none(), st.times().map(lambda t: t.replace(microsecond=0)))
    instants = st.integers(0, 4 * 10**8).map(lambda s: datetime.fromtimestamp(s, UTC))
    valid_from, valid_to = sorted(draw(st.lists(instants, min_size=2, max_size=2, unique=True)))
    min_cost = draw(amounts())
    price = draw(st.one_of(st.none(), amounts()))
    return Rate(
        prefix=draw(st.text("0123456789", min_size=1, max_size=12)),
        destination=draw(st.text(min_size=0, max_size=20).map(str.strip)),
        price=price,
        tiers=tiers if draw(st.booleans()) or price is None else (),
        initial_increment=draw(st.integers(0, 3600)),
        increment=draw(st.integers(1, 3600)),
        connect_fee=draw(amounts()),
        included_seconds=draw(st.integers(0, 3600)),
        free_below=draw(st.integers(0, 60)),
        min_cost=min_cost,
        max_cost=draw(st.one_of(st.none(), amounts().map(lambda m: m + min_cost))),
        weekdays=draw(st.one_of(st.none(), st.frozensets(st.integers(0, 6), min_size=1))),
        time_from=draw(times),
        time_to=draw(times),
        valid_from=draw(st.sampled_from([None, valid_from])),
        valid_to=draw(st.sampled_from([None, valid_to])),
    )


class TestRoundTrip:
    def test_a_rate_with_every_field_reads_back_equal(self) -> None:
        rate = Rate(
            "346",
            "Spain Mobile",
            D("0.100000"),
            (Tier(0, D("0.2"), 60), Tier(60, D("0.1"), 1)),
            30,
            6,
            D("0.05"),
            60,
            3,
            D("0.01"),
            D("5"),
            frozenset({0, 2, 3, 4}),
            time(18),
            time(0),
            datetime(2025, 7, 1, tzinfo=UTC),
            datetime(2025, 12, 31, 23, 30, tzinfo=UTC),
            Holidays("Spain national"),
        )
        row = rate_to_row(rate)
        assert list(row) == list(RATE_COLUMNS)
        assert row["weekdays"] == "mon,wed-fri"
        assert parse_rate_rows([row]) == [rate]

    @settings(deadline=None)
    @given(valid_rates())
    def test_every_valid_rate_reads_back_equal(self, rate: Rate) -> None:
        assert parse_rate_rows([rate_to_row(rate)]) == [rate]

    @settings(deadline=None)
    @given(st.lists(valid_rates(), max_size=5, unique_by=lambda rate: rate.prefix))
    def test_a_csv_deck_reads_back_equal(self, rates: list[Rate]) -> None:
        deck = write_table(
            "csv", "deck", RATE_COLUMNS, [list(rate_to_row(r).values()) for r in rates]
        )
        assert restored_rates(parse_rates_csv(deck.data.decode())) == rates
