"""What makes a Rate billable, checked once: by the parser (with the line) and by
compile_sheet (for rates built in code or loaded from the database), so the engine never
divides by a zero increment or bills a negative price.

Each check returns `(column, problem)` or None; the column is the rate deck's column name.
"""

from __future__ import annotations

from datetime import datetime, time
from decimal import Decimal

from rating.formats import tiers_problem
from rating.model import CATCH_ALL, ON_NET, Holidays, Rate

__all__ = ["Problem", "prefix_problem", "rate_problem"]

Problem = tuple[str, str] | None


def rate_problem(rate: Rate) -> Problem:
    """The first reason `rate` cannot be billed, or None."""
    return (
        prefix_problem(rate)
        or _price_problem(rate)
        or _seconds_problem(rate)
        or _money_problem(rate)
        or _band_problem(rate)
        or _validity_problem(rate)
    )


def prefix_problem(rate: Rate) -> Problem:
    """Whether the prefix and the destination are right (rate_problem checks them first)."""
    prefix = rate.prefix
    is_digits = isinstance(prefix, str) and prefix.isascii() and prefix.isdigit()
    if not (is_digits or prefix in (CATCH_ALL, ON_NET)):
        return "prefix", f"{prefix!r} is not a prefix of digits, nor {CATCH_ALL!r}, nor {ON_NET!r}"
    if not isinstance(rate.destination, str):
        return "destination", "must be text"
    return None


def _price_problem(rate: Rate) -> Problem:
    if rate.price is None and not rate.tiers:
        return "price", "a price or tiers is required"
    if rate.price is not None and not _is_amount(rate.price):
        return "price", f"{rate.price!r} is not a non-negative Decimal"
    if not isinstance(rate.tiers, tuple):
        return "tiers", "must be a tuple of Tier"
    problem = tiers_problem(rate.tiers)
    return ("tiers", problem) if problem else None


def _seconds_problem(rate: Rate) -> Problem:
    fields = ("initial_increment", "increment", "included_seconds", "free_below")
    for name in fields:
        value = getattr(rate, name)
        if not (isinstance(value, int) and not isinstance(value, bool) and value >= 0):
            return name, f"{value!r} is not a whole number of seconds >= 0"
    if rate.increment < 1:
        return "increment", "must be at least 1 second"
    return None


def _money_problem(rate: Rate) -> Problem:
    for name in ("connect_fee", "min_cost"):
        if not _is_amount(getattr(rate, name)):
            return name, f"{getattr(rate, name)!r} is not a non-negative Decimal"
    if rate.max_cost is not None:
        if not _is_amount(rate.max_cost):
            return "max_cost", f"{rate.max_cost!r} is not a non-negative Decimal"
        if rate.max_cost < rate.min_cost:
            return "max_cost", f"{rate.max_cost} is below min_cost {rate.min_cost}"
    return None


def _band_problem(rate: Rate) -> Problem:
    days = rate.weekdays
    if days is not None:
        if not isinstance(days, frozenset) or not days:
            return "weekdays", "must be a non-empty frozenset of days, or None for every day"
        if not days <= frozenset(range(7)):
            return "weekdays", f"{sorted(days)} has a day outside 0 (Monday) .. 6 (Sunday)"
    holidays = rate.holidays
    if holidays is not None and not (isinstance(holidays, Holidays) and holidays.name):
        return "holidays", f"{holidays!r} is not a named holiday calendar"
    for name in ("time_from", "time_to"):
        value = getattr(rate, name)
        if value is None:
            continue
        if not isinstance(value, time) or value.tzinfo is not None or value.microsecond:
            return name, f"{value!r} is not a plain time of day in whole seconds"
    return None


def _validity_problem(rate: Rate) -> Problem:
    for name in ("valid_from", "valid_to"):
        value = getattr(rate, name)
        if value is not None and not (
            isinstance(value, datetime) and value.utcoffset() is not None
        ):
            return name, f"{value!r} is not an aware datetime"
    start, end = rate.valid_from, rate.valid_to
    if start is not None and end is not None and end <= start:
        return "valid_to", "must be after valid_from"
    return None


def _is_amount(value: object) -> bool:
    # isinstance first: a float must not even reach a comparison with a Decimal.
    return isinstance(value, Decimal) and value.is_finite() and value >= 0
