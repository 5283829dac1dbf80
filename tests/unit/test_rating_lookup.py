"""RatingPlan.find_rate: the longest prefix whose rate applies at the moment."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

from rating import NoRateForDestination, Rate, RateSheet, RatingPlan, compile_sheet

D = Decimal
JAN_1 = datetime(2025, 1, 1, tzinfo=UTC)
JUL_1 = datetime(2025, 7, 1, tzinfo=UTC)
MONDAY_NOON = datetime(2025, 1, 6, 12, 0, tzinfo=UTC)
SATURDAY_NOON = datetime(2025, 1, 11, 12, 0, tzinfo=UTC)
WEEKDAYS = frozenset(range(5))
WEEKEND = frozenset({5, 6})


def plan(*rates: Rate, timezone: str = "UTC") -> RatingPlan:
    return compile_sheet(RateSheet("test", rates, timezone=timezone))


def rate(prefix: str, price: str = "0.10", **fields: Any) -> Rate:
    return Rate(prefix, f"dest {prefix}", price=D(price), **fields)


class TestLongestPrefix:
    def test_the_longest_matching_prefix_wins(self) -> None:
        found = plan(rate("3"), rate("34"), rate("346"), rate("3461")).find_rate(
            "34612345678", MONDAY_NOON
        )
        assert found.prefix == "3461"

    def test_a_shorter_prefix_is_used_when_no_longer_one_matches(self) -> None:
        found = plan(rate("34"), rate("3469")).find_rate("34612345678", MONDAY_NOON)
        assert found.prefix == "34"

    def test_a_prefix_as_long_as_the_number_matches(self) -> None:
        assert plan(rate("112")).find_rate("112", MONDAY_NOON).prefix == "112"

    def test_a_prefix_longer_than_the_number_does_not_match(self) -> None:
        with pytest.raises(NoRateForDestination):
            plan(rate("34612")).find_rate("3461", MONDAY_NOON)

    def test_no_matching_prefix_raises_no_rate_for_destination(self) -> None:
        with pytest.raises(NoRateForDestination) as raised:
            plan(rate("34")).find_rate("44123", MONDAY_NOON)
        assert raised.value.code == "NoRateForDestination"

    def test_a_sheet_without_rates_rates_nothing(self) -> None:
        with pytest.raises(NoRateForDestination):
            plan().find_rate("34", MONDAY_NOON)


class TestValidity:
    def test_a_rate_applies_from_valid_from_inclusive(self) -> None:
        found = plan(rate("34", valid_from=JUL_1)).find_rate("346", JUL_1)
        assert found.prefix == "34"

    def test_a_rate_does_not_apply_at_valid_to(self) -> None:
        with pytest.raises(NoRateForDestination):
            plan(rate("34", valid_to=JUL_1)).find_rate("346", JUL_1)

    def test_validity_compares_instants_whatever_the_offset(self) -> None:
        madrid_morning = datetime(2025, 7, 1, 1, 0, tzinfo=timezone(timedelta(hours=2)))
        with pytest.raises(NoRateForDestination):
            plan(rate("34", valid_from=JUL_1)).find_rate("346", madrid_morning)

    def test_a_longer_prefix_not_yet_valid_does_not_hide_a_shorter_valid_one(self) -> None:
        sheet = plan(rate("34"), rate("346", valid_from=JUL_1))
        assert sheet.find_rate("34612", JAN_1).prefix == "34"
        assert sheet.find_rate("34612", JUL_1).prefix == "346"

    def test_a_rate_loaded_ahead_of_its_day_supersedes_the_open_ended_one(self) -> None:
        sheet = plan(rate("34", "0.10"), rate("34", "0.08", valid_from=JUL_1))
        assert sheet.find_rate("346", JAN_1).price == D("0.10")
        assert sheet.find_rate("346", JUL_1).price == D("0.08")

    def test_the_latest_valid_from_wins_in_any_sheet_order(self) -> None:
        newer = rate("34", "0.08", valid_from=JUL_1)
        older = rate("34", "0.10", valid_from=JAN_1)
        assert plan(newer, older).find_rate("346", JUL_1) == newer
        assert plan(older, newer).find_rate("346", JUL_1) == newer


class TestTimeBandLookup:
    def test_a_rate_applies_only_in_its_time_band(self) -> None:
        sheet = plan(
            rate("34", "0.20", weekdays=WEEKDAYS),
            rate("34", "0.05", weekdays=WEEKEND),
        )
        assert sheet.find_rate("346", MONDAY_NOON).price == D("0.20")
        assert sheet.find_rate("346", SATURDAY_NOON).price == D("0.05")

    def test_the_band_is_read_in_the_sheets_time_zone(self) -> None:
        peak = rate("34", "0.20", time_from=time(8), time_to=time(18))
        sheet = plan(peak, rate("3"), timezone="Asia/Tokyo")
        assert sheet.find_rate("346", datetime(2025, 1, 6, 0, tzinfo=UTC)).prefix == "34"
        assert sheet.find_rate("346", datetime(2025, 1, 6, 12, tzinfo=UTC)).prefix == "3"

    def test_time_to_is_exclusive(self) -> None:
        sheet = plan(rate("34", time_from=time(8), time_to=time(18)))
        assert sheet.find_rate("346", datetime(2025, 1, 6, 17, 59, 59, tzinfo=UTC))
        with pytest.raises(NoRateForDestination):
            sheet.find_rate("346", datetime(2025, 1, 6, 18, tzinfo=UTC))

    def test_a_band_ending_before_it_starts_wraps_past_midnight(self) -> None:
        sheet = plan(rate("34", time_from=time(22), time_to=time(6)))
        assert sheet.find_rate("346", datetime(2025, 1, 6, 23, tzinfo=UTC))
        assert sheet.find_rate("346", datetime(2025, 1, 7, 5, tzinfo=UTC))
        with pytest.raises(NoRateForDestination):
            sheet.find_rate("346", datetime(2025, 1, 7, 6, tzinfo=UTC))

    def test_a_wrapping_band_reads_the_weekday_of_the_moment(self) -> None:
        night = rate("34", weekdays=WEEKDAYS, time_from=time(18), time_to=time(8))
        sheet = plan(night)
        assert sheet.find_rate("346", datetime(2025, 1, 10, 23, tzinfo=UTC))  # Friday
        with pytest.raises(NoRateForDestination):
            sheet.find_rate("346", datetime(2025, 1, 11, 2, tzinfo=UTC))  # Saturday

    def test_a_banded_rate_wins_over_an_all_week_rate_of_the_same_prefix(self) -> None:
        sheet = plan(rate("34", "0.10"), rate("34", "0.05", weekdays=WEEKEND))
        assert sheet.find_rate("346", SATURDAY_NOON).price == D("0.05")
        assert sheet.find_rate("346", MONDAY_NOON).price == D("0.10")

    def test_a_longer_prefix_out_of_its_band_does_not_hide_a_shorter_one(self) -> None:
        sheet = plan(rate("34"), rate("346", weekdays=WEEKEND))
        assert sheet.find_rate("3461", MONDAY_NOON).prefix == "34"
        assert sheet.find_rate("3461", SATURDAY_NOON).prefix == "346"


class TestSharing:
    def test_one_plan_gives_the_same_answers_from_many_threads(self) -> None:
        sheet = plan(*(rate(str(prefix)) for prefix in range(100, 1000)))
        numbers = [f"{n}555" for n in range(100, 1000)] * 20

        def lookup(number: str) -> str:
            return sheet.find_rate(number, MONDAY_NOON).prefix

        with ThreadPoolExecutor(max_workers=8) as pool:
            assert list(pool.map(lookup, numbers)) == [n[:3] for n in numbers]
