"""Longest-prefix lookups on a sheet of 1,000,000 prefixes (country code + random digits,
3 to 12 digits long), with 200,000 dialled numbers, most of which match."""

from __future__ import annotations

import gc
import random
import resource
import time
import tracemalloc
from datetime import UTC, datetime
from decimal import Decimal

from rating import NoRateForDestination, Rate, RateSheet, RatingPlan, compile_sheet

PREFIXES = 1_000_000
LOOKUPS = 200_000
SEED = 20_250_701
AT = datetime(2025, 7, 1, 12, 0, tzinfo=UTC)
MIB = 1024 * 1024
# A realistic spread of calling codes: one, two and three digits long.
_CODES = (
    "1 7 20 27 30 31 32 33 34 36 39 40 41 43 44 45 46 47 48 49 51 52 53 54 55 56 57 58 "
    "60 61 62 63 64 65 66 81 82 84 86 90 91 92 93 94 95 98 212 213 216 218 220 221 223 "
    "225 233 234 237 243 244 251 254 255 256 260 263 351 352 353 354 355 356 357 358 359 "
    "370 371 372 373 374 375 376 377 378 380 381 385 386 387 389 420 421 423 501 502 503 "
    "504 505 506 507 509 591 593 595 598 673 675 852 853 855 856 880 886 960 961 962 963 "
    "964 965 966 967 968 970 971 972 973 974 975 976 977 992 993 994 995 996 998"
)
COUNTRY_CODES = tuple(_CODES.split())


def make_prefixes(rng: random.Random, count: int) -> list[str]:
    prefixes: set[str] = set()
    while len(prefixes) < count:
        code = rng.choice(COUNTRY_CODES)
        extra = rng.randint(max(0, 3 - len(code)), 12 - len(code))
        tail = str(rng.randrange(10**extra)).zfill(extra) if extra else ""
        prefixes.add(code + tail)
    return sorted(prefixes)


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


def build(sheet: RateSheet) -> tuple[RatingPlan, float, int, int]:
    """The plan, the build time (untraced), and the memory the index keeps and peaks at
    (from a second, traced build: tracing slows allocation down)."""
    started = time.perf_counter()
    plan = compile_sheet(sheet)
    seconds = time.perf_counter() - started
    gc.collect()
    tracemalloc.start()
    traced = compile_sheet(sheet)
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
    rng = random.Random(SEED)
    prefixes = make_prefixes(rng, PREFIXES)
    sheet = make_sheet(prefixes)
    plan, build_seconds, kept, peak = build(sheet)
    numbers = make_numbers(rng, prefixes, LOOKUPS)
    speed, found = lookups_per_second(plan, numbers)
    print(
        f"prefix lookups: {speed:,.0f}/s ({len(plan.sheet.rates):,} prefixes, "
        f"build {build_seconds:.1f} s, {kept / MIB:,.0f} MiB)"
    )
    print(f"   index kept {kept / MIB:,.0f} MiB (build peak {peak / MIB:,.0f} MiB, traced)")
    print(f"   {found:,} of {len(numbers):,} numbers matched a prefix")
    print(f"   process peak RSS {peak_rss() / MIB:,.0f} MiB, with the sheet's 1,000,000 Rates")
