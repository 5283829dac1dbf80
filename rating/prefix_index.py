"""The longest-prefix index of a rate sheet.

Dicts keyed by prefix, probed with the dialled number's prefixes from the longest down.
A prefix with a single rate that always applies (no band, no validity) maps to the Rate
itself; only prefixes with several rates, or a conditional one, get a tuple of choices.

The prefixes are kept in one small dict per stem (their first STEM digits), each with
the lengths it holds, plus one dict of the prefixes shorter than STEM. A lookup probes
only the lengths its stem has, and all within one small dict: with a million prefixes a
single dict is far bigger than the CPU caches and every probe of it is a cache miss,
while the probes of a small dict share a few cache lines (about 25% more lookups a
second than a single dict, for a fifth more memory).

A prefix whose rates do not apply at the moment does not hide a shorter one: the probe
goes on to shorter prefixes. Among the rates of one prefix that apply at once, the one
with the latest valid_from wins (a deck loaded ahead of its day supersedes the open-ended
old one), then a holiday band over any other, then a rate with a band over one without
(a weekend band over an all-week rate), then the sheet's order.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, time
from typing import Protocol, cast
from zoneinfo import ZoneInfo

from rating.bands import band_edges, covers, has_band
from rating.model import Rate

__all__ = ["PrefixIndex", "PrefixLookup"]


STEM = 5
_EARLIEST = datetime.min.replace(tzinfo=UTC)


class _Choice:
    """One of several rates of a prefix, with what decides whether it applies."""

    __slots__ = ("banded", "edges", "rate", "valid_from", "valid_to")

    def __init__(self, rate: Rate) -> None:
        self.rate = rate
        self.valid_from = rate.valid_from
        self.valid_to = rate.valid_to
        self.banded = has_band(rate)
        self.edges = band_edges(rate)


Entry = Rate | tuple[_Choice, ...]
Table = dict[str, Entry]


class PrefixLookup(Protocol):
    """What a plan asks of its index: PrefixIndex, CompactIndex, or one that asks the
    database per number (db/rate_lookup.py, while a big sheet's plan is built)."""

    def find(self, number: str, at: datetime) -> Rate | None: ...

    def find_for_prefix(self, prefix: str, at: datetime) -> Rate | None: ...

    def band_edges(self, number: str, prefix: str) -> tuple[time, ...]: ...

    def __len__(self) -> int: ...


class PrefixIndex:
    """Immutable once built; safe to share between threads."""

    __slots__ = ("_buckets", "_count", "_short", "_short_lengths", "_zone")

    def __init__(self, rates: Iterable[Rate], zone: ZoneInfo) -> None:
        self._zone = zone
        tables = _tables(rates)
        self._count = sum(len(table) for table in tables.values())
        self._short = tables.pop("", {})
        self._short_lengths = _lengths(self._short)
        # Equal length tuples are shared: most stems hold the same few lengths.
        shared: dict[tuple[int, ...], tuple[int, ...]] = {}
        self._buckets = {
            stem: (table, shared.setdefault(lengths, lengths))
            for stem, table in tables.items()
            for lengths in (_lengths(table),)
        }

    def __len__(self) -> int:
        return self._count

    def find(self, number: str, at: datetime) -> Rate | None:
        """The rate of the longest prefix of `number` that applies at `at` (aware)."""
        bucket = self._buckets.get(number[:STEM])
        if bucket is not None:
            rate = self._search(bucket[0], bucket[1], number, at)
            if rate is not None:
                return rate
        return self._search(self._short, self._short_lengths, number, at)

    def find_for_prefix(self, prefix: str, at: datetime) -> Rate | None:
        """The rate of exactly `prefix` that applies at `at`, if any."""
        entry = self._entry(prefix)
        if entry is None or not isinstance(entry, tuple):
            return entry
        return self._choose(entry, at)

    def band_edges(self, number: str, prefix: str) -> tuple[time, ...]:
        """The times of day at which the rate in force may change during a call to
        `number` that started on a rate of `prefix`: none if `prefix` has no rate with a
        band; else the band edges of the rates of every prefix of `number`, since the
        call may fall back to any of them."""
        home = self._entry(prefix)
        if not isinstance(home, tuple) or not any(choice.edges for choice in home):
            return ()
        edges: set[time] = set()
        for entry in self._chain(number):
            if isinstance(entry, tuple):
                for choice in entry:
                    edges.update(choice.edges)
        return tuple(sorted(edges))

    def _entry(self, prefix: str) -> Entry | None:
        bucket = self._buckets.get(prefix[:STEM]) if len(prefix) >= STEM else None
        return (self._short if bucket is None else bucket[0]).get(prefix)

    def _chain(self, number: str) -> Iterator[Entry]:
        """The entries of every prefix of `number`, longest first."""
        bucket = self._buckets.get(number[:STEM])
        tables = [(self._short, self._short_lengths)]
        if bucket is not None:
            tables.insert(0, bucket)
        for table, lengths in tables:
            for length in lengths:
                entry = table.get(number[:length]) if length <= len(number) else None
                if entry is not None:
                    yield entry

    def _search(
        self, table: Table, lengths: tuple[int, ...], number: str, at: datetime
    ) -> Rate | None:
        size = len(number)
        for length in lengths:
            if length > size:
                continue
            entry = table.get(number[:length])
            if entry is None:
                continue
            if not isinstance(entry, tuple):
                return entry
            rate = self._choose(entry, at)
            if rate is not None:
                return rate
        return None

    def _choose(self, choices: tuple[_Choice, ...], at: datetime) -> Rate | None:
        return first_applying(choices, at, self._zone)


def first_applying(choices: Iterable[_Choice], at: datetime, zone: ZoneInfo) -> Rate | None:
    """The rate of the first of `choices` (in precedence order) valid at `at` and in its
    band (read in `zone`)."""
    local = None  # the sheet's wall clock, read once and only if a band asks
    for choice in choices:
        if choice.valid_from is not None and at < choice.valid_from:
            continue
        if choice.valid_to is not None and at >= choice.valid_to:
            continue
        if choice.banded:
            local = local or at.astimezone(zone)
            if not covers(choice.rate, local):
                continue
        return choice.rate
    return None


def _tables(rates: Iterable[Rate]) -> dict[str, Table]:
    """The entries by stem ("" for prefixes shorter than STEM)."""
    tables: dict[str, dict[str, Rate]] = {}
    shared: dict[str, list[Rate]] = {}
    for rate in rates:
        prefix = rate.prefix
        if prefix in shared:
            shared[prefix].append(rate)
            continue
        stem = prefix[:STEM] if len(prefix) >= STEM else ""
        table = tables.get(stem)
        if table is None:
            table = tables[stem] = {}
        if prefix in table or _conditional(rate):
            earlier = table.pop(prefix, None)
            shared[prefix] = [rate] if earlier is None else [earlier, rate]
        else:
            table[prefix] = rate
    # The same dicts, widened in place: copies would double the peak memory of the build.
    entries = cast(dict[str, Table], tables)
    for prefix, group in shared.items():
        stem = prefix[:STEM] if len(prefix) >= STEM else ""
        entries[stem][prefix] = tuple(_Choice(rate) for rate in _by_precedence(group))
    return entries


def _lengths(table: Table) -> tuple[int, ...]:
    return tuple(sorted({len(prefix) for prefix in table}, reverse=True))


def _conditional(rate: Rate) -> bool:
    return rate.valid_from is not None or rate.valid_to is not None or has_band(rate)


def _by_precedence(rates: list[Rate]) -> list[Rate]:
    # Stable sorts, least significant key first: sheet order is kept among equals.
    ordered = sorted(rates, key=_band_rank, reverse=True)
    return sorted(ordered, key=_valid_from_key, reverse=True)


def _band_rank(rate: Rate) -> tuple[bool, bool]:
    return rate.holidays is not None, has_band(rate)


def _valid_from_key(rate: Rate) -> datetime:
    return rate.valid_from or _EARLIEST
