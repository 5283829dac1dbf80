"""The on-net price of a sheet (rating/onnet.py): its `onnet` rows, rated like any row,
or free without one; no dialled number ever matches an on-net row."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from rating import compile_sheet, parse_rates_csv
from rating.errors import InvalidRateRow, NoRateForDestination
from rating.model import ON_NET, CallToRate, Rate, RateSheet
from rating.onnet import on_net_cost, on_net_plan

D = Decimal
NOON = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


class TestOnNetPrice:
    def test_a_sheet_without_an_on_net_row_makes_on_net_calls_free(self) -> None:
        on_net = on_net_plan(compile_sheet(RateSheet("s", (Rate("34", price=D("0.10")),))))
        cost = on_net_cost(on_net, CallToRate("1002", NOON, 3600))
        assert (cost.cost, cost.prefix, cost.destination) == (D("0.0000"), ON_NET, "On-net")
        assert on_net.max_duration("0", NOON, D("0"), 7200) == 7200  # no money needed

    def test_the_on_net_row_is_rated_with_its_increments_and_connect_fee(self) -> None:
        row = Rate(
            ON_NET, "Office", D("0.01"), initial_increment=60, increment=60, connect_fee=D("0.005")
        )
        on_net = on_net_plan(compile_sheet(RateSheet("s", (Rate("34", price=D("0.10")), row))))
        cost = on_net_cost(on_net, CallToRate("1002", NOON, 61))
        # 61 s -> 120 s at 0.01 a minute, plus the 0.005 connect fee
        assert (cost.cost, cost.billed_seconds, cost.destination) == (D("0.0250"), 120, "Office")
        # 0.05 buys the fee and four whole minutes
        assert on_net.max_duration("0", NOON, D("0.05"), 3600) == 240

    def test_no_dialled_number_matches_the_on_net_row(self) -> None:
        sheet = compile_sheet(RateSheet("s", (Rate(ON_NET, price=D("0.01")),)))
        with pytest.raises(NoRateForDestination):
            sheet.find_rate("1002", NOON)

    def test_a_deck_names_the_on_net_row_by_its_prefix(self) -> None:
        rates = parse_rates_csv("prefix,destination,price\nonnet,On-net,0.01\n34,Spain,0.1\n")
        assert [r.prefix for r in rates] == [ON_NET, "34"]
        with pytest.raises(InvalidRateRow, match="prefix"):
            parse_rates_csv("prefix,destination,price\non-net,On-net,0.01\n")
