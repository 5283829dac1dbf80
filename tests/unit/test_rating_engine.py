"""The rating engine on flat prices, tiers, fees and rounding (docs/design.md, "Rating")."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from rating import (
    BlockMode,
    CallToRate,
    InvalidInput,
    NoRateForDestination,
    Rate,
    RateSheet,
    Rounding,
    Tier,
    compile_sheet,
)
from rating.model import CallCost

MONDAY_NOON = datetime(2025, 1, 6, 12, 0, tzinfo=UTC)
D = Decimal


def flat(increments: str = "1/1", price: str = "0.10", prefix: str = "34", **fields: Any) -> Rate:
    initial, increment = (int(part) for part in increments.split("/"))
    return Rate(
        prefix,
        "Spain",
        price=D(price),
        initial_increment=initial,
        increment=increment,
        **fields,
    )


def rate_call(
    rate: Rate,
    billsec: int,
    *,
    answered: bool = True,
    block_mode: BlockMode = BlockMode.FIRST_BLOCK,
    decimals: int = 4,
    rounding: Rounding = Rounding.HALF_UP,
) -> CallCost:
    sheet = RateSheet("test", (rate,), block_mode=block_mode, decimals=decimals, rounding=rounding)
    call = CallToRate("34600000000", MONDAY_NOON, billsec, answered)
    return compile_sheet(sheet).rate_call(call)


class TestWorkedExamples:
    def test_45_60_bills_a_46_second_call_0_1750_in_first_block(self) -> None:
        assert rate_call(flat("45/60"), 46).cost == D("0.1750")

    def test_45_60_bills_a_46_second_call_0_1000_in_whole_call(self) -> None:
        cost = rate_call(flat("45/60"), 46, block_mode=BlockMode.WHOLE_CALL)
        assert cost.cost == D("0.1000")

    @pytest.mark.parametrize("mode", list(BlockMode))
    def test_30_6_bills_a_31_second_call_0_0600_in_both_modes(self, mode: BlockMode) -> None:
        assert rate_call(flat("30/6"), 31, block_mode=mode).cost == D("0.0600")

    def test_60_60_bills_a_61_second_call_0_2000(self) -> None:
        assert rate_call(flat("60/60"), 61).cost == D("0.2000")

    def test_1_1_bills_59_seconds_exactly_and_rounds_only_the_final_cost(self) -> None:
        cost = rate_call(flat("1/1"), 59)
        assert cost.exact_cost == D("0.098333")
        assert cost.cost == D("0.0983")
        assert str(cost.cost) == "0.0983"

    def test_an_answered_call_of_0_seconds_costs_0_despite_a_connect_fee(self) -> None:
        cost = rate_call(flat(connect_fee=D("0.05")), 0)
        assert cost.cost == 0
        assert cost.billed_seconds == 0
        assert cost.parts == ()


class TestFlatPrice:
    @pytest.mark.parametrize("mode", list(BlockMode))
    def test_bills_a_call_shorter_than_the_initial_increment_the_initial_increment(
        self, mode: BlockMode
    ) -> None:
        cost = rate_call(flat("45/60"), 10, block_mode=mode)
        assert cost.billed_seconds == 45
        assert cost.cost == D("0.0750")

    def test_first_block_bills_the_initial_block_then_the_rest_in_increments(self) -> None:
        assert rate_call(flat("45/60"), 106).billed_seconds == 45 + 120

    def test_whole_call_rounds_the_whole_duration_up_to_the_increment(self) -> None:
        cost = rate_call(flat("45/60"), 106, block_mode=BlockMode.WHOLE_CALL)
        assert cost.billed_seconds == 120

    def test_a_call_of_exactly_the_initial_block_is_billed_the_initial_block(self) -> None:
        assert rate_call(flat("30/6"), 30).billed_seconds == 30

    def test_an_initial_increment_of_0_bills_from_the_first_increment(self) -> None:
        assert rate_call(flat("0/60"), 61).billed_seconds == 120

    def test_describes_the_call_in_one_part_with_the_rate_it_used(self) -> None:
        rate = flat("30/6")
        cost = rate_call(rate, 31)
        (part,) = cost.parts
        assert (part.start_second, part.seconds, part.billed_seconds) == (0, 31, 36)
        assert (part.price, part.exact_cost, part.band) == (D("0.10"), D("0.06"), "all")
        assert (cost.prefix, cost.destination, cost.rate) == ("34", "Spain", rate)

    def test_a_free_destination_costs_0_however_long(self) -> None:
        assert rate_call(flat(price="0"), 86400).cost == 0


class TestTiers:
    TIERS = (Tier(0, D("0.10"), 60), Tier(60, D("0.05"), 1))

    def tiered(self, tiers: tuple[Tier, ...] = TIERS, **fields: Any) -> Rate:
        return Rate("34", "Spain", tiers=tiers, **fields)

    def test_bills_the_first_tier_in_its_own_increment(self) -> None:
        cost = rate_call(self.tiered(), 30)
        assert cost.billed_seconds == 60
        assert cost.cost == D("0.1000")

    def test_bills_each_tier_part_at_its_price_and_increment(self) -> None:
        cost = rate_call(self.tiered(), 61)
        assert [(p.start_second, p.seconds, p.billed_seconds) for p in cost.parts] == [
            (0, 60, 60),
            (60, 1, 1),
        ]
        assert cost.exact_cost == D("0.100833")

    def test_rounds_a_tier_part_that_ends_before_its_increment_up_to_the_increment(
        self,
    ) -> None:
        tiers = (Tier(0, D("0.10"), 45), Tier(60, D("0.05"), 1))
        cost = rate_call(self.tiered(tiers), 61)
        assert [p.billed_seconds for p in cost.parts] == [90, 1]
        assert cost.exact_cost == D("0.150833")

    def test_replace_the_flat_price_and_increments(self) -> None:
        rate = self.tiered(price=D("9"), initial_increment=600, increment=600)
        assert rate_call(rate, 30).cost == D("0.1000")

    @pytest.mark.parametrize("mode", list(BlockMode))
    def test_ignore_the_block_mode(self, mode: BlockMode) -> None:
        tiers = (Tier(0, D("0.10"), 45), Tier(45, D("0.10"), 60))
        assert rate_call(self.tiered(tiers), 46, block_mode=mode).cost == D("0.1750")


class TestFeesAndLimits:
    def test_adds_the_connect_fee_once_to_a_billed_call(self) -> None:
        assert rate_call(flat("60/60", connect_fee=D("0.05")), 61).cost == D("0.2500")

    def test_an_unanswered_call_costs_0_and_has_no_connect_fee(self) -> None:
        rate = flat(connect_fee=D("0.05"), min_cost=D("0.10"))
        cost = rate_call(rate, 120, answered=False)
        assert (cost.cost, cost.billed_seconds, cost.parts) == (0, 0, ())

    def test_included_seconds_come_off_before_rating(self) -> None:
        cost = rate_call(flat("30/6", included_seconds=60), 91)
        assert cost.billed_seconds == 36
        assert cost.cost == D("0.0600")

    def test_a_call_within_its_included_seconds_costs_0_and_has_no_fee(self) -> None:
        rate = flat(included_seconds=60, connect_fee=D("0.05"), min_cost=D("0.10"))
        assert rate_call(rate, 60).cost == 0

    def test_a_call_of_at_most_free_below_seconds_costs_0(self) -> None:
        rate = flat(free_below=5, connect_fee=D("0.05"))
        assert rate_call(rate, 5).cost == 0

    def test_a_call_longer_than_free_below_is_billed_from_its_first_second(self) -> None:
        rate = flat(free_below=5, connect_fee=D("0.05"))
        assert rate_call(rate, 6).exact_cost == D("0.06")

    def test_min_cost_is_the_floor_of_a_billed_call(self) -> None:
        assert rate_call(flat(min_cost=D("0.05")), 10).cost == D("0.0500")

    def test_min_cost_includes_the_connect_fee(self) -> None:
        rate = flat(min_cost=D("0.05"), connect_fee=D("0.04"))
        assert rate_call(rate, 12).cost == D("0.0600")

    def test_max_cost_is_the_ceiling_of_a_call(self) -> None:
        rate = flat(max_cost=D("0.50"), connect_fee=D("0.05"))
        assert rate_call(rate, 3600).cost == D("0.5000")

    def test_the_parts_keep_what_was_billed_under_the_ceiling(self) -> None:
        cost = rate_call(flat(max_cost=D("0.50")), 3600)
        assert cost.billed_seconds == 3600
        assert cost.parts[0].exact_cost == D("6")


class TestRounding:
    @pytest.mark.parametrize(
        ("rounding", "decimals", "expected"),
        [
            (Rounding.HALF_UP, 4, "0.0983"),
            (Rounding.UP, 4, "0.0984"),
            (Rounding.DOWN, 4, "0.0983"),
            (Rounding.HALF_UP, 2, "0.10"),
            (Rounding.DOWN, 2, "0.09"),
            (Rounding.UP, 0, "1"),
            (Rounding.HALF_UP, 6, "0.098333"),
        ],
    )
    def test_rounds_the_final_cost_with_the_sheets_decimals_and_mode(
        self, rounding: Rounding, decimals: int, expected: str
    ) -> None:
        cost = rate_call(flat(), 59, decimals=decimals, rounding=rounding)
        assert str(cost.cost) == expected
        assert cost.exact_cost == D("0.098333")

    def test_rounds_the_sum_not_each_part(self) -> None:
        # Two parts of 0.0005: rounded one by one they would make 0.002.
        tiers = (Tier(0, D("0.01"), 1), Tier(3, D("0.01"), 1))
        rate = Rate("34", tiers=tiers)
        cost = rate_call(rate, 6, decimals=3, rounding=Rounding.HALF_UP)
        assert [part.exact_cost for part in cost.parts] == [D("0.0005")] * 2
        assert cost.cost == D("0.001")

    def test_an_unbilled_call_still_has_the_sheets_decimals(self) -> None:
        assert str(rate_call(flat(), 0).cost) == "0.0000"


class TestInputs:
    def test_a_naive_start_is_refused(self) -> None:
        plan = compile_sheet(RateSheet("test", (flat(),)))
        with pytest.raises(InvalidInput):
            plan.rate_call(CallToRate("34600", datetime(2025, 1, 6, 12), 60))

    @pytest.mark.parametrize("number", ["+34600", "34 600", "", "34six", "\uff13\uff14"])
    def test_a_number_that_is_not_normalised_digits_is_refused(self, number: str) -> None:
        plan = compile_sheet(RateSheet("test", (flat(),)))
        with pytest.raises(InvalidInput):
            plan.find_rate(number, MONDAY_NOON)

    @pytest.mark.parametrize("billsec", [-1, True])
    def test_billsec_must_be_a_whole_number_of_seconds(self, billsec: int) -> None:
        plan = compile_sheet(RateSheet("test", (flat(),)))
        with pytest.raises(InvalidInput):
            plan.rate_call(CallToRate("34600", MONDAY_NOON, billsec))

    def test_an_unknown_destination_raises_no_rate_for_destination(self) -> None:
        plan = compile_sheet(RateSheet("test", (flat(),)))
        with pytest.raises(NoRateForDestination):
            plan.rate_call(CallToRate("44700", MONDAY_NOON, 60))

    def test_an_unanswered_call_to_an_unknown_destination_is_not_rated_either(self) -> None:
        plan = compile_sheet(RateSheet("test", (flat(),)))
        with pytest.raises(NoRateForDestination):
            plan.rate_call(CallToRate("44700", MONDAY_NOON, 0, answered=False))


class TestCompileSheet:
    @pytest.mark.parametrize(
        ("fields", "column"),
        [
            ({"increment": 0}, "increment"),
            ({"initial_increment": -1}, "initial_increment"),
            ({"price": None}, "price"),
            ({"price": D("-0.1")}, "price"),
            ({"price": 0.1}, "price"),
            ({"price": D("NaN")}, "price"),
            ({"connect_fee": D("-1")}, "connect_fee"),
            ({"min_cost": D("2"), "max_cost": D("1")}, "max_cost"),
            ({"tiers": (Tier(1, D("0.1"), 1),)}, "tiers"),
            ({"tiers": (Tier(0, D("0.1"), 0),)}, "tiers"),
            ({"prefix": "+34"}, "prefix"),
            ({"prefix": ""}, "prefix"),
            ({"weekdays": frozenset()}, "weekdays"),
            ({"weekdays": frozenset({7})}, "weekdays"),
            ({"valid_from": datetime(2025, 1, 1)}, "valid_from"),
            (
                {"valid_from": MONDAY_NOON, "valid_to": MONDAY_NOON},
                "valid_to",
            ),
        ],
    )
    def test_refuses_a_rate_that_cannot_be_billed(
        self, fields: dict[str, Any], column: str
    ) -> None:
        base = {"prefix": "34", "price": D("0.1")}
        rate = Rate(**{**base, **fields})
        with pytest.raises(InvalidInput, match=column):
            compile_sheet(RateSheet("bad", (rate,)))

    @pytest.mark.parametrize(
        "fields",
        [{"timezone": "Mars/Olympus"}, {"decimals": 7}, {"rounding": "bankers"}],
    )
    def test_refuses_a_sheet_it_cannot_honour(self, fields: dict[str, Any]) -> None:
        with pytest.raises(InvalidInput):
            compile_sheet(RateSheet("bad", (flat(),), **fields))

    def test_accepts_block_mode_and_rounding_as_their_text(self) -> None:
        sheet = RateSheet(
            "text",
            (flat("45/60"),),
            block_mode="whole_call",  # type: ignore[arg-type]
            rounding="up",  # type: ignore[arg-type]
        )
        call = CallToRate("34600", MONDAY_NOON, 46)
        assert compile_sheet(sheet).rate_call(call).cost == D("0.1000")

    def test_keeps_the_sheet_it_was_built_from(self) -> None:
        sheet = RateSheet("kept", (flat(),))
        assert compile_sheet(sheet).sheet is sheet
