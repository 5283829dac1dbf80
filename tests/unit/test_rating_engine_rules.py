"""Engine rules that the property tests leave open, each from docs/rates.md or the
plan's docstring (rating/plan.py), found by mutation testing (docs/mutation.md):
a call that starts on the catch-all rows follows their bands, rule versions reach every
entry point (from an offset, the billed seconds, the reach), and the messages of a bad
argument."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

import pytest

from rating import BlockMode, CallToRate, Rate, RateSheet, Rounding, SheetRule, compile_sheet
from rating.errors import InvalidInput, NoRateForDestination
from rating.model import CATCH_ALL
from tests.unit.test_rating_bands import banded

D = Decimal
MONDAY_1759 = datetime(2026, 11, 23, 17, 59, tzinfo=UTC)


def _sheet(*rates: Rate, rules: tuple[SheetRule, ...] = ()) -> RateSheet:
    return RateSheet("s", rates, rules=rules)


class TestACallStartedOnTheCatchAll:
    def test_follows_the_catch_all_rows_bands(self) -> None:
        # "*" at 1.00 a minute 08-18 on weekdays, 0.50 otherwise; no digit row for 999.
        rows = banded(CATCH_ALL, peak="1", off_peak="0.50", weekend="0.50")
        plan = compile_sheet(_sheet(Rate("34", "Spain", D("0.10")), *rows))
        cost = plan.rate_call(CallToRate("999123", MONDAY_1759, 120))
        assert [(p.start_second, p.seconds, p.price) for p in cost.parts] == [
            (0, 60, D("1")),
            (60, 60, D("0.50")),
        ]
        assert cost.cost == D("1.5000")
        assert plan.max_duration("999123", MONDAY_1759, D("1.25")) == 90

    def test_reads_its_bands_in_the_sheets_time_zone(self) -> None:
        # 07:00 UTC on a summer Monday is 09:00 in Madrid: peak there.
        rows = banded(CATCH_ALL, peak="1", off_peak="0.50", weekend="0.50")
        plan = compile_sheet(RateSheet("s", rows, timezone="Europe/Madrid"))
        at = datetime(2026, 6, 1, 7, tzinfo=UTC)
        assert plan.find_rate("999123", at).price == D("1")
        assert plan.find_rate("999123", at.replace(hour=16, minute=30)).price == D("0.50")

    def test_goes_on_at_a_digit_prefix_where_the_catch_all_has_no_rate(self) -> None:
        # "*" only 08-18; 34 only 18-08: a call to Spain at 17:59 starts on "*" and
        # goes on at 34's night rate from 18:00.
        plan = compile_sheet(
            _sheet(
                Rate("34", "Spain night", D("0.10"), time_from=time(18), time_to=time(8)),
                Rate(CATCH_ALL, "ROW day", D("1"), time_from=time(8), time_to=time(18)),
            )
        )
        cost = plan.rate_call(CallToRate("34911", MONDAY_1759, 120))
        assert [(p.seconds, p.price, p.band) for p in cost.parts] == [
            (60, D("1"), "08:00-18:00"),
            (60, D("0.10"), "18:00-08:00"),
        ]
        assert cost.destination == "ROW day"
        assert cost.cost == D("1.1000")

    def test_a_call_on_a_row_without_bands_is_not_cut_at_the_catch_alls_edges(self) -> None:
        # A promotion for Spain (no band) ends at 17:59:30, then the open-ended 0.10;
        # "*" has bands. A call that starts on the promotion stays on it: a row
        # without bands never falls back to the catch-all, so its edges (18:00) do
        # not cut the call, and a validity end alone cuts no call (docs/rates.md).
        rows = banded(CATCH_ALL, peak="1", off_peak="0.50", weekend="0.50")
        promotion = Rate(
            "34", "Spain promotion", D("0.02"), valid_to=MONDAY_1759 + timedelta(seconds=30)
        )
        plan = compile_sheet(_sheet(promotion, Rate("34", "Spain", D("0.10")), *rows))
        cost = plan.rate_call(CallToRate("34911", MONDAY_1759, 120))
        assert [(p.seconds, p.price) for p in cost.parts] == [(120, D("0.02"))]
        assert cost.cost == D("0.0400")
        # Started after its end, the call is on the open-ended row.
        later = plan.rate_call(CallToRate("34911", MONDAY_1759 + timedelta(seconds=30), 120))
        assert (later.cost, later.destination) == (D("0.2000"), "Spain")


def _rule(**changes: object) -> SheetRule:
    """The sheet's first rule (4 decimals, half up, first_block, UTC) changed at MOMENT."""
    rule: dict[str, object] = {
        "decimals": 4,
        "rounding": Rounding.HALF_UP,
        "block_mode": BlockMode.FIRST_BLOCK,
        "timezone": "UTC",
    }
    rule.update(changes)
    return SheetRule(MOMENT, **rule)  # type: ignore[arg-type]


MOMENT = datetime(2026, 6, 1, 12, tzinfo=UTC)
DAY_BEFORE = MOMENT - timedelta(days=1)
PER_SECOND = Rate("34", price=D("0.07"), initial_increment=1, increment=1)


class TestRuleVersionsAtEveryEntryPoint:
    def test_rate_from_an_offset_rounds_by_the_rule_of_the_calls_start(self) -> None:
        plan = compile_sheet(_sheet(PER_SECOND, rules=(_rule(decimals=1, rounding=Rounding.UP),)))
        # 51 s from offset 10 at 0.07 a minute, per second: 0.0595 exactly.
        assert plan.rate_from(CallToRate("34911", DAY_BEFORE, 61), 10).cost == D("0.0595")
        assert plan.rate_from(CallToRate("34911", MOMENT, 61), 10).cost == D("0.1")

    def test_billed_seconds_follow_the_block_mode_of_the_start(self) -> None:
        # 46 s on 45/60: first_block bills 45 + 60, whole_call the call rounded to 60.
        rate = Rate("34", price=D("0.10"), initial_increment=45, increment=60)
        plan = compile_sheet(_sheet(rate, rules=(_rule(block_mode=BlockMode.WHOLE_CALL),)))
        assert plan.billed_from(CallToRate("34911", DAY_BEFORE, 100), 0)(46) == 105
        assert plan.billed_from(CallToRate("34911", MOMENT, 100), 0)(46) == 60

    def test_max_duration_from_an_offset_uses_the_rule_of_the_start(self) -> None:
        plan = compile_sheet(_sheet(PER_SECOND, rules=(_rule(decimals=1, rounding=Rounding.UP),)))
        # 0.0595 buys 51 s past the offset at 4 places; rounded up to 0.1 it buys none
        # that costs more than 0 and at most 0.0595.
        assert plan.max_duration_from("34911", DAY_BEFORE, D("0.0595"), 600, 10) == 61
        assert plan.max_duration_from("34911", MOMENT, D("0.0595"), 600, 10) == 10

    def test_reach_reads_the_bands_in_the_zone_of_the_start(self) -> None:
        # 34 has a rate 08-18 only. In UTC a call at 17:00 UTC reaches 18:00 UTC; from
        # MOMENT the zone is Madrid (summer, +2), where 15:00 UTC is 17:00.
        day = Rate("34", price=D("0.60"), time_from=time(8), time_to=time(18))
        plan = compile_sheet(_sheet(day, rules=(_rule(timezone="Europe/Madrid"),)))
        assert plan.reach("34911", DAY_BEFORE.replace(hour=17), 7200) == 3600
        assert plan.reach("34911", MOMENT.replace(day=2, hour=15), 7200) == 3600
        assert plan.reach("34911", MOMENT.replace(day=2, hour=15, minute=30), 7200) == 1800


class TestBilledFrom:
    """billed_from(call, offset)(end): the billed seconds of the rated seconds
    [offset, end), as rate_from bills them; raises NoRateForDestination as rate_call."""

    DAY_ONLY = Rate(
        "34",
        price=D("0.60"),
        initial_increment=30,
        increment=30,
        included_seconds=60,
        time_from=time(8),
        time_to=time(18),
    )

    def test_a_call_rated_before_a_band_without_rate_is_billed(self) -> None:
        # 120 s from 17:57:30 less 60 included: 60 rated seconds, ending 17:58:30, so
        # the band without a rate from 18:00 plays no part.
        plan = compile_sheet(_sheet(self.DAY_ONLY))
        call = CallToRate("34911", MONDAY_1759 - timedelta(seconds=90), 120)
        billed = plan.billed_from(call, 0)
        assert (billed(0), billed(31), billed(60)) == (0, 60, 60)
        assert billed(60) == plan.rate_call(call).billed_seconds

    def test_a_call_into_a_band_without_rate_raises(self) -> None:
        plan = compile_sheet(_sheet(self.DAY_ONLY))
        call = CallToRate("34911", MONDAY_1759 - timedelta(seconds=90), 300)  # 240 rated
        with pytest.raises(NoRateForDestination) as raised:
            plan.billed_from(call, 0)
        assert raised.value.message == "no rate for 34911 150 s into the call"  # 18:00
        with pytest.raises(NoRateForDestination):
            plan.rate_call(call)


class TestMessages:
    def test_at_needs_an_aware_moment(self) -> None:
        plan = compile_sheet(_sheet(PER_SECOND, rules=(_rule(decimals=2),)))
        naive = datetime(2026, 6, 1, 12)
        with pytest.raises(InvalidInput) as raised:
            plan.at(naive)
        assert raised.value.message == f"moment must be an aware datetime, not {naive!r}"

    @pytest.mark.parametrize("bad", [-1, 1.5, True])
    def test_an_offset_is_a_whole_number_of_seconds(self, bad: object) -> None:
        plan = compile_sheet(_sheet(PER_SECOND))
        message = f"offset must be a whole number of seconds >= 0, not {bad!r}"
        with pytest.raises(InvalidInput) as raised:
            plan.rate_from(CallToRate("34911", MOMENT, 61), bad)  # type: ignore[arg-type]
        assert raised.value.message == message
        with pytest.raises(InvalidInput) as raised:
            plan.max_duration_from("34911", MOMENT, D(1), 600, bad)  # type: ignore[arg-type]
        assert raised.value.message == message

    @pytest.mark.parametrize("bad", [-1, 2.5, False])
    def test_a_billsec_is_a_whole_number_of_seconds(self, bad: object) -> None:
        plan = compile_sheet(_sheet(PER_SECOND))
        with pytest.raises(InvalidInput) as raised:
            plan.rate_call(CallToRate("34911", MOMENT, bad))  # type: ignore[arg-type]
        assert (
            raised.value.message == f"billsec must be a whole number of seconds >= 0, not {bad!r}"
        )

    def test_rule_versions_need_aware_moments_in_time_order(self) -> None:
        naive = MOMENT.replace(tzinfo=None)
        with pytest.raises(InvalidInput) as raised:
            compile_sheet(_sheet(PER_SECOND, rules=(replace(_rule(), effective_from=naive),)))
        assert raised.value.message == (
            f"a rule version's effective_from must be an aware datetime, not {naive!r}"
        )
        with pytest.raises(InvalidInput) as raised:
            compile_sheet(_sheet(PER_SECOND, rules=(_rule(), _rule(decimals=2))))
        assert raised.value.message == "sheet 's': rule versions must be in time order"

    def test_a_bad_block_mode_or_rounding_names_the_sheet_and_the_value(self) -> None:
        for field, enum in (("block_mode", "BlockMode"), ("rounding", "Rounding")):
            with pytest.raises(InvalidInput) as raised:
                compile_sheet(replace(_sheet(PER_SECOND), **{field: "sideways"}))  # type: ignore[arg-type]
            assert raised.value.message == f"sheet 's': 'sideways' is not a valid {enum}"

    @pytest.mark.parametrize("bad", [True, 2.0, "2", D(2), -1, 7])
    def test_decimals_are_a_whole_number_from_0_to_6(self, bad: object) -> None:
        # True is an int to Python, and 0 <= "2" is a TypeError: neither is a count of places.
        with pytest.raises(InvalidInput) as raised:
            compile_sheet(replace(_sheet(PER_SECOND), decimals=bad))  # type: ignore[arg-type]
        assert raised.value.message == "sheet 's': decimals must be 0 to 6"
        for good in (0, 6):
            assert compile_sheet(replace(_sheet(PER_SECOND), decimals=good)).sheet.decimals == good


class TestCompactOrNot:
    """`compile_sheet(compact=...)` overrides the size rule (COMPACT_ABOVE) both ways: a
    compact plan answers equal Rates made from its rules, a plain plan the sheet's own."""

    def test_a_small_sheet_asked_compact_answers_equal_rates_not_its_own(self) -> None:
        rate = Rate("34", "Spain", D("0.10"))
        found = compile_sheet(_sheet(rate), compact=True).find_rate("34911", MONDAY_1759)
        assert found == rate and found is not rate
        assert compile_sheet(_sheet(rate)).find_rate("34911", MONDAY_1759) is rate

    def test_a_big_sheet_asked_plain_answers_its_own_rates(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr("rating.compile.COMPACT_ABOVE", 3)  # "big" without 50,000 rows
        rates = tuple(Rate(str(100 + i), "x", D("0.10")) for i in range(3))
        sheet = _sheet(*rates)
        assert compile_sheet(sheet, compact=False).find_rate("1017", MONDAY_1759) is rates[1]
        found = compile_sheet(sheet).find_rate("1017", MONDAY_1759)
        assert found == rates[1] and found is not rates[1]
