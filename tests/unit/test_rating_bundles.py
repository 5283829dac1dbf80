"""The bundle split on worked examples (docs/rates.md, "Bundles: the split")."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time
from decimal import Decimal
from typing import Any

import pytest

from rating import CallToRate, InvalidInput, Rate, RateSheet, RatingPlan, Tier, compile_sheet
from rating.bundles import (
    CALLS,
    SECONDS,
    Allowance,
    BundleSplit,
    Consumption,
    applicable,
    max_seconds_with_bundles,
    split_call,
)

MOBILE = "34612345678"
MONDAY_17_56 = datetime(2025, 1, 6, 16, 56, tzinfo=UTC)  # Madrid is UTC+1 in January
WEEKDAYS = frozenset(range(5))


def flat(price: str, initial: int = 1, increment: int = 1, **more: Any) -> RatingPlan:
    rate = Rate("34", "Spain", Decimal(price), initial_increment=initial, increment=increment)
    return compile_sheet(RateSheet("flat", (replace(rate, **more),)))


def per_second(
    bundle_id: int, remaining: int, prefixes: tuple[str, ...] | None = None
) -> Allowance:
    return Allowance(bundle_id, SECONDS, remaining, True, prefixes)


def peak_and_off_peak() -> RatingPlan:
    """Peak: 0.10 a minute in blocks of 60 s for two minutes, then 0.05 per second, and
    0.03 to connect; off-peak: 0.02 a minute in blocks of 60 s."""
    peak = Rate(
        "346",
        "Spain mobile",
        tiers=(Tier(0, Decimal("0.10"), 60), Tier(120, Decimal("0.05"), 1)),
        connect_fee=Decimal("0.03"),
        weekdays=WEEKDAYS,
        time_from=time(8),
        time_to=time(18),
    )
    off_peak = Rate(
        "346",
        "Spain mobile",
        Decimal("0.02"),
        initial_increment=60,
        increment=60,
        connect_fee=Decimal("0.03"),
        weekdays=WEEKDAYS,
        time_from=time(18),
        time_to=time(8),
    )
    return compile_sheet(RateSheet("es", (peak, off_peak), timezone="Europe/Madrid"))


class TestTheWorkedExample:
    def test_five_minutes_with_three_bundle_minutes_left(self) -> None:
        plan = peak_and_off_peak()
        call = CallToRate(MOBILE, MONDAY_17_56, 300)
        split = split_call(plan, call, [per_second(7, 180, ("346",))])
        assert (split.free_seconds, split.paid_seconds) == (180, 120)
        assert split.consumed == (Consumption(7, 180),)
        # 17:59-18:00 at the peak's second tier (0.05, per second), 18:00-18:01 off-peak
        # in a block of 60 s (no new initial block); no connect fee: the call began free.
        prices = [(p.start_second, p.seconds, p.billed_seconds, p.price) for p in split.paid.parts]
        assert prices == [(180, 60, 60, Decimal("0.05")), (240, 60, 60, Decimal("0.02"))]
        assert split.paid.cost == Decimal("0.0700")
        # Without the bundle: 0.20 + 0.10 + 0.02 and the connect fee.
        assert plan.rate_call(call).cost == Decimal("0.3500")

    def test_the_paid_part_bills_from_the_offset_in_the_increments_in_force(self) -> None:
        plan = peak_and_off_peak()
        call = CallToRate(MOBILE, MONDAY_17_56, 300)
        split = split_call(plan, call, [per_second(7, 30)])
        # 30 s free inside the first 60 s block: the rest of that block is paid (30 s,
        # not a new block of 60), then the tiers as the whole call has them.
        parts = [(p.start_second, p.billed_seconds, p.price) for p in split.paid.parts]
        assert parts == [
            (30, 90, Decimal("0.10")),
            (120, 120, Decimal("0.05")),
            (240, 60, Decimal("0.02")),
        ]
        assert split.paid.cost == Decimal("0.2700")


class TestConsumption:
    def test_after_a_bundle_ends_mid_block_the_rest_is_rounded_from_there(self) -> None:
        plan = flat("0.06", 60, 60)  # a 90 s call bills 120 s
        split = split_call(plan, CallToRate(MOBILE, MONDAY_17_56, 90), [per_second(1, 30)])
        # The 60 s left are one block of 60 s from second 30, not the 90 s the call
        # has left of its own two blocks.
        assert [(p.start_second, p.billed_seconds) for p in split.paid.parts] == [(30, 60)]
        assert split.paid.cost == Decimal("0.0600")

    def test_a_bundle_at_increments_covers_whole_blocks_and_keeps_the_rest(self) -> None:
        plan = flat("0.06", 60, 60, connect_fee=Decimal("0.10"))
        call = CallToRate(MOBILE, MONDAY_17_56, 150)
        split = split_call(plan, call, [Allowance(1, SECONDS, 100, False, None)])
        assert split.consumed == (Consumption(1, 60),)
        assert (split.free_seconds, split.paid_seconds) == (60, 90)
        assert split.paid.billed_seconds == 120
        assert split.paid.cost == Decimal("0.1200")

    def test_a_bundle_at_increments_that_covers_the_call_pays_its_billed_seconds(self) -> None:
        plan = flat("0.06", 60, 60)
        split = split_call(
            plan, CallToRate(MOBILE, MONDAY_17_56, 61), [Allowance(1, SECONDS, 120, False, None)]
        )
        assert split.consumed == (Consumption(1, 120),)
        assert (split.free_seconds, split.paid.cost, split.paid.parts) == (61, 0, ())

    def test_too_little_for_the_initial_block_covers_nothing(self) -> None:
        plan = flat("0.06", 60, 60, connect_fee=Decimal("0.10"))
        call = CallToRate(MOBILE, MONDAY_17_56, 150)
        split = split_call(plan, call, [Allowance(1, SECONDS, 59, False, None)])
        assert split == BundleSplit(0, 150, (), plan.rate_call(call))
        assert split.paid.cost == Decimal("0.2800")  # the connect fee: the call began paid

    def test_a_calls_bundle_pays_one_call_for_the_rest_of_it(self) -> None:
        plan = flat("0.06")
        call = CallToRate(MOBILE, MONDAY_17_56, 3600)
        split = split_call(plan, call, [per_second(1, 60), Allowance(2, CALLS, 5, True, None)])
        assert split.consumed == (Consumption(1, 60), Consumption(2, 1))
        assert (split.free_seconds, split.paid_seconds, split.paid.cost) == (3600, 0, 0)

    def test_bundles_are_used_in_their_order_and_only_where_they_apply(self) -> None:
        plan = flat("0.06")
        bundles = [
            per_second(1, 60, ("35",)),
            per_second(2, 0),
            per_second(3, 60, ("3461", "3")),
            per_second(4, 500),
            per_second(5, 500),
        ]
        split = split_call(plan, CallToRate(MOBILE, MONDAY_17_56, 200), bundles)
        assert split.consumed == (Consumption(3, 60), Consumption(4, 140))
        assert split.free_seconds == 200

    def test_the_declared_order_beats_a_longer_prefix(self) -> None:
        plan = flat("0.06")
        spain, mobiles = per_second(1, 50, ("34",)), per_second(2, 500, ("346",))
        split = split_call(plan, CallToRate(MOBILE, MONDAY_17_56, 100), [spain, mobiles])
        assert split.consumed == (Consumption(1, 50), Consumption(2, 50))

    def test_an_inbound_call_uses_only_the_bundles_that_cover_inbound_calls(self) -> None:
        plan = flat("0.06")
        outbound_only = per_second(1, 500)
        both = Allowance(2, SECONDS, 500, True, None, inbound=True)
        call = CallToRate(MOBILE, MONDAY_17_56, 100)
        assert split_call(plan, call, [outbound_only, both], inbound=True).consumed == (
            Consumption(2, 100),
        )
        assert split_call(plan, call, [outbound_only, both]).consumed == (Consumption(1, 100),)
        assert applicable([outbound_only], MOBILE, inbound=True) == []

    def test_the_sheets_own_free_seconds_never_come_from_a_bundle(self) -> None:
        plan = flat("0.06", included_seconds=30, free_below=5)
        bundles = [per_second(1, 500)]
        for call in (
            CallToRate(MOBILE, MONDAY_17_56, 100, answered=False),
            CallToRate(MOBILE, MONDAY_17_56, 5),
            CallToRate(MOBILE, MONDAY_17_56, 30),
        ):
            split = split_call(plan, call, bundles)
            assert (split.free_seconds, split.consumed) == (0, ())
            assert split.paid == plan.rate_call(call)
        split = split_call(plan, CallToRate(MOBILE, MONDAY_17_56, 100), bundles)
        assert (split.free_seconds, split.paid_seconds, split.consumed) == (
            70,
            30,
            (Consumption(1, 70),),
        )
        assert split.paid.cost == 0
        split = split_call(plan, CallToRate(MOBILE, MONDAY_17_56, 31), bundles)
        assert (split.free_seconds, split.consumed) == (1, (Consumption(1, 1),))

    def test_a_call_of_free_below_seconds_takes_nothing_even_past_the_included_ones(
        self,
    ) -> None:
        plan = flat("0.06", included_seconds=2, free_below=10)
        bundles = [per_second(1, 500)]
        for billsec in (8, 10):
            split = split_call(plan, CallToRate(MOBILE, MONDAY_17_56, billsec), bundles)
            assert (split.free_seconds, split.consumed, split.paid.cost) == (0, (), 0)
        split = split_call(plan, CallToRate(MOBILE, MONDAY_17_56, 11), bundles)
        assert (split.free_seconds, split.consumed) == (9, (Consumption(1, 9),))

    def test_a_bundle_after_the_call_is_covered_takes_nothing(self) -> None:
        plan = flat("0.06")
        bundles = [per_second(1, 100), Allowance(2, CALLS, 1, False, None), per_second(3, 9)]
        split = split_call(plan, CallToRate(MOBILE, MONDAY_17_56, 100), bundles)
        assert split.consumed == (Consumption(1, 100),)

    def test_a_catch_all_group_covers_every_number(self) -> None:
        assert Allowance(1, SECONDS, 10, True, ("*",)).covers("99")
        assert Allowance(1, SECONDS, 10, True, None).covers("99")
        assert not Allowance(1, SECONDS, 10, True, ()).covers("99")
        assert not Allowance(1, SECONDS, 10, True, ("34",)).covers("3")


class TestMaxSeconds:
    def test_bundle_seconds_alone_grant_exactly_them(self) -> None:
        plan = flat("0.06", connect_fee=Decimal("0.05"))
        answer = max_seconds_with_bundles(
            plan, MOBILE, MONDAY_17_56, Decimal("0.00"), 3600, [per_second(1, 300)]
        )
        assert answer == (300, 300)

    def test_money_pays_on_from_where_the_bundles_end(self) -> None:
        plan = flat("0.06", connect_fee=Decimal("0.05"))
        bundles = [per_second(1, 300)]
        answer = max_seconds_with_bundles(
            plan, MOBILE, MONDAY_17_56, Decimal("0.10"), 3600, bundles
        )
        assert answer == (400, 300)  # 0.10 buys 100 s at 0.06 a minute, no connect fee
        assert max_seconds_with_bundles(
            plan, MOBILE, MONDAY_17_56, Decimal("0.10"), 350, bundles
        ) == (
            350,
            300,
        )

    def test_a_short_cap_or_the_sheets_free_seconds_come_first(self) -> None:
        plan = flat("0.06", included_seconds=30, free_below=5)
        bundles = [per_second(1, 300)]
        start = MONDAY_17_56
        assert max_seconds_with_bundles(plan, MOBILE, start, Decimal(0), 100, bundles) == (100, 70)
        assert max_seconds_with_bundles(plan, MOBILE, start, Decimal(0), 3600, bundles) == (
            330,
            300,
        )
        assert max_seconds_with_bundles(plan, MOBILE, start, Decimal(0), 5, bundles) == (5, 0)

    def test_a_calls_bundle_grants_the_cap(self) -> None:
        plan = flat("0.06")
        bundles = [Allowance(1, CALLS, 1, False, None)]
        assert max_seconds_with_bundles(plan, MOBILE, MONDAY_17_56, Decimal(0), 7200, bundles) == (
            7200,
            7200,
        )


class TestAllowanceChecks:
    @pytest.mark.parametrize(
        ("unit", "remaining", "prefixes", "message"),
        [
            ("minutes", 1, None, "unit must be seconds or calls"),
            (SECONDS, -1, None, "remaining must be a whole number >= 0"),
            (CALLS, True, None, "remaining must be a whole number >= 0"),
            (SECONDS, 1, ("+34",), "prefixes must be digits or '*'"),
            (SECONDS, 1, ("",), "prefixes must be digits or '*'"),
            (SECONDS, 1, "34", "prefixes must be digits or '*'"),
            (SECONDS, 1, (34,), "prefixes must be digits or '*'"),
        ],
    )
    def test_a_bad_allowance_is_refused(
        self, unit: str, remaining: int, prefixes: tuple[str, ...] | None, message: str
    ) -> None:
        with pytest.raises(InvalidInput) as refused:
            Allowance(4, unit, remaining, True, prefixes)
        assert str(refused.value) == f"bundle 4: {message}"

    @pytest.mark.parametrize("billsec", [-1, None, "60"])
    def test_a_bad_call_is_refused(self, billsec: object) -> None:
        call = CallToRate(MOBILE, MONDAY_17_56, billsec)  # type: ignore[arg-type]
        with pytest.raises(InvalidInput) as refused:
            split_call(flat("0.06"), call, [per_second(1, 60)])
        assert (
            str(refused.value) == f"billsec must be a whole number of seconds >= 0, not {billsec!r}"
        )


class TestEngineOffsets:
    """The engine's side of the split (RatingPlan.reach, max_duration_from) where the
    generated sheets of the property tests seldom go."""

    def test_a_band_without_a_rate_later_in_the_call_stops_the_reach_and_the_bundles(
        self,
    ) -> None:
        peak_only = Rate(
            "34", "Spain", Decimal("0.06"), weekdays=WEEKDAYS, time_from=time(8), time_to=time(18)
        )
        plan = compile_sheet(RateSheet("peak", (peak_only,), timezone="Europe/Madrid"))
        start = datetime(2025, 1, 6, 16, 59, tzinfo=UTC)  # 17:59 in Madrid
        assert plan.reach(MOBILE, start, 3600) == 60
        assert plan.reach(MOBILE, start, 30) == 30
        bundles = [per_second(1, 300)]
        assert max_seconds_with_bundles(plan, MOBILE, start, Decimal(5), 3600, bundles) == (60, 60)

    def test_the_reach_of_a_call_within_its_included_seconds_is_the_limit(self) -> None:
        plan = flat("0.06", included_seconds=30)
        assert [plan.reach(MOBILE, MONDAY_17_56, limit) for limit in (0, 1, 30, 31)] == [
            0,
            1,
            30,
            31,
        ]
        with pytest.raises(InvalidInput) as refused:
            plan.reach(MOBILE, MONDAY_17_56, -1)
        assert str(refused.value) == "limit must be a whole number of seconds >= 0, not -1"

    def test_the_included_seconds_are_affordable_with_nothing_despite_a_connect_fee(
        self,
    ) -> None:
        plan = flat("0.06", included_seconds=30, connect_fee=Decimal("0.05"))
        assert plan.max_duration(MOBILE, MONDAY_17_56, Decimal(0), 3600) == 30
        assert plan.max_duration_from(MOBILE, MONDAY_17_56, Decimal(0), 3600, 20) == 50
