"""The pure rating engine: rate sheets, the cost of a call, the longest affordable call.

No I/O, no clock, no globals: callers load a RateSheet, compile it once into a
RatingPlan and ask it. See docs/design.md, "Rating", and rating/plan.py for the rules.
"""

from __future__ import annotations

from rating.compile import compile_sheet
from rating.errors import InvalidInput, InvalidRateRow, NoRateForDestination
from rating.formats import (
    format_tiers,
    format_weekdays,
    normalise_number,
    parse_tiers,
    parse_weekdays,
)
from rating.model import (
    BlockMode,
    CallCost,
    CallToRate,
    CostPart,
    Rate,
    RateSheet,
    Rounding,
    SheetRule,
    Tier,
)
from rating.plan import RatingPlan
from rating.tariffs import (
    RATE_COLUMNS,
    parse_rate_rows,
    parse_rates_csv,
    rate_to_row,
)

__all__ = [
    "RATE_COLUMNS",
    "BlockMode",
    "CallCost",
    "CallToRate",
    "CostPart",
    "InvalidInput",
    "InvalidRateRow",
    "NoRateForDestination",
    "Rate",
    "RateSheet",
    "RatingPlan",
    "Rounding",
    "SheetRule",
    "Tier",
    "compile_sheet",
    "format_tiers",
    "format_weekdays",
    "normalise_number",
    "parse_rate_rows",
    "parse_rates_csv",
    "parse_tiers",
    "parse_weekdays",
    "rate_to_row",
]
