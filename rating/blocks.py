"""Billed seconds: a call's rated seconds cut into pieces, each rounded up to its block.

The call's seconds [0, seconds) are first cut where the time band changes (segments, each
with the rate in force, made by the engine) and, inside a tiered rate, where the tier
changes (the tier in force is found from the seconds elapsed since the call's start).
Each piece is rounded up to its own increment. A flat-priced piece that opens the call
also gets the initial increment, per the sheet's block mode; tiers always bill like
first_block (their first tier's increment is the initial block).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from decimal import Decimal

from rating.model import BlockMode, Rate

__all__ = ["Piece", "Segment", "amount", "ceil_to", "opening_seconds", "pieces"]

Segment = tuple[int, Rate]  # (first second, rate in force from then on)
# (first second, real seconds, billed seconds, price per minute, rate)
Piece = tuple[int, int, int, Decimal, Rate]


def ceil_to(seconds: int, increment: int) -> int:
    """`seconds` rounded up to a whole number of `increment`s."""
    return -(-seconds // increment) * increment


def opening_seconds(seconds: int, initial: int, increment: int, mode: BlockMode) -> int:
    """Billed seconds of a flat-priced stretch that opens the call. A call no longer than
    the initial block is billed the initial block in both modes."""
    if seconds <= initial:
        return initial
    if mode is BlockMode.WHOLE_CALL:
        return ceil_to(seconds, increment)
    return initial + ceil_to(seconds - initial, increment)


def pieces(segments: Sequence[Segment], seconds: int, mode: BlockMode) -> Iterator[Piece]:
    """The billed pieces of the first `seconds` seconds of a call, in order."""
    last = len(segments) - 1
    for i, (begin, rate) in enumerate(segments):
        if begin >= seconds:
            return
        end = seconds if i == last else min(segments[i + 1][0], seconds)
        if rate.tiers:
            yield from _tier_pieces(rate, begin, end)
        else:
            yield _flat_piece(rate, begin, end, mode)


def amount(segments: Sequence[Segment], seconds: int, mode: BlockMode) -> Decimal:
    """Sum of price per minute x billed seconds over the pieces (divide by 60 for money):
    one division at the end keeps the sum exact."""
    total = Decimal(0)
    for piece in pieces(segments, seconds, mode):
        total += piece[3] * piece[2]
    return total


def _flat_piece(rate: Rate, begin: int, end: int, mode: BlockMode) -> Piece:
    price = rate.price
    assert price is not None  # rate_problem refuses a rate with neither price nor tiers
    length = end - begin
    if begin == 0:
        billed = opening_seconds(length, rate.initial_increment, rate.increment, mode)
    else:
        billed = ceil_to(length, rate.increment)
    return begin, length, billed, price, rate


def _tier_pieces(rate: Rate, begin: int, end: int) -> Iterator[Piece]:
    tiers = rate.tiers
    for j, tier in enumerate(tiers):
        stop = tiers[j + 1].from_second if j + 1 < len(tiers) else end
        low = max(begin, tier.from_second)
        high = min(end, stop)
        if low < high:
            yield low, high - low, ceil_to(high - low, tier.increment), tier.price, rate
