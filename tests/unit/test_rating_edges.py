"""Edge cases of the rules in docs/rates.md and docs/design.md ("Rating") that a wrong line of
rating/ could break without another test noticing: tiers, block modes, the initial
block, max_duration, bands ending at 24:00, sheets in other zones, calls starting a
fraction of a second before an edge, promotions with an end."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import pytest

from rating import (
    BlockMode,
    CallToRate,
    NoRateForDestination,
    Rate,
    RateSheet,
    RatingPlan,
    Rounding,
    Tier,
    compile_sheet,
)
from rating.formats import parse_time

D = Decimal
NUMBER = "34600123456"
MONDAY_NOON = datetime(2025, 1, 6, 12, 0, tzinfo=UTC)
WEEKDAYS = frozenset(range(5))


def plan(*rates: Rate, **sheet: Any) -> RatingPlan:
    return compile_sheet(RateSheet("edges", rates, **sheet))


def spain(price: str | None = "0.60", **fields: Any) -> Rate:
    """0.60 a minute is 0.01 a second."""
    return Rate("34", "Spain", None if price is None else D(price), **fields)


def rated(sheet: RatingPlan, billsec: int, start: datetime = MONDAY_NOON) -> Any:
    return sheet.rate_call(CallToRate(NUMBER, start, billsec))


def longest_affordable(sheet: RatingPlan, available: Decimal, limit: int, start: datetime) -> int:
    """The rule of max_duration, by brute force: the longest billsec <= limit whose
    billed cost is <= available."""
    best = 0
    for billsec in range(limit + 1):
        if rated(sheet, billsec, start).cost <= available:
            best = billsec
    return best


THREE_TIERS = (Tier(0, D("0.60"), 60), Tier(60, D("0.30"), 1), Tier(120, D("0.06"), 10))


class TestTiers:
    def test_each_of_three_tiers_bills_at_its_own_price_and_increment(self) -> None:
        call = rated(plan(spain(None, tiers=THREE_TIERS)), 151)
        assert [(p.start_second, p.seconds, p.billed_seconds, p.price) for p in call.parts] == [
            (0, 60, 60, D("0.60")),
            (60, 60, 60, D("0.30")),
            (120, 31, 40, D("0.06")),
        ]
        assert call.cost == D("0.9400")  # 0.60 + 0.30 + 40 s at 0.001
        assert call.billed_seconds == 160

    def test_a_call_ending_inside_the_first_tier_is_billed_its_first_increment(self) -> None:
        call = rated(plan(spain(None, tiers=THREE_TIERS)), 1)
        assert (call.billed_seconds, call.cost) == (60, D("0.6000"))

    def test_a_call_ending_on_a_tier_start_has_no_part_in_the_next_tier(self) -> None:
        call = rated(plan(spain(None, tiers=THREE_TIERS)), 120)
        assert [p.start_second for p in call.parts] == [0, 60]
        assert call.cost == D("0.9000")

    def test_max_duration_walks_three_tiers(self) -> None:
        sheet = plan(spain(None, tiers=THREE_TIERS))
        # 0.60 + 0.30 pay for two minutes, and 0.0100 more for the third tier's first block
        assert sheet.max_duration(NUMBER, MONDAY_NOON, D("0.91")) == 130
        assert sheet.max_duration(NUMBER, MONDAY_NOON, D("0.9099")) == 120
        assert sheet.max_duration(NUMBER, MONDAY_NOON, D("0.5999")) == 0


class TestInitialBlock:
    """The initial block (docs/rates.md, initial_increment): billed whole, and a call no
    longer than it is billed exactly it, in both block modes."""

    @pytest.mark.parametrize("mode", list(BlockMode))
    def test_a_call_of_exactly_the_initial_block_is_billed_the_block(self, mode: BlockMode) -> None:
        # 45/60: in whole_call a 45 s call must not be rounded up to 60.
        call = rated(plan(spain(initial_increment=45, increment=60), block_mode=mode), 45)
        assert (call.billed_seconds, call.cost) == (45, D("0.4500"))

    @pytest.mark.parametrize(
        ("mode", "billed"), [(BlockMode.FIRST_BLOCK, 105), (BlockMode.WHOLE_CALL, 60)]
    )
    def test_one_second_past_the_initial_block_follows_the_block_mode(
        self, mode: BlockMode, billed: int
    ) -> None:
        call = rated(plan(spain(initial_increment=45, increment=60), block_mode=mode), 46)
        assert call.billed_seconds == billed

    @pytest.mark.parametrize(
        ("mode", "available", "seconds"),
        [
            (BlockMode.FIRST_BLOCK, "0.45", 45),
            (BlockMode.FIRST_BLOCK, "1.04", 45),
            (BlockMode.FIRST_BLOCK, "1.05", 105),
            (BlockMode.WHOLE_CALL, "0.45", 45),
            (BlockMode.WHOLE_CALL, "0.59", 45),
            (BlockMode.WHOLE_CALL, "0.60", 60),
            (BlockMode.WHOLE_CALL, "1.19", 60),
            (BlockMode.WHOLE_CALL, "1.20", 120),
        ],
    )
    def test_max_duration_follows_the_sheets_block_mode(
        self, mode: BlockMode, available: str, seconds: int
    ) -> None:
        sheet = plan(spain(initial_increment=45, increment=60), block_mode=mode)
        granted = sheet.max_duration(NUMBER, MONDAY_NOON, D(available))
        assert granted == seconds
        # never more seconds than the money pays for, as rate_call bills them
        assert rated(sheet, granted).cost <= D(available)
        assert rated(sheet, granted + 1).cost > D(available)

    @pytest.mark.parametrize("mode", list(BlockMode))
    def test_max_duration_is_the_longest_affordable_call_on_30_7(self, mode: BlockMode) -> None:
        sheet = plan(spain(initial_increment=30, increment=7), block_mode=mode)
        for cents in range(0, 80, 3):
            available = D(cents) / 100
            assert sheet.max_duration(NUMBER, MONDAY_NOON, available, 70) == longest_affordable(
                sheet, available, 70, MONDAY_NOON
            )


class TestMaxDurationEdges:
    def test_a_negative_available_amount_buys_nothing_even_with_included_seconds(self) -> None:
        sheet = plan(spain(included_seconds=60))
        assert sheet.max_duration(NUMBER, MONDAY_NOON, D("-0.01")) == 0
        assert sheet.max_duration(NUMBER, MONDAY_NOON, D("-0.01"), limit=30) == 0

    def test_included_seconds_fit_in_nothing_available(self) -> None:
        sheet = plan(spain(included_seconds=60))
        assert sheet.max_duration(NUMBER, MONDAY_NOON, D("0")) == 60
        assert sheet.max_duration(NUMBER, MONDAY_NOON, D("0"), limit=60) == 60
        assert sheet.max_duration(NUMBER, MONDAY_NOON, D("0"), limit=30) == 30
        assert sheet.max_duration(NUMBER, MONDAY_NOON, D("0.05")) == 65

    def test_a_limit_of_one_second(self) -> None:
        sheet = plan(spain())
        assert sheet.max_duration(NUMBER, MONDAY_NOON, D("0.01"), limit=1) == 1
        assert sheet.max_duration(NUMBER, MONDAY_NOON, D("0.0099"), limit=1) == 0
        assert sheet.max_duration(NUMBER, MONDAY_NOON, D("100"), limit=1) == 1

    def test_the_largest_limit_is_accepted(self) -> None:
        sheet = plan(spain("0"))
        assert sheet.max_duration(NUMBER, MONDAY_NOON, D("0"), limit=10**8) == 10**8

    def test_the_sheets_rounding_decides_what_is_affordable(self) -> None:
        # 0.60/min with 2 decimals: 1 s costs 0.01 exactly; 0.0061/s rounds differently
        sheet = plan(spain("0.366"), decimals=2, rounding=Rounding.DOWN)
        assert rated(sheet, 3).cost == D("0.01")  # 0.0183 rounded down
        assert sheet.max_duration(NUMBER, MONDAY_NOON, D("0.01"), 100) == longest_affordable(
            sheet, D("0.01"), 100, MONDAY_NOON
        )
        assert sheet.max_duration(NUMBER, MONDAY_NOON, D("0.01"), 100) == 3


MONDAY_23_59_30 = datetime(2025, 1, 6, 23, 59, 30, tzinfo=UTC)


class TestBandEdges:
    def test_a_band_ending_at_24_00_ends_at_midnight(self) -> None:
        evening = spain("0.30", time_from=time(18), time_to=parse_time("24:00", end=True))
        day = spain("0.60", time_from=time(0), time_to=time(18))
        sheet = plan(evening, day)
        call = rated(sheet, 60, MONDAY_23_59_30)
        assert [(p.start_second, p.price) for p in call.parts] == [(0, D("0.30")), (30, D("0.60"))]
        assert call.cost == D("0.4500")
        assert sheet.find_rate(NUMBER, datetime(2025, 1, 6, 23, 59, 59, tzinfo=UTC)) is evening
        assert sheet.find_rate(NUMBER, datetime(2025, 1, 7, 0, 0, tzinfo=UTC)) is day

    def test_a_sheet_in_another_zone_splits_at_its_own_18_00(self) -> None:
        # Madrid is UTC+1 in January: its 18:00 is 17:00 UTC, whatever the server's zone.
        peak = spain("0.60", weekdays=WEEKDAYS, time_from=time(8), time_to=time(18))
        off = spain("0.30", weekdays=WEEKDAYS, time_from=time(18), time_to=time(8))
        sheet = plan(peak, off, timezone="Europe/Madrid")
        start = datetime(2025, 1, 6, 16, 59, 40, tzinfo=UTC)
        call = rated(sheet, 60, start)
        assert [(p.start_second, p.price) for p in call.parts] == [(0, D("0.60")), (20, D("0.30"))]
        assert call.cost == D("0.4000")
        assert sheet.find_rate(NUMBER, datetime(2025, 1, 6, 17, 30, tzinfo=UTC)) is off
        assert sheet.find_rate(NUMBER, datetime(2025, 1, 6, 7, 30, tzinfo=UTC)) is peak

    def test_a_call_starting_a_fraction_of_a_second_before_an_edge(self) -> None:
        # A second belongs to the band it starts in: the call's first second starts at
        # 17:59:59.6, in the peak, and the second second is off-peak.
        peak = spain("0.60", weekdays=WEEKDAYS, time_from=time(8), time_to=time(18))
        off = spain("0.30", weekdays=WEEKDAYS, time_from=time(18), time_to=time(8))
        start = datetime(2025, 1, 6, 17, 59, 59, 600_000, tzinfo=UTC)
        call = rated(plan(peak, off), 10, start)
        assert [(p.start_second, p.seconds, p.price) for p in call.parts] == [
            (0, 1, D("0.60")),
            (1, 9, D("0.30")),
        ]
        assert call.cost == D("0.0550")

    def test_max_duration_across_an_edge_counts_each_band(self) -> None:
        peak = spain("0.60", weekdays=WEEKDAYS, time_from=time(8), time_to=time(18))
        off = spain("0.30", weekdays=WEEKDAYS, time_from=time(18), time_to=time(8))
        sheet = plan(peak, off)
        start = datetime(2025, 1, 6, 17, 59, 30, tzinfo=UTC)
        # 30 s of peak cost 0.30; 0.10 more buys 20 s of off-peak
        assert sheet.max_duration(NUMBER, start, D("0.40")) == 50


class TestPromotions:
    JAN = datetime(2025, 1, 1, tzinfo=UTC)
    FEB = datetime(2025, 2, 1, tzinfo=UTC)

    def sheet(self) -> RatingPlan:
        return plan(spain("0.60"), spain("0.30", valid_from=self.JAN, valid_to=self.FEB))

    def test_a_promotion_applies_from_its_start_to_its_end_exclusive(self) -> None:
        sheet = self.sheet()
        second = timedelta(seconds=1)
        assert sheet.find_rate(NUMBER, self.JAN - second).price == D("0.60")
        assert sheet.find_rate(NUMBER, self.JAN).price == D("0.30")
        assert sheet.find_rate(NUMBER, self.FEB - second).price == D("0.30")
        assert sheet.find_rate(NUMBER, self.FEB).price == D("0.60")

    def test_a_promotion_with_only_an_end_gives_way_to_the_open_ended_rate(self) -> None:
        sheet = plan(spain("0.30", valid_to=self.FEB), spain("0.60"))
        assert sheet.find_rate(NUMBER, self.FEB - timedelta(seconds=1)).price == D("0.30")
        assert sheet.find_rate(NUMBER, self.FEB).price == D("0.60")

    def test_a_call_across_the_promotions_end_is_priced_whole_at_its_start(self) -> None:
        call = rated(self.sheet(), 120, self.FEB - timedelta(seconds=60))
        assert [p.price for p in call.parts] == [D("0.30")]
        assert call.cost == D("0.6000")


class TestWholeDayBands:
    @pytest.mark.parametrize(
        ("start", "end"), [(time(8), time(8)), (time(0), parse_time("24:00", end=True))]
    )
    def test_a_band_ending_where_it_starts_wraps_round_the_whole_day(
        self, start: time, end: time
    ) -> None:
        # docs/rates.md: a band with time_to <= time_from wraps past midnight
        sheet = plan(spain("0.30", time_from=start, time_to=end))
        for hour in (0, 7, 8, 12, 23):
            at = datetime(2025, 1, 6, hour, 59, 59, tzinfo=UTC)
            assert sheet.find_rate(NUMBER, at).price == D("0.30")


class TestLongCalls:
    def test_a_call_of_two_weeks_is_split_at_each_edge_to_the_second(self) -> None:
        weekday = spain("0.60", weekdays=WEEKDAYS)
        weekend = spain("0.30", weekdays=frozenset({5, 6}))
        friday_noon = datetime(2025, 1, 10, 12, 0, tzinfo=UTC)
        call = rated(plan(weekday, weekend), 14 * 86400, friday_noon)
        day = 86400
        starts = [0, day // 2, day // 2 + 2 * day, day // 2 + 7 * day, day // 2 + 9 * day]
        assert [p.start_second for p in call.parts] == starts
        assert [p.price for p in call.parts] == [D("0.60"), D("0.30")] * 2 + [D("0.60")]


@pytest.fixture
def server_in_new_york() -> Any:
    """The server's own zone (TZ) must never change a price or a date."""
    import os
    import time as clock

    old = os.environ.get("TZ")
    os.environ["TZ"] = "America/New_York"
    clock.tzset()
    yield
    if old is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = old
    clock.tzset()


@pytest.mark.usefixtures("server_in_new_york")
class TestTheServersZoneDoesNotMatter:
    @pytest.mark.parametrize(
        ("zone", "start"),
        [
            # 22:00 in Tokyo is 13:00 UTC, and 08:00 on the server's clock in New York.
            ("Asia/Tokyo", datetime(2025, 1, 6, 12, 59, 30, tzinfo=UTC)),
            # 22:00 in Los Angeles is 06:00 UTC the next day: the edge is on the sheet's
            # date, which is not the UTC date of the call's start.
            ("America/Los_Angeles", datetime(2025, 1, 7, 5, 59, 30, tzinfo=UTC)),
        ],
    )
    def test_a_sheet_splits_at_its_own_22_00(self, zone: str, start: datetime) -> None:
        evening = spain("0.30", time_from=time(22), time_to=time(8))
        day = spain("0.60", time_from=time(8), time_to=time(22))
        call = rated(plan(evening, day, timezone=zone), 60, start)
        assert [(p.start_second, p.price) for p in call.parts] == [(0, D("0.60")), (30, D("0.30"))]

    def test_deck_dates_are_utc(self) -> None:
        from rating.formats import format_datetime, parse_datetime

        assert parse_datetime("2025-07-01") == datetime(2025, 7, 1, tzinfo=UTC)
        assert parse_datetime("2025-07-01T08:00:00") == datetime(2025, 7, 1, 8, tzinfo=UTC)
        new_york_noon = parse_datetime("2025-07-01T12:00:00-04:00")
        assert new_york_noon.utcoffset() == timedelta(0)
        assert format_datetime(new_york_noon) == "2025-07-01T16:00:00Z"
        assert format_datetime(datetime(2025, 7, 1, 4, tzinfo=UTC)) == "2025-07-01T04:00:00Z"
        assert format_datetime(datetime(2025, 7, 1, tzinfo=UTC)) == "2025-07-01"


class TestCallEnds:
    PEAK_ONLY = {"weekdays": WEEKDAYS, "time_from": time(8), "time_to": time(18)}

    def test_a_last_second_that_starts_before_the_edge_needs_no_next_rate(self) -> None:
        # 17:59:00.6 + 60 s: the 60th second starts at 17:59:59.6, in the peak
        start = datetime(2025, 1, 6, 17, 59, 0, 600_000, tzinfo=UTC)
        call = rated(plan(spain("0.60", **self.PEAK_ONLY)), 60, start)
        assert [(p.start_second, p.seconds) for p in call.parts] == [(0, 60)]
        assert call.cost == D("0.6000")

    def test_a_call_past_the_edge_without_a_rate_names_the_second(self) -> None:
        start = datetime(2025, 1, 6, 17, 59, 30, tzinfo=UTC)
        with pytest.raises(NoRateForDestination) as raised:
            rated(plan(spain("0.60", **self.PEAK_ONLY)), 60, start)
        assert str(raised.value) == f"no rate for {NUMBER} 30 s into the call"

    def test_an_unbilled_call_still_names_its_rate_and_destination(self) -> None:
        rate = spain("0.60", free_below=10)
        call = rated(plan(rate), 10)
        assert (call.cost, call.prefix, call.destination, call.rate) == (
            D("0.0000"),
            "34",
            "Spain",
            rate,
        )

    def test_a_parts_exact_cost_is_rounded_half_up(self) -> None:
        # 30 s at 0.000001 a minute is 0.0000005: half a millionth, rounded up
        call = rated(plan(spain("0.000001")), 30)
        assert [p.exact_cost for p in call.parts] == [D("0.000001")]
        assert call.exact_cost == D("0.000001")
