"""Calls that cross a time band's edge are split there, each part at its own band."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from rating import CallToRate, NoRateForDestination, Rate, RateSheet, RatingPlan, Tier
from rating import compile_sheet as compile_
from rating.model import CallCost

D = Decimal
MADRID = ZoneInfo("Europe/Madrid")
WEEKDAYS = frozenset(range(5))
WEEKEND = frozenset({5, 6})


def banded(
    prefix: str = "34",
    peak: str = "0.20",
    off_peak: str = "0.10",
    weekend: str = "0.05",
    **fields: Any,
) -> tuple[Rate, ...]:
    """Peak mon-fri 08:00-18:00, off-peak mon-fri 18:00-08:00 and the weekend."""
    return (
        Rate(
            prefix,
            "peak",
            D(peak),
            weekdays=WEEKDAYS,
            time_from=time(8),
            time_to=time(18),
            **fields,
        ),
        Rate(
            prefix,
            "off",
            D(off_peak),
            weekdays=WEEKDAYS,
            time_from=time(18),
            time_to=time(8),
            **fields,
        ),
        Rate(prefix, "weekend", D(weekend), weekdays=WEEKEND, **fields),
    )


def plan(*rates: Rate) -> RatingPlan:
    return compile_(RateSheet("bands", rates, timezone="Europe/Madrid"))


def call(start: datetime, billsec: int, number: str = "34600123456") -> CallToRate:
    return CallToRate(number, start, billsec)


def seconds_and_prices(cost: CallCost) -> list[tuple[int, int, int, Decimal]]:
    return [(p.start_second, p.seconds, p.billed_seconds, p.price) for p in cost.parts]


MONDAY_1759 = datetime(2025, 1, 6, 17, 59, tzinfo=MADRID)
FRIDAY_2359 = datetime(2025, 1, 10, 23, 59, tzinfo=MADRID)


class TestSplitAtBandEdges:
    def test_a_call_within_one_band_is_one_part(self) -> None:
        cost = plan(*banded()).rate_call(call(MONDAY_1759, 60))
        assert seconds_and_prices(cost) == [(0, 60, 60, D("0.20"))]

    def test_a_call_crossing_18_00_is_split_and_priced_at_each_band(self) -> None:
        cost = plan(*banded()).rate_call(call(MONDAY_1759, 90))
        assert seconds_and_prices(cost) == [(0, 60, 60, D("0.20")), (60, 30, 30, D("0.10"))]
        assert cost.exact_cost == D("0.25")
        assert [part.band for part in cost.parts] == ["mon-fri 08:00-18:00", "mon-fri 18:00-08:00"]

    def test_a_call_crossing_midnight_into_the_weekend_is_split(self) -> None:
        cost = plan(*banded()).rate_call(call(FRIDAY_2359, 120))
        assert seconds_and_prices(cost) == [(0, 60, 60, D("0.10")), (60, 60, 60, D("0.05"))]

    def test_a_long_call_is_split_at_every_edge_it_crosses(self) -> None:
        cost = plan(*banded()).rate_call(
            call(datetime(2025, 1, 10, 17, 0, tzinfo=MADRID), 8 * 3600)
        )
        assert [(p.start_second, p.price) for p in cost.parts] == [
            (0, D("0.20")),
            (3600, D("0.10")),
            (7 * 3600, D("0.05")),
        ]
        assert sum(part.seconds for part in cost.parts) == 8 * 3600

    def test_each_part_is_rounded_up_to_its_own_increment(self) -> None:
        rates = banded(initial_increment=60, increment=60)
        cost = plan(*rates).rate_call(call(MONDAY_1759.replace(second=30), 40))
        assert [(p.seconds, p.billed_seconds) for p in cost.parts] == [(30, 60), (10, 60)]
        assert cost.billed_seconds == 120
        assert cost.exact_cost == D("0.30")

    def test_only_the_part_that_opens_the_call_has_the_initial_block(self) -> None:
        rates = banded(initial_increment=45, increment=10)
        cost = plan(*rates).rate_call(call(MONDAY_1759.replace(second=50), 22))
        assert [(p.seconds, p.billed_seconds) for p in cost.parts] == [(10, 45), (12, 20)]

    def test_the_connect_fee_is_the_one_of_the_band_where_the_call_starts(self) -> None:
        peak, off_peak, weekend = banded()
        rates = (
            replace(peak, connect_fee=D("0.05")),
            replace(off_peak, connect_fee=D("0.50")),
            weekend,
        )
        cost = plan(*rates).rate_call(call(MONDAY_1759, 90))
        assert cost.exact_cost == D("0.30")
        assert cost.rate.destination == "peak"

    def test_a_second_belongs_to_the_band_it_starts_in(self) -> None:
        start = datetime(2025, 1, 6, 17, 59, 59, 500000, tzinfo=MADRID)
        cost = plan(*banded()).rate_call(call(start, 3))
        assert seconds_and_prices(cost) == [(0, 1, 1, D("0.20")), (1, 2, 2, D("0.10"))]

    def test_a_band_covering_the_whole_week_never_splits(self) -> None:
        every_day = Rate("34", price=D("0.1"), weekdays=frozenset(range(7)))
        cost = plan(every_day).rate_call(call(FRIDAY_2359, 3 * 86400))
        assert len(cost.parts) == 1


class TestNextBandRate:
    def test_without_its_prefix_in_the_next_band_the_longest_valid_prefix_prices_it(
        self,
    ) -> None:
        peak_only = banded(prefix="346")[0]
        fallback = Rate("34", "Spain", D("0.12"))
        cost = plan(peak_only, fallback).rate_call(call(MONDAY_1759, 90))
        assert seconds_and_prices(cost) == [(0, 60, 60, D("0.20")), (60, 30, 30, D("0.12"))]
        assert cost.prefix == "346"

    def test_the_same_prefix_is_preferred_in_the_next_band(self) -> None:
        longer_off_peak = Rate("3460", "longer", D("0.01"), weekdays=WEEKDAYS, time_from=time(18))
        cost = plan(*banded(prefix="346"), longer_off_peak).rate_call(call(MONDAY_1759, 90))
        assert [p.price for p in cost.parts] == [D("0.20"), D("0.10")]

    def test_without_any_rate_in_the_next_band_the_call_cannot_be_rated(self) -> None:
        peak_only = banded()[0]
        with pytest.raises(NoRateForDestination):
            plan(peak_only).rate_call(call(MONDAY_1759, 90))

    def test_a_call_ending_on_the_edge_needs_no_next_rate(self) -> None:
        peak_only = banded()[0]
        assert plan(peak_only).rate_call(call(MONDAY_1759, 60)).exact_cost == D("0.2")

    def test_the_tier_in_force_is_found_from_the_calls_start(self) -> None:
        peak = banded()[0]
        tiers = (Tier(0, D("0.10"), 60), Tier(60, D("0.05"), 1))
        off_peak = Rate(
            "34", "off", tiers=tiers, weekdays=WEEKDAYS, time_from=time(18), time_to=time(8)
        )
        cost = plan(peak, off_peak).rate_call(call(MONDAY_1759.replace(second=30), 90))
        assert seconds_and_prices(cost) == [
            (0, 30, 30, D("0.20")),
            (30, 30, 60, D("0.10")),
            (60, 30, 30, D("0.05")),
        ]
        assert cost.exact_cost == D("0.225")


class TestDaylightSaving:
    def test_band_edges_follow_the_local_clock_in_summer(self) -> None:
        # Monday 31 March 2025: 08:00 in Madrid is 06:00 UTC (CEST).
        start = datetime(2025, 3, 31, 5, 59, tzinfo=UTC)
        cost = plan(*banded()).rate_call(call(start, 120))
        assert [(p.seconds, p.price) for p in cost.parts] == [(60, D("0.10")), (60, D("0.20"))]

    def test_band_edges_follow_the_local_clock_in_winter(self) -> None:
        # Monday 24 March 2025: 08:00 in Madrid is 07:00 UTC (CET).
        start = datetime(2025, 3, 24, 6, 59, tzinfo=UTC)
        cost = plan(*banded()).rate_call(call(start, 120))
        assert [(p.seconds, p.price) for p in cost.parts] == [(60, D("0.10")), (60, D("0.20"))]

    def test_split_points_are_real_seconds_across_a_clock_change(self) -> None:
        # The night of 30 March 2025 has no 02:00-03:00: midnight to 06:00 lasts 5 hours.
        night = Rate("34", "night", D("0.01"), time_from=time(0), time_to=time(6))
        day = Rate("34", "day", D("0.02"), time_from=time(6), time_to=time(0))
        start = datetime(2025, 3, 30, 0, 0, tzinfo=MADRID)
        cost = plan(night, day).rate_call(call(start, 6 * 3600))
        assert [(p.start_second, p.seconds) for p in cost.parts] == [
            (0, 5 * 3600),
            (5 * 3600, 3600),
        ]


class TestRateChanges:
    def test_a_banded_rate_of_the_same_prefix_takes_over_from_an_all_week_rate(self) -> None:
        all_week = Rate("34", "all week", D("0.10"))
        weekend = Rate("34", "weekend", D("0.05"), weekdays=WEEKEND)
        cost = plan(all_week, weekend).rate_call(call(FRIDAY_2359, 120))
        assert [(p.seconds, p.price) for p in cost.parts] == [(60, D("0.10")), (60, D("0.05"))]
        assert [p.band for p in cost.parts] == ["all", "sat,sun"]

    def test_a_call_returns_to_its_prefix_when_its_band_comes_back(self) -> None:
        peak_only = banded(prefix="346")[0]
        fallback = Rate("34", "Spain", D("0.12"))
        cost = plan(peak_only, fallback).rate_call(call(MONDAY_1759, 15 * 3600))
        assert [(p.start_second, p.price) for p in cost.parts] == [
            (0, D("0.20")),
            (60, D("0.12")),
            (60 + 14 * 3600, D("0.20")),
        ]

    def test_a_fallback_rate_is_itself_split_at_its_band_edges(self) -> None:
        peak_only = banded(prefix="346")[0]
        _, off_peak, weekend = banded(prefix="34")
        friday_1759 = datetime(2025, 1, 10, 17, 59, tzinfo=MADRID)
        cost = plan(peak_only, off_peak, weekend).rate_call(call(friday_1759, 7 * 3600))
        assert [(p.start_second, p.price) for p in cost.parts] == [
            (0, D("0.20")),
            (60, D("0.10")),
            (60 + 6 * 3600, D("0.05")),
        ]

    def test_a_call_across_a_clock_change_inside_a_band_is_not_split(self) -> None:
        # 30 March 2025: 02:00 does not exist in Madrid; both edges land on one instant.
        early = Rate("34", "early", D("0.01"), time_from=time(0), time_to=time(2))
        gap = Rate("34", "gap", D("0.02"), time_from=time(2), time_to=time(3))
        late = Rate("34", "late", D("0.03"), time_from=time(3))
        start = datetime(2025, 3, 30, 1, 59, tzinfo=MADRID)
        cost = plan(early, gap, late).rate_call(call(start, 120))
        assert [(p.seconds, p.price) for p in cost.parts] == [(60, D("0.01")), (60, D("0.03"))]
