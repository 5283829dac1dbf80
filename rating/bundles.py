"""Bundles (free units): which part of a call the bundles cover, and what the rest costs.

Pure: the caller loads each bundle's state for the current period (an Allowance, in the
account's declared order) and passes it in; nothing here reads a database or a clock.
The rules are docs/rates.md's "Bundles: the split":

- A call first loses what the sheet gives for nothing: an unanswered call, one of at
  most free_below seconds, and the rate's included_seconds are never taken from a
  bundle. What remains (the rated seconds) is covered from its start by the bundles that
  apply, one after the other in the declared order, then paid.
- A "seconds" bundle consumed per second pays one unit per real second. One consumed at
  the rate's increments pays the billed seconds of the stretch it covers (the initial
  block at the call's start, then the increments of the tier and band in force), and
  covers whole blocks only: the block it cannot pay in full goes to the next bundle or
  to money, and the units left stay for the next call.
- A "calls" bundle pays one unit for the rest of the call, however long.
- The paid part is rated by the sheet from where the free part ended (RatingPlan
  .rate_from): tier and band in force there, increments counted on from there, never
  more than the cut block bills less what was covered. The connect fee and min_cost
  belong to a call that starts paid; max_cost caps the paid part. So a bundle never
  makes a call cost more.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from rating.errors import InvalidInput
from rating.model import CATCH_ALL, CallCost, CallToRate
from rating.plan import RatingPlan, last_affordable

__all__ = [
    "CALLS",
    "SECONDS",
    "Allowance",
    "BundleSplit",
    "Consumption",
    "applicable",
    "max_seconds_with_bundles",
    "split_call",
]

SECONDS = "seconds"
CALLS = "calls"


@dataclass(frozen=True)
class Allowance:
    """What one bundle still has for this call, in the order consumed."""

    bundle_id: int
    unit: str  # "seconds" | "calls"
    remaining: int  # seconds, or calls, left in the current period (>= 0)
    per_second: bool  # True: consumed per second; False: at the rate's increments
    prefixes: tuple[str, ...] | None  # None: every destination
    inbound: bool = False  # the bundle also covers DID inbound calls

    def __post_init__(self) -> None:
        if self.unit not in (SECONDS, CALLS):
            raise InvalidInput(f"bundle {self.bundle_id}: unit must be seconds or calls")
        if type(self.remaining) is not int or self.remaining < 0:
            raise InvalidInput(f"bundle {self.bundle_id}: remaining must be a whole number >= 0")
        if self.prefixes is not None and not (
            isinstance(self.prefixes, tuple) and all(_is_prefix(prefix) for prefix in self.prefixes)
        ):
            raise InvalidInput(f"bundle {self.bundle_id}: prefixes must be digits or '*'")

    def covers(self, number: str) -> bool:
        """Whether the bundle's destination group holds `number`: one of its prefixes
        starts it (the sheet's prefix match; "*" and None match every number)."""
        if self.prefixes is None:
            return True
        return any(prefix == CATCH_ALL or number.startswith(prefix) for prefix in self.prefixes)


@dataclass(frozen=True)
class Consumption:
    bundle_id: int
    amount: int  # seconds (or 1 call) taken from that bundle


@dataclass(frozen=True)
class BundleSplit:
    free_seconds: int  # seconds of the call the bundles cover, from its start
    paid_seconds: int  # the rest of billsec (the sheet's own free seconds among them)
    consumed: tuple[Consumption, ...]
    paid: CallCost  # the paid part rated by the sheet from offset free_seconds


def applicable(
    allowances: Sequence[Allowance], number: str, inbound: bool = False
) -> list[Allowance]:
    """The allowances that can pay part of a call to `number`, in their order: units
    left, the destination in the group, and for an inbound call a bundle that says so."""
    return [
        allowance
        for allowance in allowances
        if allowance.remaining > 0
        and (allowance.inbound or not inbound)
        and allowance.covers(number)
    ]


def split_call(
    plan: RatingPlan,
    call: CallToRate,
    allowances: Sequence[Allowance],
    inbound: bool = False,
) -> BundleSplit:
    """The part of `call` the bundles cover, what each pays, and the cost of the rest.
    Raises NoRateForDestination, InvalidInput as rate_call does."""
    if type(call.billsec) is not int or call.billsec < 0:
        raise InvalidInput(f"billsec must be a whole number of seconds >= 0, not {call.billsec!r}")
    usable = applicable(allowances, call.number, inbound)
    free, consumed = _coverage(plan, call, usable)
    return BundleSplit(free, call.billsec - free, consumed, plan.rate_from(call, free))


def max_seconds_with_bundles(
    plan: RatingPlan,
    number: str,
    start: datetime,
    money: Decimal,
    cap: int,
    allowances: Sequence[Allowance],
    inbound: bool = False,
) -> tuple[int, int]:
    """The longest call (billsec, at most `cap`) the bundles and `money` pay for
    together, and the seconds of it the bundles cover. To reserve per bundle, split the
    granted call: split_call(plan, CallToRate(number, start, granted), allowances).

    The bundles cover a longer call from the same start as far as they reach (their
    cover of the longest call that can be rated); money pays from there, as
    RatingPlan.max_duration does from 0. Raises as max_duration does."""
    usable = applicable(allowances, number, inbound)
    if not usable:
        return plan.max_duration(number, start, money, cap), 0
    limit = plan.reach(number, start, cap)
    free, _ = _coverage(plan, CallToRate(number, start, limit), usable)
    granted = plan.max_duration_from(number, start, money, limit, free)
    # A shorter call: the bundles cover it as far as they reach.
    covered, _ = _coverage(plan, CallToRate(number, start, granted), usable)
    return granted, covered


def _coverage(
    plan: RatingPlan, call: CallToRate, usable: list[Allowance]
) -> tuple[int, tuple[Consumption, ...]]:
    """How many rated seconds of `call`, from its start, the `usable` bundles cover in
    their order, and what each pays for them."""
    if not usable:
        return 0, ()
    rate = plan.find_rate(call.number, call.start)
    if not call.answered or call.billsec <= rate.free_below:
        return 0, ()
    seconds = max(call.billsec - rate.included_seconds, 0)  # the rated seconds
    position = 0
    consumed: list[Consumption] = []
    for allowance in usable:
        if position == seconds:
            break
        end, units = _cover(plan, call, allowance, position, seconds)
        if units:
            consumed.append(Consumption(allowance.bundle_id, units))
            position = end
    return position, tuple(consumed)


def _is_prefix(prefix: object) -> bool:
    return prefix == CATCH_ALL or (
        isinstance(prefix, str) and prefix.isascii() and prefix.isdigit()
    )


def _cover(
    plan: RatingPlan, call: CallToRate, allowance: Allowance, position: int, seconds: int
) -> tuple[int, int]:
    """How far, from `position`, `allowance` covers the call's `seconds` rated seconds,
    and the units it pays for that (0: it covers nothing)."""
    if allowance.unit == CALLS:
        return seconds, 1
    remaining = allowance.remaining
    if allowance.per_second:
        end = min(seconds, position + remaining)
        return end, end - position
    billed = plan.billed_from(call, position)
    # The longest stretch whose billed seconds fit (the whole rest of the call, first
    # tried): billed seconds are at least the real ones, so it ends by position +
    # remaining, and billed(end) does not decrease.
    end = last_affordable(billed, remaining, min(seconds, position + remaining), position)
    return end, billed(end)
