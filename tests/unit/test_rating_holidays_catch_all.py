"""Holiday bands (a calendar's days beat the weekday bands) and the catch-all row "*"
(the plan's fallback where no digit prefix has a rate in force)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest

from rating import CallToRate, NoRateForDestination, Rate, RateSheet, compile_sheet
from rating.errors import BelowCost, InvalidInput, InvalidRateRow
from rating.model import CATCH_ALL, Holidays
from rating.tariffs import parse_rates_csv, rate_to_row
from services.reseller.sheets_usecases import check_cost

D = Decimal
XMAS = Holidays("ES", dates=frozenset({date(2026, 1, 6)}), yearly=frozenset({(12, 25)}))
WEEKDAYS = frozenset(range(5))


def plan(*rates: Rate):  # type: ignore[no-untyped-def]
    return compile_sheet(RateSheet("s", rates))


def call(number: str, start: datetime, billsec: int) -> CallToRate:
    return CallToRate(number, start, billsec)


class TestCatchAll:
    def test_applies_only_where_no_digit_prefix_has_a_rate(self) -> None:
        p = plan(Rate("34", "Spain", D("0.10")), Rate(CATCH_ALL, "Rest of world", D("1.20")))
        at = datetime(2026, 12, 1, 12, tzinfo=UTC)
        assert p.find_rate("34911", at).destination == "Spain"
        assert p.find_rate("999123", at).destination == "Rest of world"
        assert p.rate_call(call("999123", at, 60)).cost == D("1.2000")

    def test_a_digit_prefix_out_of_validity_falls_back_to_it(self) -> None:
        later = datetime(2027, 1, 1, tzinfo=UTC)
        p = plan(Rate("34", "Spain", D("0.10"), valid_from=later), Rate(CATCH_ALL, "ROW", D("1")))
        assert p.find_rate("34911", datetime(2026, 12, 1, tzinfo=UTC)).destination == "ROW"
        assert p.find_rate("34911", later).destination == "Spain"

    def test_without_one_an_unknown_number_has_no_rate(self) -> None:
        p = plan(Rate("34", "Spain", D("0.10")))
        with pytest.raises(NoRateForDestination):
            p.find_rate("999", datetime(2026, 12, 1, tzinfo=UTC))

    def test_a_banded_call_falls_back_to_it_at_an_edge(self) -> None:
        # 34 has a weekday rate only: a Friday-night call goes on at "*" from Saturday.
        p = plan(
            Rate("34", "Spain weekdays", D("0.60"), weekdays=WEEKDAYS),
            Rate(CATCH_ALL, "ROW", D("1.20")),
        )
        friday = datetime(2026, 12, 4, 23, 59, tzinfo=UTC)
        cost = p.rate_call(call("34911", friday, 120))
        assert [(x.seconds, x.price) for x in cost.parts] == [(60, D("0.60")), (60, D("1.20"))]
        assert cost.cost == D("1.8000")

    def test_bounds_a_call_like_any_rate(self) -> None:
        p = plan(Rate(CATCH_ALL, "ROW", D("0.60")))
        assert p.max_duration("999", datetime(2026, 12, 1, tzinfo=UTC), D("0.30")) == 30

    def test_reads_and_writes_as_star_in_a_deck(self) -> None:
        (rate,) = parse_rates_csv("prefix,destination,price\n*,Rest of world,1.2\n")
        assert rate.prefix == CATCH_ALL
        assert rate_to_row(rate)["prefix"] == "*"

    def test_other_signs_are_still_refused(self) -> None:
        with pytest.raises(InvalidRateRow, match="not a number"):
            parse_rates_csv("prefix,price\n3*,1\n")
        with pytest.raises(InvalidInput, match="nor '\\*'"):
            plan(Rate("**", price=D(1)))

    def test_below_cost_compares_with_the_sellers_catch_all(self) -> None:
        costs = {"34": Rate("34", price=D("0.10")), CATCH_ALL: Rate(CATCH_ALL, price=D("0.50"))}
        check_cost([Rate("34", price=D("0.20"))], costs)  # covered by 34: fine
        with pytest.raises(BelowCost, match=r"below your cost 0\.50"):
            check_cost([Rate("999", price=D("0.40"))], costs)
        with pytest.raises(BelowCost, match=r"below your cost 0\.50"):
            check_cost([Rate(CATCH_ALL, price=D("0.40"))], costs)


class TestHolidayBands:
    def rates(self) -> tuple[Rate, ...]:
        return (
            Rate("34", "Spain", D("0.60")),
            Rate("34", "Spain weekend", D("0.30"), weekdays=frozenset({5, 6})),
            Rate("34", "Spain holiday", D("0.06"), holidays=XMAS),
        )

    def test_a_holiday_beats_the_weekday_bands_on_its_dates(self) -> None:
        p = plan(*self.rates())
        # 2026-12-25 is a Friday (yearly day), 2026-01-06 a Tuesday (fixed date),
        # 2027-12-25 a Saturday: a holiday beats the weekend band too.
        for day in (datetime(2026, 12, 25, 10), datetime(2026, 1, 6, 10), datetime(2027, 12, 25)):
            assert p.find_rate("34911", day.replace(tzinfo=UTC)).destination == "Spain holiday"
        assert p.find_rate("34911", datetime(2026, 12, 24, tzinfo=UTC)).destination == "Spain"
        assert p.find_rate("34911", datetime(2027, 1, 6, tzinfo=UTC)).destination == "Spain"

    def test_a_call_into_a_holiday_is_split_at_midnight(self) -> None:
        p = plan(*self.rates())
        start = datetime(2026, 12, 24, 23, 59, tzinfo=UTC)
        cost = p.rate_call(call("34911", start, 180))
        assert [(x.seconds, x.price, x.band) for x in cost.parts] == [
            (60, D("0.60"), "all"),
            (120, D("0.06"), "holidays ES"),
        ]
        assert cost.cost == D("0.7200")

    def test_a_call_out_of_a_holiday_is_split_at_midnight(self) -> None:
        p = plan(*self.rates())
        start = datetime(2026, 12, 25, 23, 59, tzinfo=UTC)  # into Saturday 26th
        cost = p.rate_call(call("34911", start, 120))
        assert [(x.seconds, x.price) for x in cost.parts] == [(60, D("0.06")), (60, D("0.30"))]

    def test_max_duration_counts_the_cheap_holiday_part(self) -> None:
        p = plan(*self.rates())
        start = datetime(2026, 12, 24, 23, 59, tzinfo=UTC)
        # 0.60 for the first minute, then 0.06 a minute: 0.66 buys two minutes.
        assert p.max_duration("34911", start, D("0.66")) == 120

    def test_the_sheets_time_zone_decides_the_date(self) -> None:
        rates = self.rates()
        p = compile_sheet(RateSheet("s", rates, timezone="Europe/Madrid"))
        # 23:30 UTC on the 24th is 00:30 on the 25th in Madrid.
        at = datetime(2026, 12, 24, 23, 30, tzinfo=UTC)
        assert p.find_rate("34911", at).destination == "Spain holiday"
        assert p.find_rate("34911", at - timedelta(hours=1)).destination == "Spain"

    def test_a_holiday_band_with_hours(self) -> None:
        evening = Rate("34", "Xmas eve", D("0.01"), holidays=XMAS, time_from=time(18))
        p = plan(Rate("34", "Spain", D("0.60")), evening)
        assert p.find_rate("34911", datetime(2026, 12, 25, 19, tzinfo=UTC)).destination == (
            "Xmas eve"
        )
        assert p.find_rate("34911", datetime(2026, 12, 25, 9, tzinfo=UTC)).destination == "Spain"

    def test_a_deck_row_names_its_calendar(self) -> None:
        text = "prefix,price,holidays\n34,0.60,\n34,0.06,ES\n"
        plain, holiday = parse_rates_csv(text)
        assert plain.holidays is None
        assert holiday.holidays == Holidays("ES")
        assert rate_to_row(holiday)["holidays"] == "ES"

    def test_a_holiday_row_is_not_a_duplicate_of_the_all_week_row(self) -> None:
        with pytest.raises(InvalidRateRow, match="same prefix"):
            parse_rates_csv("prefix,price,holidays\n34,0.60,ES\n34,0.06,ES\n")
