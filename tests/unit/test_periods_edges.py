"""Period edges the first tests left open (rating/periods.py, docs/recurring.md): a day
before the year's anniversary, the anniversary itself, proration's half-up cents, and
the message of an unknown period."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from rating.periods import Period, period_containing, prorate

D = Decimal
START = date(2025, 6, 15)


class TestYearlyPeriods:
    def test_a_day_before_the_anniversary_is_in_the_period_begun_last_year(self) -> None:
        assert period_containing("yearly", START, 15, date(2027, 3, 1)) == Period(
            date(2026, 6, 15), date(2027, 6, 15)
        )

    def test_the_anniversary_starts_a_new_period(self) -> None:
        # half-open periods: the anniversary is the first day of the next one
        assert period_containing("yearly", START, 15, date(2027, 6, 15)) == Period(
            date(2027, 6, 15), date(2028, 6, 15)
        )
        assert period_containing("yearly", START, 15, date(2027, 6, 14)) == Period(
            date(2026, 6, 15), date(2027, 6, 15)
        )

    def test_a_leap_day_start_before_its_anniversary_in_a_common_year(self) -> None:
        leap = date(2028, 2, 29)
        assert period_containing("yearly", leap, 29, date(2030, 1, 10)) == Period(
            date(2029, 2, 28), date(2030, 2, 28)
        )


class TestProration:
    def test_a_fee_half_a_cent_off_rounds_up_not_to_even(self) -> None:
        # 0.25 x 1/2 = 0.125: half up gives 0.13 (half even would give 0.12)
        assert prorate(D("0.25"), 1, 2) == (D("0.125"), D("0.13"))
        assert prorate(D("0.35"), 1, 2) == (D("0.175"), D("0.18"))

    def test_a_whole_period_is_the_price_itself(self) -> None:
        exact, billed = prorate(D("9.995"), 30, 30)
        assert (exact, billed) == (D("9.995"), D("10.00"))


def test_an_unknown_period_is_named_in_the_error() -> None:
    with pytest.raises(ValueError, match=r"^unknown period 'hourly'$"):
        period_containing("hourly", START, 15, START)
