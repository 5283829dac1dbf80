"""The rates of a compact plan's sheet (rating/compact_index.py CompactRates): a
sequence of the sheet's rates, by prefix as the index holds them, then the catch-all
rows; the same rates as the dict plan's sheet. Written against that documented
behaviour only: the module's internals are being reworked (issue 16b)."""

from __future__ import annotations

from decimal import Decimal

from rating import Rate, RateSheet, compile_sheet
from rating.compact_index import CompactRates
from rating.model import CATCH_ALL, Holidays
from tests.unit.test_rating_compact import streamed  # as db/ builds a big sheet's plan

D = Decimal
SHEET = RateSheet(
    "deck",
    (
        Rate("44", "UK", D("0.05")),
        Rate(CATCH_ALL, "Elsewhere", D("0.90")),
        Rate("34", "Spain", D("0.10")),
        Rate("34", "Spain holidays", D("0.02"), holidays=Holidays("es")),
        Rate("3491", "Madrid", D("0.08")),
    ),
)


def test_the_rates_are_reached_by_position_and_by_slice() -> None:
    rates = streamed(SHEET).sheet.rates
    assert isinstance(rates, CompactRates)
    listed = list(rates)
    assert len(rates) == len(listed) == 5
    assert [rates[i] for i in range(len(rates))] == listed
    assert rates[-1] == Rate(CATCH_ALL, "Elsewhere", D("0.90"))  # the catch-all rows last
    assert tuple(rates[1:3]) == tuple(listed[1:3])


def test_they_are_the_rates_of_the_dict_plans_sheet() -> None:
    compact = streamed(SHEET).sheet.rates
    plain = compile_sheet(SHEET, compact=False).sheet.rates
    assert sorted(map(repr, compact)) == sorted(map(repr, plain))
