"""Properties of the bundle split (rating/bundles.py) over generated sheets (tiers, bands,
increments, connect fees, limits), calls and bundle states; docs/rates.md, "Bundles:
the split"."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from rating import CallToRate, RatingPlan
from rating.bundles import (
    CALLS,
    SECONDS,
    Allowance,
    applicable,
    max_seconds_with_bundles,
    split_call,
)
from tests.unit.test_rating_properties import NUMBER, durations, plans, properties, starts

# NUMBER is 34600123456: "34" and "346" match it, "35" does not.
prefix_groups = st.sampled_from([None, ("34",), ("346", "7"), ("35",), ("*",), ()])


@st.composite
def allowance_lists(draw: st.DrawFn) -> list[Allowance]:
    count = draw(st.integers(0, 4))
    allowances = []
    for bundle_id in range(1, count + 1):
        unit = draw(st.sampled_from([SECONDS, SECONDS, SECONDS, CALLS]))
        remaining = draw(st.integers(0, 2) if unit == CALLS else st.integers(0, 900))
        allowances.append(
            Allowance(
                bundle_id,
                unit,
                remaining,
                per_second=draw(st.booleans()),
                prefixes=draw(prefix_groups),
                inbound=draw(st.booleans()),
            )
        )
    return allowances


money = st.integers(0, 3000).map(lambda n: Decimal(n).scaleb(-2))


def rated_seconds(plan: RatingPlan, call: CallToRate) -> int:
    rate = plan.find_rate(call.number, call.start)
    if not call.answered or call.billsec <= rate.free_below:
        return 0
    return max(call.billsec - rate.included_seconds, 0)


class TestSplit:
    @properties
    @given(plans(), starts, durations, st.booleans(), allowance_lists(), st.booleans())
    def test_free_and_paid_make_the_call_and_the_paid_part_is_rated_from_its_offset(
        self,
        plan: RatingPlan,
        start: datetime,
        billsec: int,
        answered: bool,
        allowances: list[Allowance],
        inbound: bool,
    ) -> None:
        call = CallToRate(NUMBER, start, billsec, answered)
        split = split_call(plan, call, allowances, inbound)
        assert split.free_seconds >= 0 and split.paid_seconds >= 0
        assert split.free_seconds + split.paid_seconds == billsec
        assert split.free_seconds <= rated_seconds(plan, call)
        assert split.paid == plan.rate_from(call, split.free_seconds)
        assert 0 <= split.paid.cost <= plan.rate_call(call).cost
        assert split.paid.exact_cost >= 0

    @properties
    @given(plans(), starts, durations, allowance_lists(), st.booleans())
    def test_consumption_never_exceeds_what_is_left_and_follows_the_order(
        self,
        plan: RatingPlan,
        start: datetime,
        billsec: int,
        allowances: list[Allowance],
        inbound: bool,
    ) -> None:
        call = CallToRate(NUMBER, start, billsec)
        split = split_call(plan, call, allowances, inbound)
        usable = applicable(allowances, NUMBER, inbound)
        by_id = {allowance.bundle_id: allowance for allowance in usable}
        ids = [consumption.bundle_id for consumption in split.consumed]
        order = [allowance.bundle_id for allowance in usable]
        assert ids == [bundle_id for bundle_id in order if bundle_id in ids]  # in order, once
        for consumption in split.consumed:
            allowance = by_id[consumption.bundle_id]  # only bundles that apply
            assert 0 < consumption.amount <= allowance.remaining
            if allowance.unit == CALLS:
                assert consumption.amount == 1
        if not split.consumed:
            assert split.free_seconds == 0
            return
        last = order.index(ids[-1])
        for allowance in usable[:last]:
            # Before the last bundle used, a bundle was used up, or could not pay a block.
            used = next((c.amount for c in split.consumed if c.bundle_id == allowance.bundle_id), 0)
            assert allowance.unit == SECONDS
            if allowance.per_second:
                assert used == allowance.remaining
        if by_id[ids[-1]].unit == CALLS:
            assert split.free_seconds == rated_seconds(plan, call)

    @properties
    @given(plans(), starts, durations, allowance_lists())
    def test_per_second_bundles_cover_as_many_seconds_as_they_have(
        self, plan: RatingPlan, start: datetime, billsec: int, allowances: list[Allowance]
    ) -> None:
        seconds_only = [a for a in allowances if a.unit == SECONDS and a.per_second]
        call = CallToRate(NUMBER, start, billsec)
        split = split_call(plan, call, seconds_only)
        left = sum(a.remaining for a in applicable(seconds_only, NUMBER))
        assert split.free_seconds == min(rated_seconds(plan, call), left)
        assert sum(c.amount for c in split.consumed) == split.free_seconds

    @properties
    @given(plans(), starts, durations, st.integers(0, 4000))
    def test_a_bundle_at_increments_pays_the_billed_seconds_or_whole_blocks(
        self, plan: RatingPlan, start: datetime, billsec: int, remaining: int
    ) -> None:
        call = CallToRate(NUMBER, start, billsec)
        whole = plan.rate_call(call)
        split = split_call(plan, call, [Allowance(9, SECONDS, remaining, False, None)])
        used = sum(c.amount for c in split.consumed)
        if whole.parts and whole.billed_seconds <= remaining:
            assert (used, split.paid.cost) == (whole.billed_seconds, 0)
            assert split.free_seconds == rated_seconds(plan, call)
        else:
            # It stopped where the next block would cost more than it has left, and the
            # free part then bills exactly the seconds it took.
            assert used <= remaining
            if used:
                assert used + split.paid.billed_seconds <= whole.billed_seconds
                assert split_call(plan, call, [Allowance(9, SECONDS, used, False, None)]) == split


class TestMaxSecondsWithBundles:
    @properties
    @given(plans(), starts, money, st.integers(0, 7200), allowance_lists(), st.booleans())
    def test_it_grants_only_what_bundles_and_money_pay_and_nothing_less(
        self,
        plan: RatingPlan,
        start: datetime,
        available: Decimal,
        cap: int,
        allowances: list[Allowance],
        inbound: bool,
    ) -> None:
        granted, free = max_seconds_with_bundles(
            plan, NUMBER, start, available, cap, allowances, inbound
        )
        assert 0 <= free <= granted <= cap
        split = split_call(plan, CallToRate(NUMBER, start, granted), allowances, inbound)
        assert split.paid.cost <= available
        assert split.free_seconds == free
        if granted < plan.reach(NUMBER, start, cap):
            longer = CallToRate(NUMBER, start, granted + 1)
            assert split_call(plan, longer, allowances, inbound).paid.cost > available

    @properties
    @given(plans(), starts, money, st.integers(0, 7200))
    def test_without_bundles_it_is_max_duration(
        self, plan: RatingPlan, start: datetime, available: Decimal, cap: int
    ) -> None:
        expected = plan.max_duration(NUMBER, start, available, cap)
        assert max_seconds_with_bundles(plan, NUMBER, start, available, cap, []) == (expected, 0)
