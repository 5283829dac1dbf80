"""The rating model: rate sheets and rates as plain, immutable data.

This is the contract between the pure engine (rating/compile.py, rating/plan.py), the
tariff parser (rating/tariffs.py) and the database (db/ converts rows to these classes).
Nothing here does I/O or reads a clock. See docs/design.md, "Rating", for the meaning of
every field.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from enum import StrEnum

from rating.money import ZERO, Rounding

__all__ = [
    "CATCH_ALL",
    "ON_NET",
    "BlockMode",
    "CallCost",
    "CallToRate",
    "CostPart",
    "Holidays",
    "Rate",
    "RateSheet",
    "Rounding",
    "SheetRule",
    "Tier",
]


class BlockMode(StrEnum):
    # Charge the initial increment, then each further increment (ASTPP, CGRateS).
    FIRST_BLOCK = "first_block"
    # Once past the initial block, round the whole duration up to the increment
    # (A2Billing, MagnusBilling).
    WHOLE_CALL = "whole_call"


@dataclass(frozen=True)
class Tier:
    """From `from_second` seconds after the call's start, `price` per minute, billed in
    blocks of `increment` seconds."""

    from_second: int
    price: Decimal
    increment: int


# The prefix of a catch-all row: it matches every number, but only where no digit prefix
# has a rate in force (RatingPlan falls back to it; the prefix index never sees it).
CATCH_ALL = "*"

# The prefix of a sheet's on-net row: the price of a call to another account of the same
# server (rating/onnet.py). No dialled number matches it; a sheet without one makes
# on-net calls free.
ON_NET = "onnet"


@dataclass(frozen=True)
class Holidays:
    """A named holiday calendar: fixed dates, and yearly (month, day) pairs.

    Rates name a calendar and compare by that name only: a deck parsed from text knows
    the name, the database fills in the dates, and both are the same rate."""

    name: str
    dates: frozenset[date] = field(default=frozenset(), compare=False)
    yearly: frozenset[tuple[int, int]] = field(default=frozenset(), compare=False)

    def __contains__(self, day: object) -> bool:
        if not isinstance(day, date):
            return False
        return day in self.dates or (day.month, day.day) in self.yearly


@dataclass(frozen=True)
class Rate:
    """One row of a rate sheet. `price` or `tiers` is set (tiers win)."""

    prefix: str
    destination: str = ""
    price: Decimal | None = None  # per minute
    tiers: tuple[Tier, ...] = ()
    initial_increment: int = 1
    increment: int = 1
    connect_fee: Decimal = ZERO
    included_seconds: int = 0
    free_below: int = 0
    min_cost: Decimal = ZERO
    max_cost: Decimal | None = None
    # Time band, in the sheet's time zone. weekdays: 0 = Monday .. 6 = Sunday; None = all.
    # time_from/time_to None = the whole day; time_to <= time_from wraps past midnight.
    weekdays: frozenset[int] | None = None
    time_from: time | None = None
    time_to: time | None = None
    # Validity, aware UTC datetimes; None = open-ended. valid_to is exclusive.
    valid_from: datetime | None = None
    valid_to: datetime | None = None
    # A holiday band: the rate covers only the dates of this calendar (and its weekdays
    # and times, if set), and beats the rates of the same prefix without one there.
    # Last, so that rates built positionally keep their meaning.
    holidays: Holidays | None = None


@dataclass(frozen=True)
class SheetRule:
    """The sheet-wide rules of a sheet from `effective_from` (aware) on: a call that
    starts at or after it is rated by these, an earlier one by the rule before it (the
    sheet's own fields before the first SheetRule). See docs/rates.md, "Rule versions"."""

    effective_from: datetime
    decimals: int
    rounding: Rounding
    block_mode: BlockMode
    timezone: str


@dataclass(frozen=True)
class RateSheet:
    name: str
    rates: tuple[Rate, ...] = ()
    currency: str = "USD"
    decimals: int = 4
    rounding: Rounding = Rounding.HALF_UP
    block_mode: BlockMode = BlockMode.FIRST_BLOCK
    timezone: str = "UTC"  # IANA name; time bands are read in it
    id: int | None = None
    version: int = 0  # bumped on every change; caches compare it
    # Later versions of decimals, rounding, block_mode and timezone, by effective_from;
    # the fields above are the rule before the first of them.
    rules: tuple[SheetRule, ...] = ()


@dataclass(frozen=True)
class CallToRate:
    number: str  # the dialled digits, already normalised (no '+', no spaces)
    start: datetime  # aware; the moment the call was answered (or started, if unanswered)
    billsec: int  # billable seconds as the switch reports them
    answered: bool = True


@dataclass(frozen=True)
class CostPart:
    """One stretch of a call priced at one band/tier."""

    start_second: int  # seconds since the call's start
    seconds: int  # real seconds in this part
    billed_seconds: int  # after rounding up to the increment
    price: Decimal  # per minute
    exact_cost: Decimal
    band: str  # a human label of the band, e.g. "mon-fri 08:00-18:00" or "all"


@dataclass(frozen=True)
class CallCost:
    cost: Decimal  # rounded with the sheet's decimals and rounding
    exact_cost: Decimal  # unrounded
    prefix: str
    destination: str
    billed_seconds: int
    rate: Rate
    parts: tuple[CostPart, ...] = field(default=())
