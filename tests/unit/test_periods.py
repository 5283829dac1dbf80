"""Period rules and proration (rating/periods.py)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from rating.periods import Period, active_days, period_containing, prorate

D = Decimal


@pytest.mark.parametrize(
    ("billing_day", "day", "expected"),
    [
        (31, date(2027, 2, 10), Period(date(2027, 1, 31), date(2027, 2, 28))),
        (31, date(2027, 2, 28), Period(date(2027, 2, 28), date(2027, 3, 31))),
        (29, date(2028, 2, 29), Period(date(2028, 2, 29), date(2028, 3, 29))),
        (30, date(2027, 3, 1), Period(date(2027, 2, 28), date(2027, 3, 30))),
        (1, date(2027, 12, 31), Period(date(2027, 12, 1), date(2028, 1, 1))),
        (15, date(2027, 1, 14), Period(date(2026, 12, 15), date(2027, 1, 15))),
    ],
)
def test_monthly_periods_follow_the_billing_day_through_short_months(
    billing_day: int, day: date, expected: Period
) -> None:
    assert period_containing("monthly", date(2026, 1, 1), billing_day, day) == expected


def test_weekly_and_yearly_periods_follow_the_first_day() -> None:
    start = date(2027, 1, 6)  # a Wednesday
    assert period_containing("weekly", start, 6, date(2027, 1, 19)) == Period(
        date(2027, 1, 13), date(2027, 1, 20)
    )
    leap = date(2028, 2, 29)
    assert period_containing("yearly", leap, 29, date(2029, 6, 1)) == Period(
        date(2029, 2, 28), date(2030, 2, 28)
    )
    assert period_containing("daily", start, 6, start).days == 1


def test_proration_is_exact_and_rounds_once_half_up() -> None:
    period = Period(date(2027, 1, 1), date(2027, 2, 1))
    days = active_days(period, date(2027, 1, 21), None)
    assert days == 11
    exact, billed = prorate(D("9.99"), days, period.days)
    assert exact == D("9.99") * 11 / 31
    assert billed == D("3.54")  # 3.5448...
    assert prorate(D("0.005"), 1, 2) == (D("0.0025"), D("0.00"))
    assert prorate(D("10.005"), 31, 31)[1] == D("10.01")
    assert active_days(period, date(2026, 12, 1), date(2027, 1, 1)) == 0
