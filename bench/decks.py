"""A realistic wholesale deck of any size, for the benchmarks: calling codes of one to
three digits, prefixes of 3 to 12 digits (long mobile ranges), a destination name per
code and kind, prices from a wholesale grid, and on some rows what real decks carry: a
connect fee (10 %), tiers (3 %), and a peak / off-peak pair of banded rows (2 %)."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import time
from decimal import Decimal

from rating import Rate, Tier
from rating.compact_index import with_prefix

_CODES = (
    "1 7 20 27 30 31 32 33 34 36 39 40 41 43 44 45 46 47 48 49 51 52 53 54 55 56 57 58 "
    "60 61 62 63 64 65 66 81 82 84 86 90 91 92 93 94 95 98 212 213 216 218 220 221 223 "
    "225 233 234 237 243 244 251 254 255 256 260 263 351 352 353 354 355 356 357 358 359 "
    "370 371 372 373 374 375 376 377 378 380 381 385 386 387 389 420 421 423 501 502 503 "
    "504 505 506 507 509 591 593 595 598 673 675 852 853 855 856 880 886 960 961 962 963 "
    "964 965 966 967 968 970 971 972 973 974 975 976 977 992 993 994 995 996 998"
)
COUNTRY_CODES = tuple(_CODES.split())
_KINDS = ("Fixed", "Mobile", "Mobile Premium", "Special")
_PRICES = tuple(Decimal(n).scaleb(-4) for n in range(20, 3000, 7))  # 0.0020 .. 0.2999
_FEE = Decimal("0.0100")
_PEAK = {"weekdays": frozenset(range(5)), "time_from": time(8), "time_to": time(20)}


def prefixes(rng: random.Random, count: int) -> list[str]:
    """`count` distinct prefixes, sorted."""
    found: set[str] = set()
    while len(found) < count:
        code = rng.choice(COUNTRY_CODES)
        extra = rng.randint(max(0, 3 - len(code)), 12 - len(code))
        tail = str(rng.randrange(10**extra)).zfill(extra) if extra else ""
        found.add(code + tail)
    return sorted(found)


def deck(rng: random.Random, count: int) -> Iterator[Rate]:
    """The rates of `count` prefixes (a little more rows: the banded pairs), by prefix.
    As in a real deck, a destination has one price for all its prefixes."""
    templates: dict[tuple[str, int], tuple[Rate, ...]] = {}
    for prefix in prefixes(rng, count):
        code = next(prefix[:n] for n in (3, 2, 1) if prefix[:n] in COUNTRY_CODES)
        destination = f"{code} {_KINDS[len(prefix) % len(_KINDS)]}"
        roll = rng.random()
        shape = 0 if roll < 0.03 else 1 if roll < 0.05 else 2 if roll < 0.15 else 3
        rows = templates.get((destination, shape))
        if rows is None:
            rows = templates[destination, shape] = _rows(rng, destination, shape)
        for row in rows:
            yield with_prefix(row, prefix)


def _rows(rng: random.Random, destination: str, shape: int) -> tuple[Rate, ...]:
    price = rng.choice(_PRICES)
    if shape == 0:
        return (Rate("", destination, tiers=(Tier(0, price, 60), Tier(300, price / 2, 6))),)
    if shape == 1:
        peak = f"{destination} peak"
        return (
            Rate("", peak, price, initial_increment=60, increment=60, **_PEAK),  # type: ignore[arg-type]
            Rate("", destination, price / 2, initial_increment=60, increment=60),
        )
    fee = _FEE if shape == 2 else Decimal(0)
    return (Rate("", destination, price, initial_increment=30, increment=6, connect_fee=fee),)
