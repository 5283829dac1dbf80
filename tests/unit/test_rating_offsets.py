"""Rating a call from an offset (RatingPlan.rate_from, max_duration_from): the paid part
of a call after a bundle's free seconds, over generated sheets (tiers, bands, increments,
connect fees, limits) and calls. The rules are docs/rates.md, "Bundles: the split"."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from rating import CallToRate, RatingPlan
from tests.unit.test_rating_properties import NUMBER, durations, plans, properties, starts


def rated_seconds(plan: RatingPlan, call: CallToRate) -> int:
    return call.billsec - plan.find_rate(call.number, call.start).included_seconds


class TestRateFrom:
    @properties
    @given(plans(), starts, durations, st.booleans())
    def test_from_offset_0_it_is_rate_call(
        self, plan: RatingPlan, start: datetime, billsec: int, answered: bool
    ) -> None:
        call = CallToRate(NUMBER, start, billsec, answered)
        assert plan.rate_from(call, 0) == plan.rate_call(call)

    @properties
    @given(plans(), starts, durations, st.data())
    def test_the_parts_after_a_part_boundary_are_the_whole_calls_parts(
        self, plan: RatingPlan, start: datetime, billsec: int, data: st.DataObject
    ) -> None:
        call = CallToRate(NUMBER, start, billsec)
        whole = plan.rate_call(call)
        if not whole.parts:
            return
        k = data.draw(st.integers(1, len(whole.parts) - 1)) if len(whole.parts) > 1 else 0
        offset = whole.parts[k].start_second
        assert plan.rate_from(call, offset).parts == whole.parts[k:]

    @properties
    @given(plans(), starts, durations, st.integers(0, 4000))
    def test_the_paid_parts_cover_the_rest_at_the_tier_and_band_in_force_there(
        self, plan: RatingPlan, start: datetime, billsec: int, offset: int
    ) -> None:
        call = CallToRate(NUMBER, start, billsec)
        whole = plan.rate_call(call)
        paid = plan.rate_from(call, offset)
        if not whole.parts or offset >= whole.parts[-1].start_second + whole.parts[-1].seconds:
            assert paid.parts == () and paid.cost == 0 and paid.billed_seconds == 0
            return
        position = offset
        for part in paid.parts:
            assert part.start_second == position
            assert part.billed_seconds >= part.seconds > 0
            position += part.seconds
        assert position == rated_seconds(plan, call)
        # The price of each second is the whole call's price of that second.
        cut = paid.parts[0]
        covering = [p for p in whole.parts if p.start_second <= offset < p.start_second + p.seconds]
        assert [(p.price, p.band) for p in covering] == [(cut.price, cut.band)]
        assert cut.billed_seconds <= covering[0].billed_seconds - (
            offset - covering[0].start_second
        )

    @properties
    @given(plans(), starts, durations, st.integers(1, 4000))
    def test_no_second_is_both_free_and_billed_and_a_later_offset_never_costs_more(
        self, plan: RatingPlan, start: datetime, billsec: int, offset: int
    ) -> None:
        call = CallToRate(NUMBER, start, billsec)
        whole = plan.rate_call(call)
        paid = plan.rate_from(call, offset)
        later = plan.rate_from(call, offset + 1)
        if whole.parts:
            covered = min(offset, rated_seconds(plan, call))
            assert covered + paid.billed_seconds <= whole.billed_seconds
        assert 0 <= later.cost <= paid.cost <= whole.cost
        assert 0 <= later.exact_cost <= paid.exact_cost <= whole.exact_cost
        assert later.billed_seconds <= paid.billed_seconds

    @properties
    @given(plans(with_limits=False), starts, durations, st.integers(1, 4000))
    def test_a_paid_part_costs_its_parts_without_the_connect_fee(
        self, plan: RatingPlan, start: datetime, billsec: int, offset: int
    ) -> None:
        paid = plan.rate_from(CallToRate(NUMBER, start, billsec), offset)
        raw = sum((part.price * part.billed_seconds for part in paid.parts), Decimal(0)) / 60
        assert abs(paid.exact_cost - raw) <= Decimal("0.0000005")


class TestMaxDurationFrom:
    @properties
    @given(
        plans(),
        starts,
        st.integers(0, 5000).map(lambda n: Decimal(n).scaleb(-2)),
        st.integers(0, 7200),
        st.integers(0, 3000),
    )
    def test_it_is_the_longest_call_whose_part_from_the_offset_is_affordable(
        self, plan: RatingPlan, start: datetime, available: Decimal, limit: int, offset: int
    ) -> None:
        granted = plan.max_duration_from(NUMBER, start, available, limit, offset)
        assert 0 <= granted <= limit
        assert plan.rate_from(CallToRate(NUMBER, start, granted), offset).cost <= available
        if granted < plan.reach(NUMBER, start, limit):
            longer = CallToRate(NUMBER, start, granted + 1)
            assert plan.rate_from(longer, offset).cost > available
        if offset == 0:
            assert granted == plan.max_duration(NUMBER, start, available, limit)
