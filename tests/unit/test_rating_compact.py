"""The compact plan of a big sheet (rating/compact_index.py) answers exactly what the
PrefixIndex plan answers: rates, costs, parts and max durations, on random decks with
overlapping prefixes, several rates per prefix (bands, validity, holidays), catch-all
and on-net rows, and rule versions, at random moments and numbers."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rating import CallToRate, NoRateForDestination, Rate, RateSheet, RatingPlan, compile_sheet
from rating.compact_index import CompactIndex, RuleTable, rule_of, with_prefix
from rating.compile import COMPACT_ABOVE, compile_index, compile_rules
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


def packed(sheet: RateSheet, chunk: int = 3) -> RatingPlan:
    """The plan as db/ builds a big one now (CompactIndex.from_sorted): a row per rate,
    by the prefix's length, then its text, then sheet order, in small chunks; the rules
    numbered otherwise than as first seen (the database numbers them by their columns'
    values); the catch-all rows apart."""
    table = RuleTable()
    rows = [
        (rate.prefix, table.number(rule_of(rate)))
        for rate in sheet.rates
        if rate.prefix != CATCH_ALL
    ]
    catch_all = [rate for rate in sheet.rates if rate.prefix == CATCH_ALL]
    last = len(table.rules) - 1
    rows.sort(key=lambda row: (len(row[0]), row[0]))  # stable: sheet order kept
    chunks = [
        (
            [prefix for prefix, _ in rows[i : i + chunk]],
            [str(last - n) for _, n in rows[i : i + chunk]],
        )
        for i in range(0, len(rows), chunk)
    ]
    index = CompactIndex.from_sorted(chunks, table.rules[::-1], ZoneInfo("UTC"))
    return compile_index(sheet, index, catch_all)


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
        pack = packed(sheet)
        for number, at, billsec in calls:
            expected = answers(plain, number, at, billsec)
            assert answers(compact, number, at, billsec) == expected
            assert answers(stream, number, at, billsec) == expected
            assert answers(pack, number, at, billsec) == expected

    @properties
    @given(sheets())
    def test_the_streamed_sheet_holds_the_same_rates(self, sheet: RateSheet) -> None:
        stream = streamed(sheet)
        assert len(stream.sheet.rates) == len(sheet.rates)
        assert sorted(map(repr, stream.sheet.rates)) == sorted(map(repr, sheet.rates))
        pack = packed(sheet, chunk=2)
        assert len(pack.sheet.rates) == len(sheet.rates)
        assert sorted(map(repr, pack.sheet.rates)) == sorted(map(repr, sheet.rates))
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

    def test_a_packed_plan_refuses_a_bad_rule_or_catch_all_rate(self) -> None:
        # db/rates.py looks for them first and takes the streamed path instead, which
        # names the row; compile_index refuses them all the same, with the sheet's name
        # (a rule has no prefix of its own: it is checked as prefix "0").
        good = Rate("1", price=D(1))
        with pytest.raises(InvalidInput) as rule:
            packed(RateSheet("bad", (good, Rate("34", price=D(-1)))))
        assert str(rule.value).startswith("sheet 'bad', rate '0': price: ")
        sheet = RateSheet("bad", (good, Rate(CATCH_ALL, price=D(-1))))
        with pytest.raises(InvalidInput) as plain:
            compile_sheet(sheet)
        with pytest.raises(InvalidInput) as compact:
            packed(sheet)
        assert str(compact.value) == str(plain.value)

    def test_rows_of_one_length_out_of_order_are_sorted_first(self) -> None:
        # db/ reads them by prefix; should it not, from_sorted still takes each prefix
        # with all its rates, in sheet order.
        sheet = RateSheet(
            "u",
            (
                Rate("35", "pt", D(1), time_from=time(8), time_to=time(18)),
                Rate("34", "es", D(2)),
                Rate("35", "pt night", D(3)),
            ),
        )
        table = RuleTable()
        numbers = [str(table.number(rule_of(rate))) for rate in sheet.rates]
        index = CompactIndex.from_sorted(
            [(["35", "34", "35"], numbers)], table.rules, ZoneInfo("UTC")
        )
        plan = compile_index(sheet, index, ())
        expected = compile_sheet(sheet, compact=False)
        for at in (START, START + timedelta(hours=20)):
            for number in ("3512", "3412"):
                assert plan.find_rate(number, at) == expected.find_rate(number, at)

    def test_an_empty_chunk_adds_nothing(self) -> None:
        # db/ never sends one (its loops stop at the first empty read), but a caller of
        # from_sorted may: a sheet whose rows are all catch-all has none to send.
        rules = (rule_of(Rate("34", price=D(1))),)
        chunks: list[tuple[list[str], list[str]]] = [([], []), (["34"], ["0"]), ([], [])]
        index = CompactIndex.from_sorted(chunks, rules, ZoneInfo("UTC"))
        assert [prefix for prefix, _ in index.entries()] == ["34"] and index.rows == 1
        assert index.find("3412", START) == with_prefix(rules[0], "34")
        empty = CompactIndex.from_sorted([([], [])], (), ZoneInfo("UTC"))
        assert list(empty.entries()) == [] and empty.rows == 0

    def test_a_rate_valid_from_a_moment_on_applies_from_then_only(self) -> None:
        # Its only condition is its start: no end, no band (docs/rates.md, validity).
        later = START + timedelta(days=3)
        sheet = RateSheet("v", (Rate("34", "es", D(1), valid_from=later), Rate("44", "uk", D(2))))
        for plan in (packed(sheet), streamed(sheet)):
            with pytest.raises(NoRateForDestination):
                plan.find_rate("3412", START)
            assert plan.find_rate("3412", later).destination == "es"
            assert plan.find_rate("4412", START).destination == "uk"

    def test_runs_of_several_rates_a_prefix_anywhere_in_the_rows(self) -> None:
        # Three rates of one prefix, then a single one, then runs of two, the last on the
        # largest 19-digit key: each prefix keeps every rate of its own, and no other.
        def banded(prefix: str, name: str, price: int, start: int, end: int) -> Rate:
            return Rate(prefix, name, D(price), time_from=time(start), time_to=time(end))

        top = "9" * 19
        sheet = RateSheet(
            "runs",
            (
                banded("34", "es day", 1, 8, 18),
                banded("34", "es night", 2, 18, 8),
                Rate("34", "es holiday", D(3), holidays=XMAS),
                Rate("35", "pt", D(4)),
                banded("36", "is day", 5, 8, 18),
                Rate("36", "is", D(6)),
                Rate("37", "ad", D(7)),
                banded("38", "ua night", 8, 18, 8),
                Rate("38", "ua", D(9)),
                banded(top, "top day", 10, 8, 18),
                Rate(top, "top", D(11)),
            ),
        )
        expected = compile_sheet(sheet, compact=False)
        plans = [packed(sheet, chunk) for chunk in (2, 3, 100)]
        moments = [START + timedelta(hours=h) for h in range(0, 24 * 7, 5)]
        for number in ("3412", "3512", "3612", "3712", "3812", top, "33"):
            for at in moments:
                for plan in plans:
                    assert answers(plan, number, at, 600) == answers(expected, number, at, 600)

    def test_rules_are_stored_once(self) -> None:
        table = RuleTable()
        numbers = [table.number(rule_of(Rate(p, price=D("0.10")))) for p in ("1", "2", "3")]
        assert numbers == [0, 0, 0] and len(table.rules) == 1
        # The days of a calendar are part of a rule, though Holidays compare by name.
        other = Holidays("xmas", frozenset({date(2025, 1, 1)}))
        assert table.number(rule_of(Rate("1", price=D(1), holidays=XMAS))) == 1
        assert table.number(rule_of(Rate("1", price=D(1), holidays=other))) == 2

    def test_other_prefixes_are_those_no_key_array_holds(self) -> None:
        # db/rates.py reads them to find a prefix a big sheet's plan must not take.
        prefixes = ("34", "0044", ON_NET, "1" * 20, "34", "9" * 19, "2" * 21)
        table = RuleTable()
        pairs = [(p, table.number(rule_of(Rate(p, price=D(1))))) for p in prefixes]
        index = CompactIndex.from_rules(pairs, table.rules, ZoneInfo("UTC"))
        assert index.other_prefixes() == (ON_NET, "1" * 20, "2" * 21)

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


# A fixed deck with every case the random decks reach only by luck (mutation testing
# runs the properties with few examples): a banded and an open rate on one prefix (which
# wins in band), a rate from a later day over an older one, a rate that ends, a holiday
# band, a catch-all with a band, a number exactly as long as its prefix, prefixes longer
# than a key, and numbers that are not digits.
FIXED = (
    Rate("34", "es open", D("0.05")),
    Rate(
        "34",
        "es peak",
        D("0.10"),
        weekdays=frozenset(range(5)),
        time_from=time(8),
        time_to=time(18),
    ),
    Rate("34", "es new", D("0.20"), valid_from=START + timedelta(days=3)),
    Rate("346", "mobile", D("0.30"), valid_to=START + timedelta(days=5)),
    Rate("3491", "madrid xmas", D("0.01"), holidays=XMAS),
    Rate("3491", "madrid", D("0.07"), initial_increment=30, increment=6),
    Rate(CATCH_ALL, "rest weekend", D("0.50"), weekdays=frozenset({5, 6})),
    Rate(CATCH_ALL, "rest", D("0.99"), connect_fee=D("0.05")),
    Rate("3" * 21, "long", D("0.40")),
    Rate("3" * 20, "twenty", D("0.45"), time_from=time(22), time_to=time(6)),
    Rate(ON_NET, "onnet", D("0.02")),
    Rate("9" * 19, "the largest key", D("0.60")),  # past a signed 64-bit integer
    Rate("9" * 18, "one less", D("0.61")),
)
FIXED_NUMBERS = (
    "34", "341", "346", "3461234", "3491", "349112", "3" * 19, "3" * 20, "3" * 21,
    "3" * 25, "3" * 20 + "45", "34" + "5" * 20, "999", "0", "9" * 19, "9" * 19 + "1",
    "9" * 18 + "8",
)  # fmt: skip
SIGNS = ("*", "*1", "onnet", "onnet1", "onne", "34x", "")
FIXED_MOMENTS = tuple(
    START + offset
    for offset in (
        timedelta(hours=7, minutes=59, seconds=59, microseconds=500_000),
        timedelta(hours=8),
        timedelta(hours=17, minutes=59, seconds=30),
        timedelta(hours=23),
        timedelta(days=3, hours=9),
        timedelta(days=4, hours=12),  # Friday 28 March: the holiday
        timedelta(days=5, hours=10),
        timedelta(days=6, hours=3),  # Sunday
    )
)


class TestAFixedDeck:
    @pytest.mark.parametrize("zone", ["UTC", "Europe/Madrid"])
    def test_every_number_at_every_moment(self, zone: str) -> None:
        sheet = RateSheet("fixed", FIXED, timezone=zone)
        plain, compact, stream, pack = (
            compile_sheet(sheet, compact=False),
            compile_sheet(sheet, compact=True),
            streamed(sheet),
            packed(sheet),
        )
        for number in FIXED_NUMBERS:
            for at in FIXED_MOMENTS:
                expected = answers(plain, number, at, 3 * 3600)
                assert answers(compact, number, at, 3 * 3600) == expected, (number, at)
                assert answers(stream, number, at, 3 * 3600) == expected, (number, at)
                assert answers(pack, number, at, 3 * 3600) == expected, (number, at)
        assert sorted(map(repr, pack.sheet.rates)) == sorted(map(repr, sheet.rates))
        for sign in SIGNS:  # what the engine looks up for the catch-all and on-net
            for at in FIXED_MOMENTS:
                expected_rate = plain._index.find(sign, at)
                assert compact._index.find(sign, at) == expected_rate, (sign, at)
                for prefix in (sign, sign[:-1]):
                    assert compact._index.find_for_prefix(
                        prefix, at
                    ) == plain._index.find_for_prefix(prefix, at)
        for number in FIXED_NUMBERS:
            for prefix in {number[:n] for n in range(len(number) + 1)} | {CATCH_ALL}:
                assert compact._index.band_edges(number, prefix) == plain._index.band_edges(
                    number, prefix
                ), (number, prefix)

    def test_the_answers_are_the_decks_rules(self) -> None:
        """Not only the same as the other index: the rules themselves (docs/rates.md)."""
        plan = compile_sheet(RateSheet("fixed", FIXED, timezone="UTC"), compact=True)
        monday_9, monday_7 = START + timedelta(hours=9), START + timedelta(hours=7)
        assert plan.find_rate("341", monday_9).destination == "es peak"
        assert plan.find_rate("341", monday_7).destination == "es open"
        assert plan.find_rate("341", START + timedelta(days=3, hours=7)).destination == "es new"
        assert plan.find_rate("3461", monday_9).destination == "mobile"
        assert plan.find_rate("3461", START + timedelta(days=6)).destination == "es new"
        assert (
            plan.find_rate("3491", START + timedelta(days=4, hours=12)).destination == "madrid xmas"
        )
        assert plan.find_rate("3491", monday_9).destination == "madrid"
        assert plan.find_rate("3" * 25, monday_9).destination == "long"
        assert plan.find_rate("3" * 20, START + timedelta(hours=23)).destination == "twenty"
        assert plan.find_rate("3" * 20, monday_9).destination == "rest"  # no 34 in it
        assert plan.find_rate("999", START + timedelta(days=5)).destination == "rest weekend"
        assert plan.find_rate("999", monday_9).destination == "rest"
        found = plan.find_rate("3491", monday_9)
        assert found.prefix == "3491" and plan.find_rate("999", monday_9).prefix == CATCH_ALL

    def test_the_rates_of_a_compact_sheet_by_position(self) -> None:
        plan = compile_sheet(RateSheet("fixed", FIXED, timezone="UTC"), compact=True)
        every = list(plan.sheet.rates)
        assert len(plan.sheet.rates) == len(FIXED) == len(every)
        assert sorted(map(repr, every)) == sorted(map(repr, FIXED))
        assert plan.sheet.rates[0] == every[0] and plan.sheet.rates[-1] == every[-1]
        assert list(plan.sheet.rates[2:5]) == every[2:5]
        found = plan.find_rate("9" * 19 + "1", START)
        assert (found.destination, found.prefix) == ("the largest key", "9" * 19)
