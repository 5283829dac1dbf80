"""What on_net_cost answers (rating/onnet.py): the on-net plan's whole cost, under the
prefix `onnet`, for answered calls only, and the on-net row's destination or "On-net"."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from rating import compile_sheet
from rating.model import ON_NET, CallToRate, Rate, RateSheet
from rating.onnet import on_net_cost, on_net_plan

D = Decimal
NOON = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


class TestOnNetCost:
    def test_an_unanswered_on_net_call_costs_nothing(self) -> None:
        # docs/rates.md: only an answered call is billed, on-net as any other
        on_net = on_net_plan(
            compile_sheet(RateSheet("s", (Rate(ON_NET, "Office", D("0.60"), connect_fee=D("1")),)))
        )
        cost = on_net_cost(on_net, CallToRate("1002", NOON, 120, answered=False))
        assert (cost.cost, cost.billed_seconds) == (D("0.0000"), 0)
        answered = on_net_cost(on_net, CallToRate("1002", NOON, 120))
        assert answered.cost == D("2.2000")  # 1 + 2 minutes at 0.60

    def test_an_on_net_row_without_a_destination_reads_on_net(self) -> None:
        on_net = on_net_plan(compile_sheet(RateSheet("s", (Rate(ON_NET, "", D("0.01")),))))
        cost = on_net_cost(on_net, CallToRate("1002", NOON, 60))
        assert cost.destination == "On-net"

    def test_the_cost_carries_the_exact_amount_the_rate_and_the_parts(self) -> None:
        row = Rate(ON_NET, "Office", D("0.0333333"))
        on_net = on_net_plan(compile_sheet(RateSheet("s", (row,), decimals=2)))
        cost = on_net_cost(on_net, CallToRate("1002", NOON, 60))
        # one minute at 0.0333333: 0.03 at the sheet's 2 decimals, 0.033333 exactly
        assert (cost.cost, cost.exact_cost) == (D("0.03"), D("0.033333"))
        assert cost.rate.destination == "Office"
        assert cost.rate.price == D("0.0333333")
        assert [(p.seconds, p.billed_seconds, p.price) for p in cost.parts] == [
            (60, 60, D("0.0333333"))
        ]
        assert cost.prefix == ON_NET
