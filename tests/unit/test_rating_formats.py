"""Text forms of rate fields: tiers, weekdays, times, dates, decimals, numbers."""

from __future__ import annotations

from datetime import UTC, datetime, time
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rating import (
    InvalidInput,
    Tier,
    format_tiers,
    format_weekdays,
    normalise_number,
    parse_tiers,
    parse_weekdays,
)
from rating.formats import (
    FieldError,
    format_datetime,
    format_decimal,
    format_time,
    parse_datetime,
    parse_decimal,
    parse_int,
    parse_time,
)

D = Decimal


class TestTiers:
    def test_reads_from_price_increment_triples(self) -> None:
        assert parse_tiers("0:0.10:60;60:0.05:1") == (
            Tier(0, D("0.10"), 60),
            Tier(60, D("0.05"), 1),
        )

    def test_tolerates_spaces(self) -> None:
        assert parse_tiers(" 0 : 0.10 : 60 ; 60:0.05:1 ") == parse_tiers("0:0.10:60;60:0.05:1")

    def test_empty_text_is_no_tiers(self) -> None:
        assert parse_tiers("") == ()

    def test_writes_the_canonical_form(self) -> None:
        tiers = (Tier(0, D("0.100"), 60), Tier(60, D("0.05"), 1))
        assert format_tiers(tiers) == "0:0.1:60;60:0.05:1"

    @pytest.mark.parametrize(
        ("text", "problem"),
        [
            ("1:0.10:60", "start at second 0"),
            ("0:0.10:60;0:0.05:1", "must rise"),
            ("0:0.10:60;60:0.05:0", "at least 1|>= 1"),
            ("0:0.10", "from_second:price_per_minute:increment"),
            ("0:0.10:60;", "from_second:price_per_minute:increment"),
            ("0:abc:60", "decimal"),
            ("0:-0.1:60", "decimal"),
            ("0:0.1:1.5", "whole"),
        ],
    )
    def test_refuses_tiers_that_cannot_be_billed(self, text: str, problem: str) -> None:
        with pytest.raises(FieldError, match=problem):
            parse_tiers(text)


class TestWeekdays:
    @pytest.mark.parametrize(
        ("text", "days"),
        [
            ("mon-fri", {0, 1, 2, 3, 4}),
            ("sat,sun", {5, 6}),
            ("mon,wed-fri", {0, 2, 3, 4}),
            ("MON - Fri", {0, 1, 2, 3, 4}),
            ("fri-mon", {4, 5, 6, 0}),
            ("sun", {6}),
            ("mon-sun", set(range(7))),
        ],
    )
    def test_reads_days_lists_and_ranges(self, text: str, days: set[int]) -> None:
        assert parse_weekdays(text) == frozenset(days)

    def test_empty_text_is_every_day(self) -> None:
        assert parse_weekdays(" ") is None
        assert format_weekdays(None) == ""

    @pytest.mark.parametrize(
        ("days", "text"),
        [
            ({0, 1, 2, 3, 4}, "mon-fri"),
            ({5, 6}, "sat,sun"),
            ({0, 2, 3, 4}, "mon,wed-fri"),
            ({0, 6}, "mon,sun"),
            (set(range(7)), "mon-sun"),
            ({0, 1, 3, 4, 5}, "mon,tue,thu-sat"),
        ],
    )
    def test_writes_runs_of_three_or_more_days_as_ranges(self, days: set[int], text: str) -> None:
        assert format_weekdays(frozenset(days)) == text

    @pytest.mark.parametrize("text", ["monday", "mon-", "mon,,tue", "1-5", "lun"])
    def test_refuses_what_is_not_a_day(self, text: str) -> None:
        with pytest.raises(FieldError):
            parse_weekdays(text)

    @given(st.frozensets(st.integers(0, 6), min_size=1))
    def test_reads_back_what_it_writes(self, days: frozenset[int]) -> None:
        assert parse_weekdays(format_weekdays(days)) == days


class TestTimesAndDates:
    def test_reads_hours_and_minutes_with_optional_seconds(self) -> None:
        assert parse_time("08:00") == time(8)
        assert parse_time("17:59:59") == time(17, 59, 59)

    def test_an_end_of_band_may_be_24_00(self) -> None:
        assert parse_time("24:00", end=True) == time(0)
        with pytest.raises(FieldError):
            parse_time("24:00")

    @pytest.mark.parametrize("text", ["8:00", "08h00", "25:00", "08:60", "08:00:00.5", "noon"])
    def test_refuses_what_is_not_a_time_of_day(self, text: str) -> None:
        with pytest.raises(FieldError):
            parse_time(text)

    def test_writes_seconds_only_when_there_are_some(self) -> None:
        assert (format_time(time(8)), format_time(time(8, 0, 5))) == ("08:00", "08:00:05")

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("2025-07-01", datetime(2025, 7, 1, tzinfo=UTC)),
            ("2025-07-01T08:30:00Z", datetime(2025, 7, 1, 8, 30, tzinfo=UTC)),
            ("2025-07-01 08:30", datetime(2025, 7, 1, 8, 30, tzinfo=UTC)),
            ("2025-07-01T10:30:00+02:00", datetime(2025, 7, 1, 8, 30, tzinfo=UTC)),
        ],
    )
    def test_reads_iso_dates_as_utc(self, text: str, expected: datetime) -> None:
        value = parse_datetime(text)
        assert value == expected
        assert value.utcoffset() is not None and value.utcoffset().total_seconds() == 0  # type: ignore[union-attr]

    @pytest.mark.parametrize("text", ["2025-02-30", "01/07/2025", "2025-7-1", "tomorrow"])
    def test_refuses_what_is_not_a_date(self, text: str) -> None:
        with pytest.raises(FieldError):
            parse_datetime(text)

    def test_writes_a_date_at_midnight_and_a_utc_time_otherwise(self) -> None:
        assert format_datetime(datetime(2025, 7, 1, tzinfo=UTC)) == "2025-07-01"
        assert format_datetime(datetime(2025, 7, 1, 8, 30, tzinfo=UTC)) == "2025-07-01T08:30:00Z"


class TestNumbersAndAmounts:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [("0.10", "0.10"), ("5", "5"), (".5", "0.5"), ("0.1234560", "0.123456")],
    )
    def test_reads_plain_decimals(self, text: str, expected: str) -> None:
        assert parse_decimal(text) == D(expected)

    @pytest.mark.parametrize(
        "text", ["-0.1", "0,05", "1e-3", "NaN", "inf", "0.1234567", "1234567890123", " 1", "$1"]
    )
    def test_refuses_what_is_not_a_plain_amount(self, text: str) -> None:
        with pytest.raises(FieldError):
            parse_decimal(text)

    @pytest.mark.parametrize(
        ("value", "text"), [("0.100000", "0.1"), ("100", "100"), ("1E+2", "100"), ("0E-6", "0")]
    )
    def test_writes_decimals_plainly(self, value: str, text: str) -> None:
        assert format_decimal(D(value)) == text

    @pytest.mark.parametrize("text", ["-1", "1.0", "1e3", "1234567890", ""])
    def test_refuses_what_is_not_a_whole_number_of_seconds(self, text: str) -> None:
        with pytest.raises(FieldError):
            parse_int(text)


class TestNormaliseNumber:
    @pytest.mark.parametrize(
        ("text", "digits"),
        [
            ("+34 600-123.456", "34600123456"),
            ("(034) 600 12 34", "0346001234"),
            (" +1 (555) 010-9999 ", "15550109999"),
            ("0034600123456", "0034600123456"),
        ],
    )
    def test_keeps_the_digits_only(self, text: str, digits: str) -> None:
        assert normalise_number(text) == digits

    @pytest.mark.parametrize(
        "text", ["", "+", "34+600", "++34", "34/600", "34x600", "\uff13\uff14", "#34", "34\t600"]
    )
    def test_refuses_anything_else(self, text: str) -> None:
        with pytest.raises(InvalidInput):
            normalise_number(text)
