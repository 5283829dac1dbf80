"""The interim plan of a big sheet (compile.plan_over, docs/rates.md): db/ hands it a
look-up that reads the number's prefixes from the database, and the plan must answer as
the whole sheet's plan would. Here the look-up is a PrefixIndex over the sheet's digit
rows, so every answer can be compared with compile_sheet's on the same sheet."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from rating import CallToRate, Rate, RateSheet, RatingPlan, compile_sheet
from rating.compile import plan_over
from rating.errors import InvalidInput, NoRateForDestination
from rating.model import CATCH_ALL, SheetRule
from rating.prefix_index import PrefixIndex

D = Decimal
TOKYO = ZoneInfo("Asia/Tokyo")
MADRID = ZoneInfo("Europe/Madrid")


def day(prefix: str, destination: str, price: str) -> Rate:
    return Rate(prefix, destination, D(price), time_from=time(8), time_to=time(18))


def night(prefix: str, destination: str, price: str) -> Rate:
    return Rate(prefix, destination, D(price), time_from=time(18), time_to=time(8))


# Bands in Tokyo (UTC+9) so that a zone lost anywhere (UTC, the server's) moves a call
# from one band to the other.
SHEET = RateSheet(
    "big",
    (
        day("34", "Spain day", "0.10"),
        night("34", "Spain night", "0.04"),
        Rate("3491", "Madrid", D("0.05")),
        day(CATCH_ALL, "World day", "0.90"),
        night(CATCH_ALL, "World night", "0.70"),
    ),
    timezone="Asia/Tokyo",
)
# 00:30 UTC is 09:30 in Tokyo (day), 10:30 UTC is 19:30 (night); the second call runs
# over 18:00 Tokyo time, so its cost has a part in each band.
MOMENTS = (
    datetime(2026, 12, 2, 0, 30, tzinfo=UTC),
    datetime(2026, 12, 2, 10, 30, tzinfo=UTC),
    datetime(2026, 12, 2, 8, 58, tzinfo=UTC),
)
NUMBERS = ("34600123", "3491555", "4420", "1")


def split(sheet: RateSheet) -> tuple[tuple[Rate, ...], tuple[Rate, ...]]:
    digits = tuple(r for r in sheet.rates if r.prefix != CATCH_ALL)
    return digits, tuple(r for r in sheet.rates if r.prefix == CATCH_ALL)


def interim(sheet: RateSheet, zones: list[ZoneInfo] | None = None) -> RatingPlan:
    """plan_over as db/ calls it: the sheet without its rows, its catch-all rates."""
    digits, catch_all = split(sheet)
    asked = zones if zones is not None else []

    def lookup(zone: ZoneInfo) -> PrefixIndex:
        asked.append(zone)
        return PrefixIndex(digits, zone)

    return plan_over(replace(sheet, rates=()), lookup, catch_all)


def test_it_answers_every_number_as_the_whole_sheets_plan() -> None:
    whole, plan = compile_sheet(SHEET), interim(SHEET)
    for number in NUMBERS:
        for at in MOMENTS:
            call = CallToRate(number, at, 300)
            assert plan.find_rate(number, at) == whole.find_rate(number, at), (number, at)
            assert plan.rate_call(call) == whole.rate_call(call), (number, at)
            assert plan.max_duration(number, at, D("1.00")) == whole.max_duration(
                number, at, D("1.00")
            )


def test_the_bands_of_both_look_ups_are_read_in_the_sheets_zone() -> None:
    plan = interim(SHEET)
    assert plan.find_rate("34600", MOMENTS[0]).destination == "Spain day"
    assert plan.find_rate("34600", MOMENTS[1]).destination == "Spain night"
    assert plan.find_rate("4420", MOMENTS[0]).destination == "World day"
    assert plan.find_rate("4420", MOMENTS[1]).destination == "World night"


def test_the_look_up_is_made_once_per_zone_and_given_that_zone() -> None:
    zones: list[ZoneInfo] = []
    rule = SheetRule(MOMENTS[1], 4, SHEET.rounding, SHEET.block_mode, "Europe/Madrid")
    plan = interim(replace(SHEET, rules=(rule,)), zones)
    for at in MOMENTS:
        plan.find_rate("34600", at)
    assert zones == [TOKYO, MADRID]
    # From the rule on the bands are Madrid's: 10:30 UTC is 11:30 there, day.
    assert plan.find_rate("34600", MOMENTS[1]).destination == "Spain day"
    assert plan.find_rate("4420", MOMENTS[1]).destination == "World day"


def test_its_sheet_lists_the_catch_all_rates_only() -> None:
    assert interim(SHEET).sheet.rates == split(SHEET)[1]
    assert interim(replace(SHEET, rates=split(SHEET)[0])).sheet.rates == ()


def test_without_catch_all_rows_an_unknown_number_has_no_rate() -> None:
    plan = interim(replace(SHEET, rates=split(SHEET)[0]))
    assert plan.find_rate("3491", MOMENTS[0]).destination == "Madrid"
    with pytest.raises(NoRateForDestination):
        plan.find_rate("4420", MOMENTS[0])


@pytest.mark.parametrize(
    "bad",
    [
        {"rates": (Rate("34", price=D(1)), Rate(CATCH_ALL, price=D(-1)))},
        {"decimals": 9},
        {"timezone": "Nowhere/City"},
        {"block_mode": "per-minute"},
    ],
    ids=["catch-all price", "decimals", "zone", "block mode"],
)
def test_a_bad_catch_all_rate_or_sheet_field_is_refused_as_compile_sheet_refuses_it(
    bad: dict[str, object],
) -> None:
    sheet = replace(SHEET, **bad)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput) as whole:
        compile_sheet(sheet)
    with pytest.raises(InvalidInput) as plan:
        interim(sheet)
    assert str(plan.value) == str(whole.value)


def test_a_call_over_a_band_edge_costs_what_the_whole_sheets_plan_charges() -> None:
    # 08:58 UTC is 17:58 in Tokyo: 2 minutes of day at 0.90, then 3 of night at 0.70.
    call = CallToRate("4420", MOMENTS[2], 300)
    cost = interim(SHEET).rate_call(call)
    assert cost == compile_sheet(SHEET).rate_call(call)
    assert len(cost.parts) == 2 and cost.cost == D("3.9000")
