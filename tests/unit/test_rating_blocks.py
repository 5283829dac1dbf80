"""The billed pieces of a call's seconds, straight from rating/blocks.py (docs/rates.md):
a call's seconds [offset, seconds) cut at its segments' starts, each piece billed from
the offset, and nothing billed outside that range. A bundle's free seconds are such an
offset, and may reach past a band edge."""

from __future__ import annotations

from decimal import Decimal

from rating import Rate
from rating.blocks import Segment, amount, billed_seconds, pieces
from rating.model import BlockMode

D = Decimal
PEAK = Rate("34", "peak", D("0.60"), initial_increment=30, increment=6)
OFF = Rate("34", "off-peak", D("0.06"), initial_increment=30, increment=6)
NIGHT = Rate("34", "night", D("0.03"), increment=60)
MODE = BlockMode.FIRST_BLOCK


def spans(segments: list[Segment], seconds: int, offset: int = 0) -> list[tuple[int, int, int]]:
    """(first second, real seconds, billed seconds) of each piece."""
    return [(p[0], p[1], p[2]) for p in pieces(segments, seconds, MODE, offset)]


class TestAnOffsetPastASegment:
    def test_the_segments_after_the_offset_are_billed(self) -> None:
        # Free seconds up to 40 cover the whole first band (0-30) and part of the
        # second: the rest of the call is billed from 40, in the second band's
        # increments, then the third band from its start.
        segments: list[Segment] = [(0, PEAK), (30, OFF), (60, NIGHT)]
        assert spans(segments, 130, offset=40) == [(40, 20, 20), (60, 70, 120)]
        # 20 s at 0.06 + 120 s at 0.03 a minute (the sum of price x billed seconds)
        assert amount(segments, 130, MODE, 40) == D("0.06") * 20 + D("0.03") * 120
        assert billed_seconds(segments, 130, MODE, 40) == 140

    def test_a_segment_ending_at_the_offset_adds_no_piece(self) -> None:
        segments: list[Segment] = [(0, PEAK), (30, OFF)]
        assert spans(segments, 90, offset=30) == [(30, 60, 60)]

    def test_an_offset_at_a_later_edge_skips_every_segment_before_it(self) -> None:
        segments: list[Segment] = [(0, PEAK), (30, OFF), (60, NIGHT)]
        assert spans(segments, 100, offset=60) == [(60, 40, 60)]


class TestNothingOutsideTheCall:
    def test_a_segment_starting_at_the_calls_end_adds_no_piece(self) -> None:
        segments: list[Segment] = [(0, PEAK), (45, OFF)]
        assert spans(segments, 45) == [(0, 45, 48)]  # 30 s initial block, then 3 x 6

    def test_a_call_of_no_seconds_has_no_piece_and_costs_nothing(self) -> None:
        # Not even the initial block: the engine bills an unanswered call nothing.
        assert spans([(0, PEAK)], 0) == []
        assert amount([(0, PEAK)], 0, MODE, 0) == 0
