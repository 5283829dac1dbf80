"""RatingPlan.max_duration: the longest call that an available amount pays for."""

from __future__ import annotations

from datetime import UTC, datetime, time
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from rating import (
    CallToRate,
    InvalidInput,
    NoRateForDestination,
    Rate,
    RateSheet,
    RatingPlan,
    Rounding,
    Tier,
    compile_sheet,
)

D = Decimal
MONDAY_NOON = datetime(2025, 1, 6, 12, 0, tzinfo=UTC)
NUMBER = "34600123456"


def plan(*rates: Rate, **sheet: Any) -> RatingPlan:
    return compile_sheet(RateSheet("test", rates, **sheet))


def per_second(price: str = "0.60", **fields: Any) -> Rate:
    """0.60 a minute is 0.01 a second: easy sums."""
    return Rate("34", "Spain", D(price), **fields)


def max_duration(sheet: RatingPlan, available: str, limit: int = 86400) -> int:
    return sheet.max_duration(NUMBER, MONDAY_NOON, D(available), limit)


def cost(sheet: RatingPlan, billsec: int) -> Decimal:
    return sheet.rate_call(CallToRate(NUMBER, MONDAY_NOON, billsec)).cost


class TestFlatPrice:
    def test_buys_as_many_seconds_as_the_money_pays_for(self) -> None:
        assert max_duration(plan(per_second()), "1.00") == 100

    def test_stops_before_the_block_it_cannot_pay(self) -> None:
        sheet = plan(per_second("0.10", initial_increment=60, increment=60))
        assert max_duration(sheet, "0.25") == 120
        assert cost(sheet, 120) == D("0.2") < cost(sheet, 121)

    def test_is_0_when_not_even_the_initial_block_is_affordable(self) -> None:
        sheet = plan(per_second("0.10", initial_increment=60, increment=60))
        assert max_duration(sheet, "0.09") == 0

    def test_is_0_with_nothing_available(self) -> None:
        assert max_duration(plan(per_second()), "0") == 0

    def test_is_0_with_less_than_nothing_available(self) -> None:
        assert max_duration(plan(per_second()), "-5") == 0

    def test_counts_the_connect_fee(self) -> None:
        assert max_duration(plan(per_second(connect_fee=D("0.05"))), "1.00") == 95

    def test_counts_the_minimum_cost(self) -> None:
        sheet = plan(per_second(min_cost=D("0.50")))
        assert max_duration(sheet, "0.49") == 0
        assert max_duration(sheet, "0.50") == 50

    def test_compares_the_billed_cost_after_the_sheets_rounding(self) -> None:
        # 0.10/min: 6 s cost 0.01 exactly, 8 s cost 0.0133 and 9 s cost 0.015.
        rate = per_second("0.10")
        assert max_duration(plan(rate, decimals=2, rounding=Rounding.UP), "0.01") == 6
        assert max_duration(plan(rate, decimals=2, rounding=Rounding.HALF_UP), "0.01") == 8
        assert max_duration(plan(rate, decimals=2, rounding=Rounding.DOWN), "0.01") == 11


class TestLimits:
    def test_never_exceeds_the_limit(self) -> None:
        assert max_duration(plan(per_second()), "1000", limit=3600) == 3600

    def test_a_free_destination_gets_the_whole_limit(self) -> None:
        assert max_duration(plan(per_second("0")), "0") == 86400

    def test_a_capped_call_cost_gets_the_whole_limit_when_the_cap_is_affordable(self) -> None:
        assert max_duration(plan(per_second(max_cost=D("2"))), "2") == 86400

    def test_included_seconds_are_free(self) -> None:
        sheet = plan(per_second(included_seconds=60))
        assert max_duration(sheet, "0") == 60
        assert max_duration(sheet, "1.00") == 160

    def test_included_seconds_beyond_the_limit_give_the_limit(self) -> None:
        assert max_duration(plan(per_second(included_seconds=600)), "0", limit=300) == 300

    def test_calls_under_free_below_are_free(self) -> None:
        sheet = plan(per_second(free_below=5, connect_fee=D("1")))
        assert max_duration(sheet, "0") == 5
        assert max_duration(sheet, "1.06") == 6

    def test_a_limit_of_0_gives_0(self) -> None:
        assert max_duration(plan(per_second()), "10", limit=0) == 0


class TestTiersAndBands:
    def test_walks_the_tiers(self) -> None:
        tiers = (Tier(0, D("0.10"), 60), Tier(60, D("0.05"), 1))
        sheet = plan(Rate("34", tiers=tiers))
        assert max_duration(sheet, "0.15") == 120
        assert max_duration(sheet, "0.099") == 0

    def test_walks_the_bands_the_call_would_cross(self) -> None:
        madrid = ZoneInfo("Europe/Madrid")
        peak = per_second("0.20", weekdays=frozenset(range(5)), time_to=time(18))
        off_peak = per_second("0.10", time_from=time(18))
        sheet = plan(peak, off_peak, timezone="Europe/Madrid")
        start = datetime(2025, 1, 6, 17, 59, tzinfo=madrid)
        # 60 s of peak cost 0.20; the remaining 0.80 buy 480 s of off-peak.
        assert sheet.max_duration(NUMBER, start, D("1.00")) == 540

    def test_stops_at_an_edge_after_which_nothing_could_rate_the_call(self) -> None:
        madrid = ZoneInfo("Europe/Madrid")
        peak_only = per_second("0.20", time_to=time(18))
        sheet = plan(peak_only, timezone="Europe/Madrid")
        start = datetime(2025, 1, 6, 17, 59, tzinfo=madrid)
        assert sheet.max_duration(NUMBER, start, D("100")) == 60


class TestInputs:
    def test_an_unknown_destination_raises_no_rate_for_destination(self) -> None:
        with pytest.raises(NoRateForDestination):
            plan(per_second()).max_duration("44", MONDAY_NOON, D("1"))

    @pytest.mark.parametrize("available", [1.0, "1", D("NaN"), D("Infinity"), None])
    def test_available_must_be_a_finite_decimal(self, available: object) -> None:
        with pytest.raises(InvalidInput):
            plan(per_second()).max_duration(NUMBER, MONDAY_NOON, available)  # type: ignore[arg-type]

    @pytest.mark.parametrize("limit", [-1, 10**9, True])
    def test_limit_must_be_a_sensible_whole_number(self, limit: int) -> None:
        with pytest.raises(InvalidInput):
            plan(per_second()).max_duration(NUMBER, MONDAY_NOON, D("1"), limit)
