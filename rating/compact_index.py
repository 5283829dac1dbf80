"""A compact longest-prefix index, for sheets of a million prefixes.

PrefixIndex keeps a Rate object per row: with a million rows that is ~700 MiB a process
(each Rate holds its own prefix, destination and Decimals), and as long to build. A deck
repeats a few thousand price rules over its prefixes, so here each distinct rule (a Rate
without its prefix) is stored once, and a prefix maps to the number of its rule:

- the digit prefixes of each length are a sorted array of 64-bit keys (the prefix as an
  int: one length per array, so "0044" and "44" stay apart), found by bisection, and an
  array of 32-bit values beside it: 12 bytes a prefix; any other prefix (`onnet`) is in
  a dict of its own;
- a value is the rule's number for a prefix with one rate that always applies, else the
  number of a tuple of rule numbers in precedence order (shared between prefixes);
- the Rate a look-up answers is made on the way out: the rule's fields and the prefix.
  It equals the Rate PrefixIndex would answer, but is a new object each time (the engine
  compares rates by value where it matters).

It answers exactly what PrefixIndex answers (same longest match, validity, bands and
precedence; a hypothesis property in tests/unit checks it), in a few per cent of the
memory; a look-up costs a bisection per prefix length instead of a dict probe.

This module looks rates up in the tables; rating/compact_packing.py packs them from the
rows (CompactIndex.from_rules, from_sorted).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime, time
from typing import overload
from zoneinfo import ZoneInfo

from rating.compact_packing import (
    GROUP,
    KEYED,
    Entry,
    Packed,
    is_digits,
    pack_rules,
    pack_sorted,
)
from rating.model import Rate
from rating.prefix_index import _Choice, first_applying

__all__ = ["CompactIndex", "CompactRates", "RuleTable", "rule_of"]


def rule_of(rate: Rate) -> Rate:
    """`rate` without its prefix: what rates of many prefixes share."""
    return with_prefix(rate, "")


def with_prefix(rule: Rate, prefix: str) -> Rate:
    """The Rate of `rule` at `prefix`; built without dataclasses.replace (~15x faster),
    since this runs for every look-up."""
    rate = object.__new__(Rate)
    fields = rate.__dict__
    fields.update(rule.__dict__)
    fields["prefix"] = prefix
    return rate


class RuleTable:
    """The distinct rules of a sheet, numbered in the order they are first seen."""

    __slots__ = ("_numbers", "rules")

    def __init__(self) -> None:
        self.rules: list[Rate] = []
        self._numbers: dict[object, int] = {}

    def number(self, rule: Rate) -> int:
        # Holidays compare by name only: their days are part of the key too.
        days = rule.holidays
        key = rule if days is None else (rule, days.dates, days.yearly)
        number = self._numbers.get(key)
        if number is None:
            number = self._numbers[key] = len(self.rules)
            self.rules.append(rule)
        return number


class CompactIndex:
    """Immutable once built; safe to share between threads. The same look-ups as
    PrefixIndex (find, find_for_prefix, band_edges, len)."""

    __slots__ = (
        "_all_lengths",
        "_choices",
        "_digits",
        "_groups",
        "_lengths",
        "_names",
        "_rules",
        "_zone",
        "rows",
    )

    def __init__(self, packed: Packed, zone: ZoneInfo) -> None:
        """An index over the tables of rating/compact_packing.py; from_rules and
        from_sorted pack them."""
        self.rows = packed.rows  # the rates indexed
        self._rules = packed.rules
        self._choices = tuple(_Choice(rule) for rule in packed.rules)
        self._digits = packed.digits
        self._groups = packed.groups
        self._names = packed.names
        self._lengths = packed.lengths
        self._all_lengths = packed.all_lengths
        self._zone = zone

    @classmethod
    def from_rules(
        cls, pairs: Iterable[tuple[str, int]], rules: Sequence[Rate], zone: ZoneInfo
    ) -> CompactIndex:
        """The index of (prefix, rule number) pairs, in sheet order, over `rules`
        (Rates without prefixes): how db/ builds one from rows, with no Rate per row.
        `rules` may grow while `pairs` is read (db/ numbers rules as rows come)."""
        return cls(pack_rules(pairs, rules), zone)

    @classmethod
    def from_sorted(
        cls, chunks: Iterable[tuple[list[str], list[str]]], rules: Sequence[Rate], zone: ZoneInfo
    ) -> CompactIndex:
        """The index of a sheet read as db/ reads a big one: chunks of (prefixes, rule
        numbers as text), a row per rate, ordered by the prefix's length, then its text,
        then sheet order; packed in C-level passes (compact_packing.pack_sorted), a
        million prefixes in about a second."""
        return cls(pack_sorted(chunks, rules), zone)

    def in_zone(self, zone: ZoneInfo) -> CompactIndex:
        """The same index reading bands in another time zone (a sheet's rule versions),
        sharing every table."""
        index = CompactIndex.__new__(CompactIndex)
        for name in self.__slots__:
            setattr(index, name, getattr(self, name))
        index._zone = zone
        return index

    def __len__(self) -> int:
        return sum(len(keys) for keys, _ in self._digits.values()) + len(self._names)

    def find(self, number: str, at: datetime) -> Rate | None:
        """The rate of the longest prefix of `number` that applies at `at` (aware)."""
        if not is_digits(number):
            return self._find_any(number, at)
        size = len(number)
        digits = self._digits
        for length in self._lengths:
            if length > size:
                continue
            entry: Entry | None
            if length > KEYED:
                entry = self._names.get(number[:length])
                if entry is None:
                    continue
            else:
                keys, values = digits[length]
                key = int(number[:length])
                i = bisect_left(keys, key)
                if i == len(keys) or keys[i] != key:
                    continue
                value = values[i]
                if value < GROUP:
                    return with_prefix(self._rules[value], number[:length])
                entry = self._groups[value - GROUP]
            rate = self._resolve(entry, number[:length], at)
            if rate is not None:
                return rate
        return None

    def _find_any(self, number: str, at: datetime) -> Rate | None:
        """find for a number with other characters than digits (the catch-all's "*")."""
        for length in self._all_lengths:
            if length <= len(number):
                rate = self.find_for_prefix(number[:length], at)
                if rate is not None:
                    return rate
        return None

    def find_for_prefix(self, prefix: str, at: datetime) -> Rate | None:
        """The rate of exactly `prefix` that applies at `at`, if any."""
        entry = self._entry(prefix)
        return None if entry is None else self._resolve(entry, prefix, at)

    def band_edges(self, number: str, prefix: str) -> tuple[time, ...]:
        """As PrefixIndex.band_edges: the band edges of the rates of every prefix of
        `number`, when `prefix` has a rate with a band; else none."""
        home = self._entry(prefix)
        choices = self._choices
        if not isinstance(home, tuple) or not any(choices[n].edges for n in home):
            return ()
        edges: set[time] = set()
        for length in self._all_lengths:
            entry = self._entry(number[:length]) if length <= len(number) else None
            if isinstance(entry, tuple):
                for n in entry:
                    edges.update(choices[n].edges)
        return tuple(sorted(edges))

    def entries(self) -> Iterator[tuple[str, Entry]]:
        """Every prefix and its entry: digit prefixes by length and value, then the
        others in the order first seen."""
        groups = self._groups
        for length, (keys, values) in self._digits.items():
            for key, value in zip(keys, values, strict=True):
                yield str(key).zfill(length), value if value < GROUP else groups[value - GROUP]
        yield from self._names.items()

    def rules(self) -> tuple[Rate, ...]:
        return self._rules

    def other_prefixes(self) -> tuple[str, ...]:
        """The prefixes that are not keys of the arrays (on-net, longer numbers)."""
        return tuple(self._names)

    def _entry(self, prefix: str) -> Entry | None:
        if not (is_digits(prefix) and len(prefix) <= KEYED):
            return self._names.get(prefix)
        table = self._digits.get(len(prefix))
        if table is None:
            return None
        keys, values = table
        key = int(prefix)
        i = bisect_left(keys, key)
        if i == len(keys) or keys[i] != key:
            return None
        value = values[i]
        return value if value < GROUP else self._groups[value - GROUP]

    def _resolve(self, entry: Entry, prefix: str, at: datetime) -> Rate | None:
        """The rate of `entry` at `prefix` that applies at `at`: its one rule, or the
        first of its rules (in precedence order) valid then and in band."""
        if isinstance(entry, int):
            return with_prefix(self._rules[entry], prefix)
        rule = first_applying(map(self._choices.__getitem__, entry), at, self._zone)
        return None if rule is None else with_prefix(rule, prefix)


class CompactRates(Sequence[Rate]):
    """The rates of a compact plan's sheet, made on access (RatingPlan.sheet.rates of a
    big sheet): by prefix as the index holds them, the rates of one prefix in precedence
    order, then `others` (the catch-all rows)."""

    __slots__ = ("_count", "_index", "_others")

    def __init__(self, index: CompactIndex, others: tuple[Rate, ...] = ()) -> None:
        self._index = index
        self._others = others
        self._count = index.rows + len(others)

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator[Rate]:
        rules = self._index.rules()
        for prefix, entry in self._index.entries():
            for number in (entry,) if type(entry) is int else entry:  # type: ignore[union-attr]
                yield with_prefix(rules[number], prefix)
        yield from self._others

    @overload
    def __getitem__(self, position: int) -> Rate: ...
    @overload
    def __getitem__(self, position: slice) -> Sequence[Rate]: ...
    def __getitem__(self, position: int | slice) -> Rate | Sequence[Rate]:
        # A million rates are not indexed by position: only what iteration gives.
        whole = tuple(self)
        return whole[position]
