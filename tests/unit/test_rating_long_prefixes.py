"""The prefix index with prefixes of five digits and more (rating/prefix_index.py keeps
them bucketed by their first five digits, apart from the shorter ones): the rules are
those of docs/rates.md, "the longest prefix of the dialled number wins", and "a prefix
with no row applying at that moment does not hide a shorter prefix that has one"."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import pytest

from rating import CallToRate, NoRateForDestination, Rate, RateSheet, RatingPlan, compile_sheet

D = Decimal
MONDAY_NOON = datetime(2025, 1, 6, 12, 0, tzinfo=UTC)
MONDAY_17_59_30 = datetime(2025, 1, 6, 17, 59, 30, tzinfo=UTC)
SATURDAY_NOON = datetime(2025, 1, 11, 12, 0, tzinfo=UTC)
WEEKDAYS = frozenset(range(5))
WEEKEND = frozenset({5, 6})


def plan(*rates: Rate) -> RatingPlan:
    return compile_sheet(RateSheet("long", rates))


def rate(prefix: str, price: str, **fields: Any) -> Rate:
    return Rate(prefix, f"dest {prefix}", price=D(price), **fields)


# Prefixes of 2 to 8 digits, several sharing the stem 34600 and one the stem 34700.
LADDER = plan(
    rate("34", "0.01"),
    rate("3460", "0.02"),
    rate("34600", "0.03"),
    rate("346001", "0.04"),
    rate("3460012", "0.05"),
    rate("34600123", "0.06"),
    rate("34700", "0.07"),
    rate("4930000", "0.08"),
)


def found(sheet: RatingPlan, number: str, at: datetime = MONDAY_NOON) -> str:
    return sheet.find_rate(number, at).prefix


class TestLongestLongPrefix:
    @pytest.mark.parametrize(
        ("number", "prefix"),
        [
            ("346001234567", "34600123"),  # eight digits
            ("34600124", "3460012"),  # seven
            ("3460019", "346001"),  # six
            ("3460099", "34600"),  # five: no longer prefix of the stem matches
            ("34600", "34600"),  # a number as long as its prefix
            ("34601", "3460"),  # a stem without a bucket: the short prefixes
            ("3470099", "34700"),  # another stem
            ("3470", "34"),  # shorter than the 5-digit prefix it starts
            ("349", "34"),
            ("4930000", "4930000"),  # a long prefix with no shorter one below it
        ],
    )
    def test_the_longest_matching_prefix_wins(self, number: str, prefix: str) -> None:
        assert found(LADDER, number) == prefix

    def test_a_long_number_without_a_long_prefix_uses_the_short_ones(self) -> None:
        assert found(LADDER, "3461234567890") == "34"

    def test_a_number_of_a_long_prefixs_stem_but_no_short_prefix_has_no_rate(self) -> None:
        with pytest.raises(NoRateForDestination):
            LADDER.find_rate("4930001", MONDAY_NOON)
        with pytest.raises(NoRateForDestination):
            LADDER.find_rate("493", MONDAY_NOON)

    def test_each_long_prefix_prices_at_its_own_price(self) -> None:
        for number, price in [("346001234", "0.06"), ("3460015", "0.04"), ("346009", "0.03")]:
            assert LADDER.find_rate(number, MONDAY_NOON).price == D(price)

    def test_the_plan_counts_every_prefix(self) -> None:
        assert "8 prefixes" in repr(LADDER)
        banded = plan(
            rate("346001", "0.1", weekdays=WEEKDAYS),
            rate("346001", "0.2", weekdays=WEEKEND),
            rate("34", "0.3"),
        )
        assert "2 prefixes" in repr(banded)


class TestConditionalLongPrefixes:
    def test_a_long_prefix_out_of_its_band_does_not_hide_a_shorter_long_one(self) -> None:
        sheet = plan(
            rate("3460012", "0.09", weekdays=WEEKEND),
            rate("34600", "0.03"),
            rate("34", "0.01"),
        )
        assert found(sheet, "34600123", SATURDAY_NOON) == "3460012"
        assert found(sheet, "34600123", MONDAY_NOON) == "34600"

    def test_a_long_prefix_out_of_its_band_falls_back_to_a_short_prefix(self) -> None:
        sheet = plan(rate("3460012", "0.09", weekdays=WEEKEND), rate("34", "0.01"))
        assert found(sheet, "34600123", MONDAY_NOON) == "34"

    def test_a_long_prefix_not_yet_valid_falls_back(self) -> None:
        july = datetime(2025, 7, 1, tzinfo=UTC)
        sheet = plan(rate("3460012", "0.09", valid_from=july), rate("34", "0.01"))
        assert found(sheet, "34600123", july - timedelta(seconds=1)) == "34"
        assert found(sheet, "34600123", july) == "3460012"

    def test_the_latest_valid_from_of_a_long_prefix_wins(self) -> None:
        jan, jul = datetime(2025, 1, 1, tzinfo=UTC), datetime(2025, 7, 1, tzinfo=UTC)
        sheet = plan(
            rate("3460012", "0.09"),
            rate("3460012", "0.05", valid_from=jul),
            rate("3460012", "0.07", valid_from=jan),
        )
        assert sheet.find_rate("34600123", datetime(2025, 3, 1, tzinfo=UTC)).price == D("0.07")
        assert sheet.find_rate("34600123", datetime(2025, 8, 1, tzinfo=UTC)).price == D("0.05")
        assert sheet.find_rate("34600123", datetime(2024, 8, 1, tzinfo=UTC)).price == D("0.09")

    def test_two_unconditional_rows_of_a_long_prefix_keep_the_first(self) -> None:
        # compile_sheet takes rates built in code too; the deck parser refuses such twins.
        sheet = plan(rate("3460012", "0.09"), rate("3460012", "0.05"), rate("34", "0.01"))
        assert sheet.find_rate("34600123", MONDAY_NOON).price == D("0.09")


class TestLongPrefixesAcrossABandEdge:
    """A call on a banded long prefix is split at 18:00 (docs/rates.md, band edges)."""

    PEAK = {"weekdays": WEEKDAYS, "time_from": time(8), "time_to": time(18)}
    OFF_PEAK = {"weekdays": WEEKDAYS, "time_from": time(18), "time_to": time(8)}

    def test_the_long_prefix_goes_on_at_its_own_next_band(self) -> None:
        sheet = plan(
            rate("3460012", "0.60", **self.PEAK),
            rate("3460012", "0.30", **self.OFF_PEAK),
            rate("34", "6.00"),
        )
        rated = sheet.rate_call(CallToRate("34600123", MONDAY_17_59_30, 60))
        assert [(p.start_second, p.seconds, p.price) for p in rated.parts] == [
            (0, 30, D("0.60")),
            (30, 30, D("0.30")),
        ]
        assert rated.cost == D("0.4500")

    def test_without_its_next_band_the_long_prefix_falls_back_to_a_short_one(self) -> None:
        sheet = plan(rate("3460012", "0.60", **self.PEAK), rate("34", "0.12"))
        rated = sheet.rate_call(CallToRate("34600123", MONDAY_17_59_30, 60))
        assert [(p.start_second, p.price) for p in rated.parts] == [(0, D("0.60")), (30, D("0.12"))]
        assert rated.cost == D("0.3600")

    def test_a_short_prefix_call_is_split_at_a_long_fallbacks_band_edge(self) -> None:
        # The call starts on 34 (peak); at 18:00 34 has no rate, and the longest prefix
        # with one is 3460012, whose own band ends at 18:00:45.
        sheet = plan(
            rate("34", "0.60", **self.PEAK),
            rate("3460012", "0.30", weekdays=WEEKDAYS, time_from=time(18), time_to=time(18, 0, 45)),
            rate("346", "1.20", weekdays=WEEKDAYS, time_from=time(18), time_to=time(8)),
        )
        rated = sheet.rate_call(CallToRate("34600123", MONDAY_17_59_30, 90))
        assert [(p.start_second, p.seconds, p.price) for p in rated.parts] == [
            (0, 30, D("0.60")),
            (30, 45, D("0.30")),
            (75, 15, D("1.20")),
        ]

    def test_max_duration_stops_where_no_long_or_short_prefix_has_a_rate(self) -> None:
        sheet = plan(rate("3460012", "0.60", **self.PEAK))
        assert sheet.max_duration("34600123", MONDAY_17_59_30, D("100")) == 30

    def test_a_five_digit_prefix_goes_on_at_its_own_next_band(self) -> None:
        # five digits: the shortest prefix kept in a bucket; a longer prefix with a rate
        # in the next band does not take the call over (the call's own prefix first)
        sheet = plan(
            rate("34600", "0.60", **self.PEAK),
            rate("34600", "0.30", **self.OFF_PEAK),
            rate("3460012", "1.20", **self.OFF_PEAK),
        )
        rated = sheet.rate_call(CallToRate("34600123", MONDAY_17_59_30, 60))
        assert [(p.start_second, p.price) for p in rated.parts] == [(0, D("0.60")), (30, D("0.30"))]
