"""A big sheet's plan as db/ builds it (compile.compile_rules, or compile_index over a
CompactIndex.from_sorted): the sheet comes without
its rates, as (prefix, rule number) pairs over its distinct rules. Its plan still lists
the sheet's rates (so the on-net plan finds the `onnet` row), and each distinct rule is
checked, the first bad one named as compile_sheet names it (docs/rates.md)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from rating import CallToRate, InvalidInput, Rate, RateSheet, RatingPlan, compile_sheet
from rating.compact_index import CompactIndex, RuleTable, rule_of
from rating.compile import compile_index, compile_rules
from rating.model import CATCH_ALL, ON_NET
from rating.onnet import on_net_cost, on_net_plan

D = Decimal
NOON = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def streamed_without_rates(sheet: RateSheet) -> RatingPlan:
    table = RuleTable()
    pairs = [(rate.prefix, table.number(rule_of(rate))) for rate in sheet.rates]
    return compile_rules(replace(sheet, rates=()), pairs, table.rules)


def packed_without_rates(sheet: RateSheet) -> RatingPlan:
    """As db/rates.py builds a big sheet's plan now: CompactIndex.from_sorted over its
    rows by prefix, the catch-all rows apart, the sheet itself without rates."""
    table = RuleTable()
    rows = sorted(
        (
            (rate.prefix, table.number(rule_of(rate)))
            for rate in sheet.rates
            if rate.prefix != CATCH_ALL
        ),
        key=lambda row: (len(row[0]), row[0]),
    )
    chunks = [([prefix for prefix, _ in rows], [str(number) for _, number in rows])]
    index = CompactIndex.from_sorted(chunks, table.rules, ZoneInfo("UTC"))
    catch_all = [rate for rate in sheet.rates if rate.prefix == CATCH_ALL]
    return compile_index(replace(sheet, rates=()), index, catch_all)


@pytest.mark.parametrize("build", [streamed_without_rates, packed_without_rates])
def test_the_plan_lists_the_rates_the_sheet_came_without(
    build: Callable[[RateSheet], RatingPlan],
) -> None:
    sheet = RateSheet(
        "big",
        (
            Rate("34", "Spain", D("0.10")),
            Rate(ON_NET, "Office", D("0.60")),
            Rate(CATCH_ALL, "World", D("0.90")),
        ),
    )
    plan = build(sheet)
    assert sorted(map(repr, plan.sheet.rates)) == sorted(map(repr, sheet.rates))
    cost = on_net_cost(on_net_plan(plan), CallToRate("1002", NOON, 60))
    assert (cost.cost, cost.destination) == (D("0.6000"), "Office")


@pytest.mark.parametrize("position", [0, 1, 2])
def test_each_distinct_rule_is_checked(position: int) -> None:
    good = [Rate("34", "Spain", D("0.10")), Rate("44", "UK", D("0.20")), Rate("49", "DE", D("0.3"))]
    good[position] = replace(good[position], increment=0)
    sheet = RateSheet("big", (*good, Rate("3491", "Madrid", D("0.10"))))
    with pytest.raises(InvalidInput) as expected:
        compile_sheet(sheet, compact=False)
    with pytest.raises(InvalidInput) as error:
        streamed_without_rates(sheet)
    assert str(error.value) == str(expected.value)
    assert str(error.value).startswith(f"sheet 'big', rate '{good[position].prefix}': increment")
