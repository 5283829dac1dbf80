"""Calls priced per second by RatingPlan.rate_call, and max_duration answers per second,
on a sheet of 10,000 prefixes mixing flat prices, tiers and peak/off-peak/weekend bands
(Europe/Madrid), with a share of calls that cross a band edge and are split. Then the
same calls and quotes with bundles in play (rating/bundles.py): split_call and
max_seconds_with_bundles, each call with two bundles (one per second, one at the
rate's increments) in states from empty to plenty, so that some calls use them up."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from datetime import time as clock
from decimal import Decimal
from typing import Any, TypeVar

from rating import BlockMode, CallToRate, Rate, RateSheet, RatingPlan, Tier, compile_sheet
from rating.bundles import SECONDS, Allowance, max_seconds_with_bundles, split_call

PREFIXES = 10_000
CALLS = 200_000
QUOTES = 20_000
SEED = 20_250_702
WEEK_START = datetime(2025, 3, 24, tzinfo=UTC)  # a week with a change to summer time
INCREMENTS = ((1, 1), (30, 6), (60, 60), (45, 60), (60, 1))
TIERS = (
    Tier(0, Decimal("0.10"), 60),
    Tier(60, Decimal("0.05"), 6),
    Tier(600, Decimal("0.03"), 1),
)
WEEKDAYS = frozenset(range(5))
BANDS: tuple[dict[str, Any], ...] = (
    {"weekdays": WEEKDAYS, "time_from": clock(8), "time_to": clock(18)},
    {"weekdays": WEEKDAYS, "time_from": clock(18), "time_to": clock(8)},
    {"weekdays": frozenset({5, 6})},
)
T = TypeVar("T")
# Seconds left in a bundle: empty, less than most calls, about one call, plenty.
REMAINING = (0, 45, 300, 1000, 100_000)


def price(rng: random.Random) -> Decimal:
    return Decimal(rng.randrange(5, 5000)).scaleb(-4)


def rates_for(rng: random.Random, prefix: str) -> list[Rate]:
    """60% flat, 15% tiered, 25% in three bands; a third with fees and limits."""
    initial, increment = rng.choice(INCREMENTS)
    base = Rate(prefix, "dest", price(rng), initial_increment=initial, increment=increment)
    if rng.random() < 0.3:
        fee, floor, ceiling = Decimal("0.02"), Decimal("0.01"), Decimal("25")
        base = replace(base, connect_fee=fee, free_below=3, min_cost=floor, max_cost=ceiling)
    kind = rng.random()
    if kind < 0.60:
        return [base]
    if kind < 0.75:
        return [replace(base, price=None, tiers=TIERS)]
    return [replace(base, price=price(rng), **band) for band in BANDS]


def make_plan(rng: random.Random) -> tuple[RatingPlan, list[str]]:
    lengths = rng.choices(range(1, 8), k=PREFIXES * 2)
    prefixes = sorted({"34" + str(rng.randrange(10**k)).zfill(k) for k in lengths})
    prefixes = rng.sample(prefixes, PREFIXES)
    rates = tuple(rate for prefix in prefixes for rate in rates_for(rng, prefix))
    sheet = RateSheet("bench", rates, block_mode=BlockMode.FIRST_BLOCK, timezone="Europe/Madrid")
    return compile_sheet(sheet), prefixes


def make_call(rng: random.Random, prefixes: list[str]) -> CallToRate:
    number = rng.choice(prefixes) + str(rng.randrange(10**6)).zfill(6)
    start = WEEK_START + timedelta(seconds=rng.randrange(7 * 86400))
    if rng.random() < 0.15:  # just before an edge, so that a long enough call is split
        midnight = start.replace(hour=0, minute=0, second=0)
        edge = midnight + timedelta(hours=rng.choice((8, 18, 24)) - 1)  # CET is UTC+1
        start = edge - timedelta(seconds=rng.randrange(1, 600))
    billsec = rng.choice((0, rng.randrange(1, 300), rng.randrange(300, 3600)))
    return CallToRate(number, start, billsec, answered=rng.random() < 0.95)


def make_bundles(rng: random.Random) -> list[Allowance]:
    """A per-second bundle for all of Spain, then one at increments for a few prefixes
    (most calls are not in its group)."""
    group = tuple(f"34{digit}" for digit in rng.sample("0123456789", 3))
    return [
        Allowance(1, SECONDS, rng.choice(REMAINING), True, ("34",)),
        Allowance(2, SECONDS, rng.choice(REMAINING), False, group),
    ]


def per_second(work: Sequence[T], once: Callable[[T], object]) -> float:
    """The best of three passes, so that a passing hiccup of the machine does not count."""
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        for item in work:
            once(item)
        best = min(best, time.perf_counter() - started)
    return len(work) / best


def run() -> None:
    rng = random.Random(SEED)
    plan, prefixes = make_plan(rng)
    calls = [make_call(rng, prefixes) for _ in range(CALLS)]
    split = sum(len(plan.rate_call(call).parts) > 1 for call in calls)
    speed = per_second(calls, plan.rate_call)
    print(
        f"rate_call: {speed:,.0f} calls/s ({len(plan.sheet.rates):,} rates; "
        f"{split / len(calls):.0%} of the calls split at a band edge)"
    )
    quotes = [
        (call.number, call.start, Decimal(rng.randrange(1, 5000)).scaleb(-2))
        for call in calls[:QUOTES]
    ]
    speed = per_second(quotes, lambda quote: plan.max_duration(*quote))
    print(f"max_duration: {speed:,.0f} answers/s (0.01 to 50.00 available, limit 86,400 s)")
    run_bundles(plan, calls, quotes, rng)


def run_bundles(
    plan: RatingPlan,
    calls: list[CallToRate],
    quotes: list[tuple[str, datetime, Decimal]],
    rng: random.Random,
) -> None:
    work = [(call, make_bundles(rng)) for call in calls]
    free = sum(split_call(plan, call, bundles).free_seconds > 0 for call, bundles in work)
    speed = per_second(work, lambda item: split_call(plan, *item))
    print(
        f"split_call: {speed:,.0f} calls/s with two bundles each "
        f"({free / len(work):.0%} of the calls partly or wholly free)"
    )
    asks = [(quote, bundles) for quote, (_, bundles) in zip(quotes, work, strict=False)]
    speed = per_second(asks, lambda ask: max_seconds_with_bundles(plan, *ask[0], 86400, ask[1]))
    print(f"max_seconds_with_bundles: {speed:,.0f} answers/s (the same quotes, two bundles)")
