"""Properties of the cost of a call, over generated rates, sheets and calls.

Decimals are generated from integers (never through a float), and the sheets with bands
cover the whole week (peak, off-peak, weekend) in Europe/Madrid, over a fortnight that
includes a change to summer time.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal, localcontext
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from rating import (
    BlockMode,
    CallToRate,
    Rate,
    RateSheet,
    RatingPlan,
    Rounding,
    Tier,
    compile_sheet,
)
from rating.blocks import ceil_to, opening_seconds
from rating.money import quantize

NUMBER = "34600123456"
FORTNIGHT_START = datetime(2025, 3, 24, tzinfo=UTC)  # Madrid moves its clocks on 30 March
WEEKDAYS = frozenset(range(5))
BANDS: tuple[dict[str, Any], ...] = (
    {"weekdays": WEEKDAYS, "time_from": time(8), "time_to": time(18)},
    {"weekdays": WEEKDAYS, "time_from": time(18), "time_to": time(8)},
    {"weekdays": frozenset({5, 6})},
)

# No deadline: the first examples pay for loading time zones, and CI machines are slow.
# The mutation profile (tests/conftest.py) asks for fewer examples: keep its number.
properties = settings(deadline=None, max_examples=min(150, settings.default.max_examples * 2))


def decimals(high: int, places: int = 4) -> st.SearchStrategy[Decimal]:
    return st.integers(0, high).map(lambda n: Decimal(n).scaleb(-places))


prices = decimals(20_000)  # up to 2.0000 a minute


@st.composite
def tiers(draw: st.DrawFn) -> tuple[Tier, ...]:
    gaps = draw(st.lists(st.integers(1, 300), min_size=0, max_size=3))
    starts = [0]
    for gap in gaps:
        starts.append(starts[-1] + gap)
    return tuple(Tier(start, draw(prices), draw(st.integers(1, 90))) for start in starts)


@st.composite
def rates(draw: st.DrawFn, with_limits: bool = True) -> Rate:
    rate = Rate(
        "34",
        "Spain",
        price=draw(prices),
        tiers=draw(st.one_of(st.just(()), tiers())),
        initial_increment=draw(st.integers(0, 120)),
        increment=draw(st.integers(1, 120)),
        connect_fee=draw(decimals(1000)),
    )
    if not with_limits:
        return rate
    min_cost = draw(decimals(5000))
    return replace(
        rate,
        included_seconds=draw(st.integers(0, 90)),
        free_below=draw(st.integers(0, 30)),
        min_cost=min_cost,
        max_cost=draw(st.one_of(st.none(), decimals(50_000).map(lambda m: m + min_cost))),
    )


@st.composite
def plans(draw: st.DrawFn, with_limits: bool = True) -> RatingPlan:
    """A sheet of one rate, or of three rates that split the week into bands."""
    mode = draw(st.sampled_from(BlockMode))
    rounding = draw(st.sampled_from(Rounding))
    decimals = draw(st.integers(0, 6))
    if draw(st.booleans()):
        sheet_rates: tuple[Rate, ...] = (draw(rates(with_limits)),)
    else:
        sheet_rates = tuple(replace(draw(rates(with_limits)), **band) for band in BANDS)
    sheet = RateSheet(
        "p",
        sheet_rates,
        block_mode=mode,
        timezone="Europe/Madrid",
        decimals=decimals,
        rounding=rounding,
    )
    return compile_sheet(sheet)


starts = st.builds(
    lambda seconds, micro: FORTNIGHT_START + timedelta(seconds=seconds, microseconds=micro),
    st.integers(0, 14 * 86400),
    st.sampled_from([0, 0, 500_000]),
)
durations = st.integers(0, 3 * 3600)


def cost(plan: RatingPlan, start: datetime, billsec: int, answered: bool = True) -> Decimal:
    return plan.rate_call(CallToRate(NUMBER, start, billsec, answered)).cost


class TestCostProperties:
    @properties
    @given(plans(), starts, durations, st.booleans())
    def test_a_cost_is_never_negative(
        self, plan: RatingPlan, start: datetime, billsec: int, answered: bool
    ) -> None:
        rated = plan.rate_call(CallToRate(NUMBER, start, billsec, answered))
        assert rated.cost >= 0
        assert rated.exact_cost >= 0
        assert all(part.exact_cost >= 0 for part in rated.parts)

    @properties
    @given(plans(), starts, durations, st.integers(1, 3600))
    def test_a_longer_call_never_costs_less(
        self, plan: RatingPlan, start: datetime, billsec: int, more: int
    ) -> None:
        assert cost(plan, start, billsec) <= cost(plan, start, billsec + more)

    @properties
    @given(plans(), starts, durations)
    def test_billed_seconds_are_the_sum_of_the_parts_and_cover_the_call(
        self, plan: RatingPlan, start: datetime, billsec: int
    ) -> None:
        rated = plan.rate_call(CallToRate(NUMBER, start, billsec))
        assert rated.billed_seconds == sum(part.billed_seconds for part in rated.parts)
        position = 0
        for part in rated.parts:
            assert part.start_second == position
            assert part.billed_seconds >= part.seconds > 0
            position += part.seconds
        if rated.parts:
            assert position == billsec - rated.rate.included_seconds

    @properties
    @given(st.data(), starts, durations, st.integers(1, 60), st.integers(0, 4))
    def test_both_block_modes_agree_when_the_initial_block_is_whole_increments(
        self, data: st.DataObject, start: datetime, billsec: int, increment: int, blocks: int
    ) -> None:
        rate = replace(
            data.draw(rates()), tiers=(), initial_increment=blocks * increment, increment=increment
        )
        first_block, whole_call = (
            compile_sheet(RateSheet("m", (rate,), block_mode=mode))
            for mode in (BlockMode.FIRST_BLOCK, BlockMode.WHOLE_CALL)
        )
        call = CallToRate(NUMBER, start, billsec)
        assert first_block.rate_call(call) == whole_call.rate_call(call)


class TestBandSplitProperties:
    @properties
    @given(plans(with_limits=False), starts, durations)
    def test_a_call_costs_its_starting_connect_fee_plus_its_parts(
        self, plan: RatingPlan, start: datetime, billsec: int
    ) -> None:
        rated = plan.rate_call(CallToRate(NUMBER, start, billsec))
        if not rated.parts:
            return
        with localcontext(prec=50):
            amounts = (part.price * part.billed_seconds for part in rated.parts)
            raw = rated.rate.connect_fee + sum(amounts, Decimal(0)) / 60
        assert rated.exact_cost == quantize(raw)
        assert rated.cost == quantize(raw, plan.sheet.decimals, plan.sheet.rounding)

    @properties
    @given(
        st.data(),
        st.integers(1, 3600),
        st.integers(1, 3600),
        st.sampled_from(BlockMode),
    )
    def test_a_call_split_at_18_00_costs_its_peak_part_plus_its_off_peak_part(
        self, data: st.DataObject, before: int, after: int, mode: BlockMode
    ) -> None:
        peak, off_peak = (
            replace(data.draw(rates(with_limits=False)), tiers=(), **band) for band in BANDS[:2]
        )
        plan = compile_sheet(
            RateSheet("s", (peak, off_peak), block_mode=mode, timezone="Europe/Madrid")
        )
        start = datetime(2025, 1, 6, 17, tzinfo=UTC) - timedelta(seconds=before)  # 18:00 CET
        assert peak.price is not None and off_peak.price is not None
        peak_seconds = opening_seconds(before, peak.initial_increment, peak.increment, mode)
        off_peak_seconds = ceil_to(after, off_peak.increment)
        expected = (
            peak.connect_fee + (peak.price * peak_seconds + off_peak.price * off_peak_seconds) / 60
        )
        rated = plan.rate_call(CallToRate(NUMBER, start, before + after))
        assert rated.exact_cost == quantize(expected)
        assert [part.seconds for part in rated.parts] == [before, after]


class TestMaxDurationProperties:
    @properties
    @given(plans(), starts, decimals(2000, places=2), st.integers(0, 7200))
    def test_max_duration_is_the_longest_affordable_call(
        self, plan: RatingPlan, start: datetime, available: Decimal, limit: int
    ) -> None:
        longest = plan.max_duration(NUMBER, start, available, limit)
        assert 0 <= longest <= limit
        assert cost(plan, start, longest) <= available or longest == 0
        assert longest == limit or cost(plan, start, longest + 1) > available
