"""Billing periods of a recurring fee, and proration by the day. Pure: no I/O, no clock.

A period is a half-open range of days [start, end). Daily and weekly periods follow the
subscription's first day; monthly periods are anchored to a billing day (1-31): in a
month shorter than the billing day, the period starts on the month's last day (a
billing day of 31 gives Jan 31, Feb 28/29, Mar 31 ...). Yearly periods follow the
start's month and day (Feb 29 becomes Feb 28 in common years).

A fee is prorated by the day: price x active days / days of the period, computed
exactly, then rounded once to `CENTS` (half up). See docs/recurring.md.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

PERIODS = ("daily", "weekly", "monthly", "yearly")
CENTS = Decimal("0.01")


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # exclusive

    @property
    def days(self) -> int:
        return (self.end - self.start).days


def _month_anchor(year: int, month: int, billing_day: int) -> date:
    return date(year, month, min(billing_day, calendar.monthrange(year, month)[1]))


def _add_months(year: int, month: int, n: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + n
    return index // 12, index % 12 + 1


def period_containing(kind: str, anchor: date, billing_day: int, day: date) -> Period:
    """The period of this kind that holds `day`. `anchor` is the subscription's first day
    (what daily, weekly and yearly periods follow); `billing_day` anchors monthly ones."""
    if kind == "daily":
        return Period(day, day + timedelta(days=1))
    if kind == "weekly":
        offset = (day - anchor).days % 7
        start = day - timedelta(days=offset)
        return Period(start, start + timedelta(days=7))
    if kind == "monthly":
        start = _month_anchor(day.year, day.month, billing_day)
        if start > day:
            start = _month_anchor(*_add_months(day.year, day.month, -1), billing_day)
        end = _month_anchor(*_add_months(start.year, start.month, 1), billing_day)
        return Period(start, end)
    if kind == "yearly":
        year = day.year
        start = _year_anchor(year, anchor)
        if start > day:
            year -= 1
            start = _year_anchor(year, anchor)
        return Period(start, _year_anchor(year + 1, anchor))
    raise ValueError(f"unknown period {kind!r}")


def _year_anchor(year: int, anchor: date) -> date:
    return _month_anchor(year, anchor.month, anchor.day)


def active_days(period: Period, start: date, end: date | None) -> int:
    """Days of the period inside the subscription's [start, end)."""
    lo = max(period.start, start)
    hi = period.end if end is None else min(period.end, end)
    return max(0, (hi - lo).days)


def prorate(price: Decimal, days: int, period_days: int) -> tuple[Decimal, Decimal]:
    """(exact, billed) fee for `days` of a `period_days` period: exact arithmetic, one
    rounding at the end."""
    if days >= period_days:
        return price, price.quantize(CENTS, rounding=ROUND_HALF_UP)
    exact = price * days / period_days
    return exact, exact.quantize(CENTS, rounding=ROUND_HALF_UP)
