"""A worksheet row shorter than the header (rating/xlsx.py): a spreadsheet without its
dimension record gives each row only up to its last written cell, and the cells after
it are empty, as in a CSV deck's empty cells (docs/rates.md, "The deck format")."""

from __future__ import annotations

from decimal import Decimal

from rating.tariffs import parse_rate_table
from rating.xlsx import _text_rows

COLUMNS = ["prefix", "destination", "price", "connect_fee"]


def test_the_missing_cells_of_a_short_row_are_empty() -> None:
    rows = list(_text_rows(COLUMNS, [("34", "Spain", "0.10"), ("44",)]))
    assert rows == [(2, ["34", "Spain", "0.10"]), (3, ["44"])]
    (rate,) = parse_rate_table(COLUMNS, rows[:1])
    assert (rate.prefix, rate.price, rate.connect_fee) == ("34", Decimal("0.10"), Decimal(0))
