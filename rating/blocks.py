"""Billed seconds: a call's rated seconds cut into pieces, each rounded up to its block.

The call's seconds [0, seconds) are first cut where the time band changes (segments, each
with the rate in force, made by the engine) and, inside a tiered rate, where the tier
changes (the tier in force is found from the seconds elapsed since the call's start).
Each piece is rounded up to its own increment. A flat-priced piece that opens the call
also gets the initial increment, per the sheet's block mode; tiers always bill like
first_block (their first tier's increment is the initial block).

The pieces may start at an offset (the part of a call after a bundle's free seconds):
the segments and tiers are still those of the whole call, found from its start; the
piece the offset cuts is billed from the offset in its increments (the initial block
belongs to second 0 alone), never more than that piece bills from its own start less
the seconds before the offset (rest_of).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from decimal import Decimal

from rating.model import BlockMode, Rate

__all__ = [
    "Piece",
    "Segment",
    "amount",
    "billed_seconds",
    "ceil_to",
    "opening_seconds",
    "pieces",
    "rest_of",
]

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


def pieces(
    segments: Sequence[Segment], seconds: int, mode: BlockMode, offset: int
) -> Iterator[Piece]:
    """The billed pieces of the seconds [offset, seconds) of a call, in order."""
    last = len(segments) - 1
    for i, (begin, rate) in enumerate(segments):
        if begin >= seconds:
            return
        end = seconds if i == last else min(segments[i + 1][0], seconds)
        if end <= offset:
            continue
        if rate.tiers:
            yield from _tier_pieces(rate, begin, end, offset)
        else:
            yield _flat_piece(rate, begin, end, mode, offset)


def amount(segments: Sequence[Segment], seconds: int, mode: BlockMode, offset: int) -> Decimal:
    """Sum of price per minute x billed seconds over the pieces (divide by 60 for money):
    one division at the end keeps the sum exact."""
    total = Decimal(0)
    for piece in pieces(segments, seconds, mode, offset):
        total += piece[3] * piece[2]
    return total


def billed_seconds(segments: Sequence[Segment], seconds: int, mode: BlockMode, offset: int) -> int:
    """The billed seconds of the seconds [offset, seconds) of a call."""
    return sum(piece[2] for piece in pieces(segments, seconds, mode, offset))


def rest_of(billed: int, begin: int, end: int, offset: int, increment: int) -> int:
    """The billed seconds of [offset, end) of a piece [begin, end) billed `billed` from
    `begin`: its increments counted from the offset, but never more than the piece
    bills less the seconds before the offset, so that a second covered per second and
    the paid rest never bill more than the piece does alone."""
    return min(ceil_to(end - offset, increment), billed - (offset - begin))


def _flat_piece(rate: Rate, begin: int, end: int, mode: BlockMode, offset: int) -> Piece:
    price = rate.price
    assert price is not None  # rate_problem refuses a rate with neither price nor tiers
    length = end - begin
    if begin == 0:
        billed = opening_seconds(length, rate.initial_increment, rate.increment, mode)
    else:
        billed = ceil_to(length, rate.increment)
    if begin < offset:
        billed = rest_of(billed, begin, end, offset, rate.increment)
        begin, length = offset, end - offset
    return begin, length, billed, price, rate


def _tier_pieces(rate: Rate, begin: int, end: int, offset: int) -> Iterator[Piece]:
    tiers = rate.tiers
    for j, tier in enumerate(tiers):
        stop = tiers[j + 1].from_second if j + 1 < len(tiers) else end
        low = max(begin, tier.from_second)
        high = min(end, stop)
        if low < high and high > offset:
            billed = ceil_to(high - low, tier.increment)
            if low < offset:
                billed = rest_of(billed, low, high, offset, tier.increment)
                low = offset
            yield low, high - low, billed, tier.price, rate
