"""Building a RatingPlan from a sheet: every rate and sheet-wide field checked, the
rates indexed, one plan per rule version.

Four ways in, by where the rates come from:

- compile_sheet: a RateSheet of Rate objects (the parser's, the tests', a small sheet
  from the database), indexed by PrefixIndex, or by CompactIndex from COMPACT_ABOVE
  rates on;
- compile_rules: (prefix, rule number) pairs over the sheet's distinct rules, as db/
  streams a big sheet: a CompactIndex, no Rate object per row;
- compile_index: a CompactIndex db/ has built itself (CompactIndex.from_sorted);
- plan_over: a plan whose look-ups a caller's function answers (db/'s interim plan of
  a big sheet, reading the database per number while the real plan is built).

A sheet with rule versions gets one plan per version, sharing the rates and, for the
same time zone, the index (a big sheet takes seconds to index). What a plan answers is
rating/plan.py's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import replace
from datetime import datetime
from typing import cast
from zoneinfo import ZoneInfo

from rating.arguments import check_aware, is_int, zone_of
from rating.checks import rate_problem
from rating.compact_index import CompactIndex, CompactRates, RuleTable, rule_of, with_prefix
from rating.errors import InvalidInput
from rating.model import CATCH_ALL, ON_NET, BlockMode, Rate, RateSheet, SheetRule
from rating.money import MONEY_PLACES, Rounding
from rating.plan import Index, RatingPlan
from rating.prefix_index import PrefixIndex, PrefixLookup

__all__ = [
    "COMPACT_ABOVE",
    "compile_index",
    "compile_rules",
    "compile_sheet",
    "plan_over",
]

# From this many rates on, a sheet is indexed compactly (rating/compact_index.py):
# a tenth of the memory, a new Rate object per look-up. Below it, PrefixIndex answers
# the sheet's own Rate objects.
COMPACT_ABOVE = 50_000

# A time zone, the prefix index of the digit rows and that of the catch-all rows.
_Indexes = tuple[ZoneInfo, Index, PrefixIndex | None]


def compile_sheet(sheet: RateSheet, *, compact: bool | None = None) -> RatingPlan:
    """Check every rate of `sheet` and build its prefix index; raises InvalidInput.

    A sheet with rule versions (`sheet.rules`) gets one plan per version, which share
    the rates and, for the same time zone, the prefix index; the plan returned picks the
    version in force at each call's start (RatingPlan.at). `compact`: index the rates
    with CompactIndex (default: from COMPACT_ABOVE rates on; the plan's look-ups then
    answer equal Rates, not the sheet's own objects)."""
    zone_of(sheet.timezone)  # the sheet's own fields are checked before its rates
    _rule_of(sheet)
    if (len(sheet.rates) >= COMPACT_ABOVE) if compact is None else compact:
        return _compact(sheet, _numbered(sheet), keep_rates=True)
    for rate in sheet.rates:
        _check_rate(sheet, rate)
    digits = [rate for rate in sheet.rates if rate.prefix != CATCH_ALL]
    rest = [rate for rate in sheet.rates if rate.prefix == CATCH_ALL]
    indexes: dict[str, _Indexes] = {}

    def indexed(timezone: str) -> _Indexes:
        # A 1M-row sheet takes seconds to index: build once per zone, not per version.
        if timezone not in indexes:
            zone = zone_of(timezone)
            catch_all = PrefixIndex(rest, zone) if rest else None
            indexes[timezone] = (zone, PrefixIndex(digits, zone), catch_all)
        return indexes[timezone]

    return _versioned(sheet, indexed)


def _numbered(sheet: RateSheet) -> tuple[Iterator[tuple[str, int]], list[Rate]]:
    """The sheet's rates as (prefix, rule number) pairs, and the rules."""
    table = RuleTable()

    def pairs() -> Iterator[tuple[str, int]]:
        for rate in sheet.rates:
            try:
                number = table.number(rule_of(rate))
            except TypeError:  # a field of the wrong type, unhashable: say which
                _check_rate(sheet, rate)
                raise
            yield rate.prefix, number

    return pairs(), table.rules


def compile_rules(
    sheet: RateSheet, pairs: Iterable[tuple[str, int]], rules: Sequence[Rate]
) -> RatingPlan:
    """compile_sheet for a sheet given as (prefix, rule number) pairs in sheet order over
    its distinct rules (Rates whose prefix is ignored; `rules` may grow while `pairs` is
    read), as db/ streams a big sheet: no Rate object per row, a CompactIndex. The plan's
    `sheet.rates` is a CompactRates view that makes each Rate when asked."""
    zone_of(sheet.timezone)
    _rule_of(sheet)
    return _compact(sheet, (pairs, rules), keep_rates=False)


def _compact(
    sheet: RateSheet,
    numbered: tuple[Iterable[tuple[str, int]], Sequence[Rate]],
    *,
    keep_rates: bool,
) -> RatingPlan:
    """The compact plan of (prefix, rule number) pairs; each rule and prefix checked
    once, in sheet order, so the first bad rate is the one compile_sheet names."""
    pairs, rules = numbered
    rest: list[Rate] = []

    def checked() -> Iterator[tuple[str, int]]:
        checked_rules = 0
        for prefix, number in pairs:
            if number == checked_rules:  # rules are numbered as first seen: check each once
                _check_rate(sheet, with_prefix(rules[number], prefix))
                checked_rules += 1
            if prefix.isascii() and prefix.isdigit():
                yield prefix, number
            elif prefix == CATCH_ALL:
                rest.append(with_prefix(rules[number], prefix))
            elif prefix == ON_NET:
                yield prefix, number
            else:
                _check_rate(sheet, with_prefix(rules[number], prefix))  # the prefix's problem

    zone = zone_of(sheet.timezone)
    index = CompactIndex.from_rules(checked(), rules, zone)
    return _compact_plan(sheet, index, tuple(rest), keep_rates=keep_rates)


def compile_index(sheet: RateSheet, index: CompactIndex, catch_all: Sequence[Rate]) -> RatingPlan:
    """compile_rules for a sheet whose CompactIndex db/ has built itself
    (CompactIndex.from_sorted) over rules it read: every rule and catch-all rate is
    checked here (the index's prefixes are digits or on-net by construction)."""
    zone_of(sheet.timezone)
    _rule_of(sheet)
    for rule in index.rules():
        _check_rate(sheet, with_prefix(rule, "0"))  # a rule's checks ignore its prefix
    for rate in catch_all:
        _check_rate(sheet, rate)
    zone = zone_of(sheet.timezone)
    return _compact_plan(sheet, index.in_zone(zone), tuple(catch_all), keep_rates=False)


def plan_over(
    sheet: RateSheet, lookup: Callable[[ZoneInfo], PrefixLookup], catch_all: Sequence[Rate]
) -> RatingPlan:
    """A plan of `sheet` whose look-ups but the catch-all's `lookup(zone)` answers (db/:
    one that reads the database per number, while a big sheet's plan is built). Its
    `sheet.rates` are the catch-all rates only."""
    zone_of(sheet.timezone)
    _rule_of(sheet)
    rest = tuple(catch_all)
    for rate in rest:
        _check_rate(sheet, rate)
    indexes: dict[str, _Indexes] = {}

    def indexed(timezone: str) -> _Indexes:
        if timezone not in indexes:
            zone = zone_of(timezone)
            indexes[timezone] = (zone, lookup(zone), PrefixIndex(rest, zone) if rest else None)
        return indexes[timezone]

    return _versioned(replace(sheet, rates=rest), indexed)


def _compact_plan(
    sheet: RateSheet, index: CompactIndex, catch_all: tuple[Rate, ...], *, keep_rates: bool
) -> RatingPlan:
    full = (
        sheet
        if keep_rates
        else replace(sheet, rates=cast(tuple[Rate, ...], CompactRates(index, catch_all)))
    )
    indexes: dict[str, _Indexes] = {}

    def indexed(timezone: str) -> _Indexes:
        if timezone not in indexes:
            zone = zone_of(timezone)
            indexes[timezone] = (
                zone,
                index.in_zone(zone),
                PrefixIndex(catch_all, zone) if catch_all else None,
            )
        return indexes[timezone]

    return _versioned(full, indexed)


def _check_rate(sheet: RateSheet, rate: Rate) -> None:
    problem = rate_problem(rate)
    if problem:
        column, text = problem
        raise InvalidInput(f"sheet {sheet.name!r}, rate {rate.prefix!r}: {column}: {text}")


def _versioned(sheet: RateSheet, indexed: Callable[[str], _Indexes]) -> RatingPlan:
    rules = _rules(sheet)
    if not rules:
        return _plan(sheet, indexed)
    # The rule before the first version, then each version: plans of their own, which
    # the plan returned hands each call to.
    before = _plan(sheet, indexed)
    versions = tuple((rule.effective_from, _plan(_ruled(sheet, rule), indexed)) for rule in rules)
    return _plan(sheet, indexed, before, versions)


def _plan(
    sheet: RateSheet,
    indexed: Callable[[str], _Indexes],
    before: RatingPlan | None = None,
    versions: tuple[tuple[datetime, RatingPlan], ...] = (),
) -> RatingPlan:
    mode, rounding = _rule_of(sheet)
    zone, index, catch_all = indexed(sheet.timezone)
    if before is None:
        return RatingPlan(sheet, index, zone, mode, rounding, catch_all)
    plans = (before, *(version for _, version in versions))
    starts = tuple(start for start, _ in versions)
    return RatingPlan(sheet, index, zone, mode, rounding, catch_all, versions=plans, starts=starts)


def _rule_of(sheet: RateSheet) -> tuple[BlockMode, Rounding]:
    """The sheet-wide fields checked: block mode and rounding as enums."""
    try:
        mode = BlockMode(sheet.block_mode)
        rounding = Rounding(sheet.rounding)
    except ValueError as error:
        raise InvalidInput(f"sheet {sheet.name!r}: {error}") from None
    if not (is_int(sheet.decimals) and 0 <= sheet.decimals <= MONEY_PLACES):
        raise InvalidInput(f"sheet {sheet.name!r}: decimals must be 0 to {MONEY_PLACES}")
    return mode, rounding


def _rules(sheet: RateSheet) -> tuple[SheetRule, ...]:
    """The sheet's rule versions, checked: aware moments, each later than the last."""
    previous: datetime | None = None
    for rule in sheet.rules:
        check_aware(rule.effective_from, "a rule version's effective_from")
        if previous is not None and rule.effective_from <= previous:
            raise InvalidInput(f"sheet {sheet.name!r}: rule versions must be in time order")
        previous = rule.effective_from
    return sheet.rules


def _ruled(sheet: RateSheet, rule: SheetRule) -> RateSheet:
    """The sheet as its `rule` version rates."""
    return replace(
        sheet,
        decimals=rule.decimals,
        rounding=rule.rounding,
        block_mode=rule.block_mode,
        timezone=rule.timezone,
    )
