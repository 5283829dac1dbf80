"""The compact plan of a big sheet (rating/compact_index.py) answers exactly what the
PrefixIndex plan answers: rates, costs, parts and max durations, on random decks with
overlapping prefixes, several rates per prefix (bands, validity, holidays), catch-all
and on-net rows, and rule versions, at random moments and numbers."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rating import CallToRate, NoRateForDestination, Rate, RateSheet, RatingPlan, compile_sheet
from rating.compact_index import RuleTable, rule_of
from rating.engine import COMPACT_ABOVE, compile_rules
from rating.errors import InvalidInput
from rating.model import CATCH_ALL, ON_NET, BlockMode, Holidays, Rounding, SheetRule
from rating.onnet import on_net_plan

D = Decimal
START = datetime(2025, 3, 24, tzinfo=UTC)  # a fortnight with Madrid's change to summer time
XMAS = Holidays("xmas", frozenset({date(2025, 3, 28)}), frozenset({(12, 25)}))
BANDS: tuple[dict[str, object], ...] = (
    {},
    {"weekdays": frozenset(range(5)), "time_from": time(8), "time_to": time(18)},
    {"weekdays": frozenset({5, 6})},
    {"time_from": time(22), "time_to": time(6)},
    {"holidays": XMAS},
)
properties = settings(deadline=None, max_examples=min(200, settings.default.max_examples * 2))

prefixes = st.text("3409", min_size=1, max_size=4)
prices = st.integers(0, 300).map(lambda n: D(n).scaleb(-2))
moments = st.integers(0, 14 * 86400).map(lambda s: START + timedelta(seconds=s))


@st.composite
def rates(draw: st.DrawFn) -> Rate:
    prefix = draw(st.one_of(prefixes, st.sampled_from([CATCH_ALL, ON_NET])))
    validity = draw(
        st.sampled_from(
            [(None, None), (START + timedelta(days=3), None), (None, START + timedelta(days=5))]
        )
    )
    return Rate(
        prefix,
        draw(st.sampled_from(["A", "B", ""])),
        price=draw(prices),
        initial_increment=draw(st.sampled_from([1, 30, 60])),
        increment=draw(st.sampled_from([1, 6, 60])),
        connect_fee=draw(st.sampled_from([D(0), D("0.05")])),
        valid_from=validity[0],
        valid_to=validity[1],
        **draw(st.sampled_from(BANDS)),  # type: ignore[arg-type]
    )


@st.composite
def sheets(draw: st.DrawFn) -> RateSheet:
    rules = ()
    if draw(st.booleans()):
        rules = (SheetRule(START + timedelta(days=4), 2, Rounding.UP, BlockMode.WHOLE_CALL, "UTC"),)
    return RateSheet(
        "deck",
        tuple(draw(st.lists(rates(), min_size=1, max_size=25))),
        timezone="Europe/Madrid",
        block_mode=draw(st.sampled_from(BlockMode)),
        rules=rules,
    )


numbers = st.text("34090", min_size=1, max_size=7)


def answers(plan: RatingPlan, number: str, at: datetime, billsec: int) -> object:
    try:
        rate = plan.find_rate(number, at)
    except NoRateForDestination:
        return "no rate"
    try:
        cost = plan.rate_call(CallToRate(number, at, billsec))
    except NoRateForDestination:
        cost = None
    return rate, cost, plan.max_duration(number, at, D("0.50"), 7200)


def streamed(sheet: RateSheet) -> RatingPlan:
    """The plan as db/ builds a big one: (prefix, rule number) pairs, no Rate per row."""
    table = RuleTable()
    pairs = ((rate.prefix, table.number(rule_of(rate))) for rate in sheet.rates)
    return compile_rules(sheet, pairs, table.rules)


class TestTheCompactPlanAnswersAsTheOther:
    @properties
    @given(sheets(), st.lists(st.tuples(numbers, moments, st.integers(0, 3 * 3600)), max_size=8))
    def test_on_random_decks(
        self, sheet: RateSheet, calls: list[tuple[str, datetime, int]]
    ) -> None:
        plain = compile_sheet(sheet, compact=False)
        compact = compile_sheet(sheet, compact=True)
        stream = streamed(sheet)
        for number, at, billsec in calls:
            expected = answers(plain, number, at, billsec)
            assert answers(compact, number, at, billsec) == expected
            assert answers(stream, number, at, billsec) == expected

    @properties
    @given(sheets())
    def test_the_streamed_sheet_holds_the_same_rates(self, sheet: RateSheet) -> None:
        stream = streamed(sheet)
        assert len(stream.sheet.rates) == len(sheet.rates)
        assert sorted(map(repr, stream.sheet.rates)) == sorted(map(repr, sheet.rates))
        on_net, expected = on_net_plan(stream), on_net_plan(compile_sheet(sheet))
        for day in range(0, 14, 3):
            at = START + timedelta(days=day, hours=day)
            assert answers(on_net, "0", at, 90) == answers(expected, "0", at, 90)


class TestCompactPlans:
    def test_a_big_sheet_is_compact_by_default(self) -> None:
        rates = tuple(Rate(str(10**6 + n), price=D("0.01")) for n in range(COMPACT_ABOVE))
        plan = compile_sheet(RateSheet("big", rates))
        found = plan.find_rate("1000042999", START)
        assert found == rates[42] and found is not rates[42]
        small = compile_sheet(RateSheet("small", rates[:10]))
        assert small.find_rate("1000004", START) is rates[4]

    def test_leading_zeros_are_other_prefixes(self) -> None:
        plan = streamed(
            RateSheet(
                "z", (Rate("44", "uk", D(1)), Rate("0044", "zero", D(2)), Rate("0", "o", D(3)))
            )
        )
        assert plan.find_rate("44123", START).destination == "uk"
        assert plan.find_rate("004412", START).destination == "zero"
        assert plan.find_rate("0045", START).destination == "o"
        with pytest.raises(NoRateForDestination):
            plan.find_rate("5", START)

    def test_a_bad_row_is_refused_as_compile_sheet_refuses_it(self) -> None:
        for bad in (Rate("3x", price=D(1)), Rate("34", price=D(-1))):
            sheet = RateSheet("bad", (Rate("1", price=D(1)), bad))
            with pytest.raises(InvalidInput) as plain:
                compile_sheet(sheet)
            with pytest.raises(InvalidInput) as compact:
                streamed(sheet)
            assert str(compact.value) == str(plain.value)

    def test_rules_are_stored_once(self) -> None:
        table = RuleTable()
        numbers = [table.number(rule_of(Rate(p, price=D("0.10")))) for p in ("1", "2", "3")]
        assert numbers == [0, 0, 0] and len(table.rules) == 1
        # The days of a calendar are part of a rule, though Holidays compare by name.
        other = Holidays("xmas", frozenset({date(2025, 1, 1)}))
        assert table.number(rule_of(Rate("1", price=D(1), holidays=XMAS))) == 1
        assert table.number(rule_of(Rate("1", price=D(1), holidays=other))) == 2

    def test_prefixes_longer_than_a_key_and_other_signs(self) -> None:
        long = "1" * 22
        rates = (
            Rate(long, "long", D(1)),
            Rate("11", "short", D(2)),
            Rate(long[:20], "twenty", D(3), weekdays=frozenset({0})),
            Rate(ON_NET, "onnet", D(4)),
        )
        plain, compact = compile_sheet(RateSheet("l", rates)), streamed(RateSheet("l", rates))
        monday, sunday = datetime(2025, 3, 24, tzinfo=UTC), datetime(2025, 3, 30, tzinfo=UTC)
        for number in (long + "5", long[:21], long[:20], "115", "2"):
            for at in (monday, sunday):
                assert answers(compact, number, at, 61) == answers(plain, number, at, 61)
        index = compact._index  # the look-ups RatingPlan makes of an index
        assert index.find_for_prefix(ON_NET, monday) == rates[3]
        assert index.find("onnet1", monday) == rates[3]
        assert len(index) == 4
