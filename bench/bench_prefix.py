"""Longest-prefix lookups on a sheet of 1,000,000 prefixes (bench/decks.py: country code
+ random digits, 3 to 12 digits long, bands and tiers on some rows), with 200,000 dialled
numbers, most of which match: the PrefixIndex against the CompactIndex, in one run."""

from __future__ import annotations

import gc
import os
import random
import resource
import time
import tracemalloc
from datetime import UTC, datetime
from decimal import Decimal

from bench import decks
from rating import NoRateForDestination, Rate, RateSheet, RatingPlan, compile_sheet

PREFIXES = 1_000_000
LOOKUPS = 200_000
SEED = 20_250_701
AT = datetime(2025, 7, 1, 12, 0, tzinfo=UTC)
MIB = 1024 * 1024
# The prefixes of bench/decks.py: country code + random digits, 3 to 12 digits long.
make_prefixes = decks.prefixes


def make_sheet(prefixes: list[str]) -> RateSheet:
    prices = [Decimal(cents).scaleb(-3) for cents in range(1, 501)]
    rates = tuple(
        Rate(prefix, "", price=prices[i % len(prices)]) for i, prefix in enumerate(prefixes)
    )
    return RateSheet("bench", rates)


def make_numbers(rng: random.Random, prefixes: list[str], count: int) -> list[str]:
    numbers = []
    for _ in range(count):
        if rng.random() < 0.9:
            prefix = rng.choice(prefixes)
            extra = max(2, rng.randint(11, 13) - len(prefix))
            numbers.append(prefix + str(rng.randrange(10**extra)).zfill(extra))
        else:  # anything at all: some match a short prefix, some nothing
            numbers.append(str(rng.randrange(10**11, 10**12)))
    return numbers


def build(sheet: RateSheet, compact: bool) -> tuple[RatingPlan, float, int, int]:
    """The plan, the build time (untraced), and the memory the index keeps and peaks at
    (from a second, traced build: tracing slows allocation down)."""
    started = time.perf_counter()
    plan = compile_sheet(sheet, compact=compact)
    seconds = time.perf_counter() - started
    gc.collect()
    tracemalloc.start()
    traced = compile_sheet(sheet, compact=compact)
    kept, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del traced
    return plan, seconds, kept, peak


def lookups_per_second(plan: RatingPlan, numbers: list[str]) -> tuple[float, int]:
    """The best of three timed passes, after an untimed one that warms the caches."""
    results = [_timed_pass(plan, numbers) for _ in range(4)][1:]
    seconds = min(elapsed for elapsed, _ in results)
    return len(numbers) / seconds, results[0][1]


def _timed_pass(plan: RatingPlan, numbers: list[str]) -> tuple[float, int]:
    find = plan.find_rate
    found = 0
    started = time.perf_counter()
    for number in numbers:
        try:
            find(number, AT)
            found += 1
        except NoRateForDestination:
            pass
    return time.perf_counter() - started, found


def peak_rss() -> int:
    """The process's peak resident memory, in bytes (Linux counts ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def run() -> None:
    """The same realistic deck (bench/decks.py) indexed both ways, interleaved: the
    PrefixIndex (a dict entry and the sheet's Rate per prefix) and the CompactIndex
    (distinct rules, sorted key arrays). The memory is the index's own: the sheet's
    Rates exist in this process either way (a server streams a big sheet instead, see
    bench_rate_change)."""
    print(f"   load {os.getloadavg()[0]:.1f}")
    rng = random.Random(SEED)
    sheet = RateSheet("bench", tuple(decks.deck(rng, PREFIXES)))
    numbers = make_numbers(rng, sorted({rate.prefix for rate in sheet.rates}), LOOKUPS)
    figures: dict[str, list[tuple[float, float, int, int]]] = {"plain": [], "compact": []}
    for _ in range(2):
        for name in figures:
            plan, seconds, kept, peak = build(sheet, name == "compact")
            speed, found = lookups_per_second(plan, numbers)
            figures[name].append((speed, seconds, kept, peak))
            del plan
    for name, runs in figures.items():
        speed = max(r[0] for r in runs)
        seconds = min(r[1] for r in runs)
        print(
            f"   {name:7s}: {speed:,.0f} lookups/s, build {seconds:.1f} s, index kept"
            f" {runs[0][2] / MIB:,.0f} MiB (build peak {runs[0][3] / MIB:,.0f} MiB, traced)"
        )
    plain, compact = (
        (max(r[0] for r in runs), min(r[1] for r in runs), runs[0][2]) for runs in figures.values()
    )
    print(
        f"   compact/plain: lookups {compact[0] / plain[0]:.2f}, build {compact[1] / plain[1]:.2f},"
        f" memory {compact[2] / plain[2]:.2f}"
        f" ({len(sheet.rates):,} rates, {found:,} of {len(numbers):,} numbers matched)"
    )
    print(
        f"   process peak RSS {peak_rss() / MIB:,.0f} MiB, with the sheet's Rates; load"
        f" {os.getloadavg()[0]:.1f}"
    )
