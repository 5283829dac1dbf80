"""The rating engine's plan: what a call costs, and how long a call a sum of money buys.

A RatingPlan is built once per sheet (version) by rating/compile.py; the plan is
immutable and shared between threads. The rules are docs/design.md's "Rating"; where it
leaves a choice:

- The rate, its connect fee, included_seconds, free_below, min_cost and max_cost are
  those of the rate found at the call's start (the band where the call starts).
- included_seconds come off before rating: the call is rated as if it were that much
  shorter, from its real start (so band edges stay at their real times).
- A call is billed when it was answered, lasted more than free_below seconds (billsec,
  as the switch reports it) and has seconds left after included_seconds. Any other call
  costs 0, carries no connect fee and no min_cost, and has no parts.
- A call is split at a band edge when the rate in force changes there: the rate of the
  call's own prefix (the one found at its start) valid then and in band then; if that
  prefix has none, the longest-prefix rate valid then (and back to the call's prefix at
  a later edge where it has one again); if there is none at all, rate_call raises
  NoRateForDestination and max_duration stops at that edge. So an all-week rate gives
  way to a weekend rate of the same prefix at Saturday 00:00, too.
- The start or end of a rate's validity during a call does not split it: the rate in
  force at the start of each part prices the whole part.
- A catch-all row (prefix "*") is the plan's fallback: it applies when no digit prefix
  of the number has a rate in force. A call that starts on it follows the catch-all
  rows' own bands; a call on a banded digit prefix falls back to it at an edge where no
  digit prefix has a rate. It lives outside the prefix index, in an index of its own.
- A sheet's rule versions (decimals, rounding, block mode, time zone from a moment on)
  apply by the call's start: a call that starts before a version's moment is rated,
  whole, by the rule before it, even if it ends after it.
- The rate is looked up even for a call that costs nothing, because the CDR records
  the destination: an unanswered call to an unknown destination is not rated either.
"""

from __future__ import annotations

import decimal
from bisect import bisect_right
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from decimal import ROUND_DOWN, ROUND_HALF_UP, ROUND_UP, Decimal
from typing import TypeVar
from zoneinfo import ZoneInfo

from rating.arguments import check_aware, check_seconds, refuse_lookup
from rating.bands import band_label, edge_instants
from rating.blocks import Segment, amount, billed_seconds, pieces
from rating.compact_index import CompactIndex
from rating.errors import InvalidInput, NoRateForDestination
from rating.model import CATCH_ALL, BlockMode, CallCost, CallToRate, CostPart, Rate, RateSheet
from rating.money import MONEY, ZERO, Rounding, quantize
from rating.prefix_index import PrefixIndex, PrefixLookup

__all__ = ["Index", "RatingPlan", "last_affordable"]

# Prices times seconds are exact; only the one division by 60 is not, and 50 digits
# leave more than 30 decimals below any amount the database can hold.
PRECISION = 50
SECONDS_PER_MINUTE = 60
MAX_LIMIT = 10**8  # a call of three years: far beyond any limit, far below any overflow
ZERO_MONEY = quantize(ZERO)
Number = TypeVar("Number", int, Decimal)
# The modes of rating.money.quantize, applied here inside the engine's own context: one
# context switch per call instead of one per rounding. A unit test checks they agree.
_DECIMAL_ROUNDING = {
    Rounding.HALF_UP: ROUND_HALF_UP,
    Rounding.UP: ROUND_UP,
    Rounding.DOWN: ROUND_DOWN,
}

# What a plan finds the digit rows' rates in: a small sheet's index of its own Rates, a
# big sheet's compact one, or a caller's look-up (compile.plan_over).
Index = PrefixIndex | CompactIndex | PrefixLookup


class RatingPlan:
    """A compiled rate sheet: find the rate of a number, price a call, bound a call.
    Made by rating/compile.py; immutable, so one plan serves any number of threads."""

    __slots__ = (
        "_catch_all",
        "_exponent",
        "_find",
        "_index",
        "_mode",
        "_rounding_mode",
        "_sheet",
        "_starts",
        "_versions",
        "_zero",
        "_zone",
    )

    def __init__(
        self,
        sheet: RateSheet,
        index: Index,
        zone: ZoneInfo,
        mode: BlockMode,
        rounding: Rounding,
        catch_all: PrefixIndex | None = None,
        *,
        versions: tuple[RatingPlan, ...] = (),
        starts: tuple[datetime, ...] = (),
    ) -> None:
        self._sheet = sheet
        # For a sheet with rule versions (given by compile_sheet): the plan of the rule
        # before the first version, then one per version (none has versions of its
        # own), and the versions' effective moments. Empty otherwise.
        self._versions = versions
        self._starts = starts
        self._catch_all = catch_all  # the "*" rows, or None
        self._index = index
        self._find = index.find  # bound once: saves an attribute lookup per call
        self._zone = zone
        self._mode = mode
        self._exponent = Decimal(1).scaleb(-sheet.decimals)
        self._rounding_mode = _DECIMAL_ROUNDING[rounding]
        self._zero = quantize(ZERO, sheet.decimals, rounding)

    @property
    def sheet(self) -> RateSheet:
        """The sheet this plan was compiled from."""
        return self._sheet

    def __repr__(self) -> str:
        return (
            f"<RatingPlan {self.sheet.name!r} v{self.sheet.version}: {len(self._index)} prefixes>"
        )

    def at(self, moment: datetime) -> RatingPlan:
        """The plan of the sheet's rule version in force at `moment` (aware): a call
        is rated by the version in force at its start. Itself for a sheet without
        rule versions."""
        if not self._versions:
            return self
        check_aware(moment, "moment")
        return self._versions[bisect_right(self._starts, moment)]

    def find_rate(self, number: str, at: datetime) -> Rate:
        """The rate of the longest prefix of `number` (digits only) that is valid at `at`
        (aware) and whose time band covers it; raises NoRateForDestination."""
        # One inline test for the common case: this runs for every CDR and authorize.
        if not (
            type(number) is str
            and number.isascii()
            and number.isdigit()
            and isinstance(at, datetime)
            and at.tzinfo is not None
        ):
            refuse_lookup(number, at)
        if self._versions:  # the version's time zone reads the bands
            return self.at(at).find_rate(number, at)
        rate = self._find(number, at)
        if rate is None and self._catch_all is not None:
            rate = self._catch_all.find_for_prefix(CATCH_ALL, at)
        if rate is None:
            raise NoRateForDestination(f"no rate for {number} at {at.isoformat()}")
        return rate

    def rate_call(self, call: CallToRate) -> CallCost:
        """What `call` costs; raises NoRateForDestination, InvalidInput."""
        return self._rate(call, 0)

    def rate_from(self, call: CallToRate, offset: int) -> CallCost:
        """What the seconds of `call` from `offset` on cost (the paid part after a
        bundle's free seconds, rating/bundles.py): the call's rate and segments found
        from its start, so the tier by elapsed seconds and the band in force at
        start + offset; increments continue from the offset, with no initial block,
        and the piece the offset cuts bills no more than it does whole less the seconds
        before the offset (rating.blocks.rest_of). The connect fee and min_cost belong
        to a call that starts paid (offset 0); max_cost caps any part. Offsets count
        rated seconds (after included_seconds), as CostPart.start_second does.
        rate_from(call, 0) == rate_call(call)."""
        if type(offset) is not int or offset < 0:
            check_seconds(offset, "offset")
        return self._rate(call, offset)

    def _rate(self, call: CallToRate, offset: int) -> CallCost:
        if self._versions:  # the sheet's rules in force at the call's start
            return self.at(call.start)._rate(call, offset)
        billsec = call.billsec
        if type(billsec) is not int or billsec < 0:
            check_seconds(billsec, "billsec")
        rate = self.find_rate(call.number, call.start)
        seconds = billsec - rate.included_seconds
        if not call.answered or billsec <= rate.free_below or seconds <= offset:
            return CallCost(self._zero, ZERO_MONEY, rate.prefix, rate.destination, 0, rate)
        segments, _ = self._segments(rate, call.number, call.start, seconds, strict=True)
        # One private context for the whole call: exact sums, then the two roundings.
        with decimal.localcontext() as context:
            context.prec = PRECISION
            parts, total = self._parts(segments, seconds, offset)
            raw = _raw_cost(rate, total, offset)
            cost = raw.quantize(self._exponent, rounding=self._rounding_mode)
            exact = raw.quantize(MONEY, rounding=ROUND_HALF_UP)
        billed = sum(part.billed_seconds for part in parts)
        return CallCost(cost, exact, rate.prefix, rate.destination, billed, rate, parts)

    def billed_from(self, call: CallToRate, offset: int) -> Callable[[int], int]:
        """end -> the billed seconds of the rated seconds [offset, end) of `call`, as
        rate_from bills them, for offset <= end <= the call's rated seconds (billsec -
        included_seconds): what a bundle consumed at the rate's increments pays for.
        Raises NoRateForDestination as rate_call does."""
        if self._versions:
            return self.at(call.start).billed_from(call, offset)
        rate = self.find_rate(call.number, call.start)
        seconds = max(call.billsec - rate.included_seconds, 0)
        segments, _ = self._segments(rate, call.number, call.start, seconds, strict=True)
        mode = self._mode

        def billed(end: int) -> int:
            return billed_seconds(segments, end, mode, offset)

        return billed

    def reach(self, number: str, start: datetime, limit: int) -> int:
        """The longest billsec, at most `limit`, that can be rated: less when a band
        later in the call has no rate (max_duration stops at that edge, too)."""
        check_seconds(limit, "limit")
        if self._versions:
            return self.at(start).reach(number, start, limit)
        rate = self.find_rate(number, start)
        # A call within its included seconds reaches `limit`: its horizon is <= 0.
        horizon = limit - rate.included_seconds
        _, reach = self._segments(rate, number, start, horizon, strict=False)
        return rate.included_seconds + reach

    def max_duration(
        self, number: str, start: datetime, available: Decimal, limit: int = 86400
    ) -> int:
        """The longest billsec, at most `limit`, whose cost (as rate_call bills it) is at
        most `available`; 0 if none. Raises NoRateForDestination, InvalidInput.

        Free seconds (included_seconds, free_below) cost nothing, so they fit in any
        available amount >= 0. If a band later in the call has no rate, the answer stops
        at that band's edge, since a longer call could not be rated."""
        return self.max_duration_from(number, start, available, limit, 0)

    def max_duration_from(
        self, number: str, start: datetime, available: Decimal, limit: int, offset: int
    ) -> int:
        """max_duration for a call whose first `offset` rated seconds are paid by
        something else (bundles): the longest billsec, at most `limit`, whose cost from
        `offset` (as rate_from bills it) is at most `available`."""
        if self._versions:
            return self.at(start).max_duration_from(number, start, available, limit, offset)
        if not (isinstance(available, Decimal) and available.is_finite()):
            raise InvalidInput(f"available must be a finite Decimal, not {available!r}")
        check_seconds(limit, "limit")
        check_seconds(offset, "offset")
        if limit > MAX_LIMIT:
            raise InvalidInput(f"limit {limit} is over {MAX_LIMIT} seconds")
        rate = self.find_rate(number, start)
        horizon = limit - rate.included_seconds
        if horizon <= 0:
            return limit if available >= 0 else 0
        segments, reach = self._segments(rate, number, start, horizon, strict=False)
        with decimal.localcontext() as context:
            context.prec = PRECISION
            cost = self._cost_function(rate, segments, offset)
            return last_affordable(cost, available, rate.included_seconds + reach, 0)

    def _cost_function(
        self, rate: Rate, segments: list[Segment], offset: int
    ) -> Callable[[int], Decimal]:
        """billsec -> billed cost from `offset` of an answered call, for a call starting
        where `segments` were made; to be called in a context of PRECISION digits."""
        mode, exponent, rounding = self._mode, self._exponent, self._rounding_mode

        def cost(billsec: int) -> Decimal:
            seconds = billsec - rate.included_seconds
            if billsec <= rate.free_below or seconds <= offset:
                return ZERO
            total = amount(segments, seconds, mode, offset)
            return _raw_cost(rate, total, offset).quantize(exponent, rounding=rounding)

        return cost

    def _segments(
        self, rate: Rate, number: str, start: datetime, horizon: int, *, strict: bool
    ) -> tuple[list[Segment], int]:
        """The rates in force over the first `horizon` seconds from `start`, cut where a
        band edge changes the rate, and how far they reach: `horizon`, or less when no
        rate is found after an edge (strict: raise NoRateForDestination instead)."""
        segments: list[Segment] = [(0, rate)]
        edges = self._band_edges(number, rate.prefix)
        if not edges:
            return segments, horizon  # the rate of the start holds for the whole call
        start = start.astimezone(UTC)
        until = start + timedelta(seconds=horizon)
        for edge in edge_instants(edges, start, until, self._zone):
            # A second belongs to the band it starts in: a part begins at the first
            # whole second at or after the edge (calls may start at a fraction of one).
            position = _ceil_seconds(edge - start)
            if position >= horizon:
                break
            following = self._rate_in_force(rate.prefix, number, start, position)
            if following is None:
                if strict:
                    raise NoRateForDestination(f"no rate for {number} {position} s into the call")
                return segments, position
            last = segments[-1][1]
            # By value: a compact index makes a new (equal) Rate at every look-up.
            if following is not last and following != last:
                # Edges are whole seconds apart, so a new part always starts later
                # than the last one: no part of 0 seconds.
                segments.append((position, following))
        return segments, horizon

    def _band_edges(self, number: str, prefix: str) -> tuple[time, ...]:
        """The edges of the index that holds `prefix`; with a catch-all, a banded call
        may fall back to it (or, started on it, stay on its bands), so its edges too."""
        catch_all = self._catch_all
        if prefix == CATCH_ALL:
            return catch_all.band_edges(CATCH_ALL, CATCH_ALL) if catch_all else ()
        edges = self._index.band_edges(number, prefix)
        if not edges or catch_all is None:
            return edges
        return tuple(sorted({*edges, *catch_all.band_edges(CATCH_ALL, CATCH_ALL)}))

    def _rate_in_force(
        self, prefix: str, number: str, start: datetime, position: int
    ) -> Rate | None:
        """At a band edge the call goes on at the rate of the same prefix valid then;
        if that prefix has none, at the longest-prefix rate valid then, then at the
        catch-all; else at none."""
        at = start + timedelta(seconds=position)
        catch_all = self._catch_all
        if prefix == CATCH_ALL:
            assert catch_all is not None  # a call starts on "*" only when there is one
            same = catch_all.find_for_prefix(CATCH_ALL, at)
            return same or self._index.find(number, at)
        found = self._index.find_for_prefix(prefix, at) or self._index.find(number, at)
        if found is None and catch_all is not None:
            found = catch_all.find_for_prefix(CATCH_ALL, at)
        return found

    def _parts(
        self, segments: list[Segment], seconds: int, offset: int
    ) -> tuple[tuple[CostPart, ...], Decimal]:
        """The parts of the rated seconds [offset, seconds) of a call, and the sum of
        price per minute x billed seconds; to be called in a context of PRECISION digits."""
        parts = []
        total = ZERO
        for begin, length, billed, price, rate in pieces(segments, seconds, self._mode, offset):
            amount = price * billed
            total += amount
            exact = (amount / SECONDS_PER_MINUTE).quantize(MONEY, rounding=ROUND_HALF_UP)
            parts.append(CostPart(begin, length, billed, price, exact, band_label(rate)))
        return tuple(parts), total


def last_affordable(
    cost: Callable[[int], Number], available: Number, highest: int, lowest: int
) -> int:
    """The largest d in [lowest, highest] with cost(d) <= available, for a non-decreasing
    cost; `lowest` if there is none. A binary search: about 17 costs for a day."""
    if cost(highest) <= available:
        return highest
    if cost(lowest) > available:
        return lowest
    low, high = lowest, highest  # cost(low) <= available < cost(high)
    while high - low > 1:
        middle = (low + high) // 2
        if cost(middle) <= available:
            low = middle
        else:
            high = middle
    return low


def _raw_cost(rate: Rate, total: Decimal, offset: int) -> Decimal:
    """The unrounded cost of a call's pieces summing `total` (price x seconds) from
    `offset`: a call that starts paid has its connect fee and min_cost, any part its
    max_cost."""
    if offset:
        raw = total / SECONDS_PER_MINUTE
        return raw if rate.max_cost is None else min(raw, rate.max_cost)
    return _bounded(rate, rate.connect_fee + total / SECONDS_PER_MINUTE)


def _bounded(rate: Rate, raw: Decimal) -> Decimal:
    """min_cost and max_cost, the floor and ceiling of a billed call's cost."""
    raw = max(raw, rate.min_cost)
    return raw if rate.max_cost is None else min(raw, rate.max_cost)


def _ceil_seconds(delta: timedelta) -> int:
    micro = (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds
    return -(-micro // 1_000_000)
