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
"""

from __future__ import annotations

from array import array
from bisect import bisect_left
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime, time
from itertools import compress, islice
from itertools import count as count_from
from operator import eq, le, lt
from typing import overload
from zoneinfo import ZoneInfo

from rating.bands import has_band
from rating.model import Rate
from rating.prefix_index import _band_rank, _Choice, _valid_from_key, first_applying

__all__ = ["CompactIndex", "CompactRates", "RuleTable", "rule_of"]

Entry = int | tuple[int, ...]
# Digit prefixes of up to KEYED digits are keys of 64-bit arrays (10**19 - 1 < 2**64);
# longer ones, and any other prefix, go to a dict by text.
KEYED = 19
# A value from GROUP on is the number of a tuple of rules, not of a rule.
GROUP = 1 << 31


def _is_digits(text: str) -> bool:
    return text.isascii() and text.isdigit()


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

    @classmethod
    def from_rules(
        cls, pairs: Iterable[tuple[str, int]], rules: Sequence[Rate], zone: ZoneInfo
    ) -> CompactIndex:
        """The index of (prefix, rule number) pairs, in sheet order, over `rules`
        (Rates without prefixes): how db/ builds one from rows, with no Rate per row."""
        index = cls.__new__(cls)
        index._build(pairs, rules, zone)
        return index

    def _build(
        self, pairs: Iterable[tuple[str, int]], rules: Sequence[Rate], zone: ZoneInfo
    ) -> None:
        """`rules` may grow while `pairs` is read (db/ numbers rules as rows come)."""
        self._zone = zone
        rows: dict[int, tuple[array[int], array[int]]] = {}  # every row, by length
        named: dict[str, list[int]] = {}
        count = 0
        for prefix, number in pairs:
            count += 1
            if _is_digits(prefix) and len(prefix) <= KEYED:
                table = rows.get(len(prefix))
                if table is None:
                    table = rows[len(prefix)] = (array("Q"), array("I"))
                table[0].append(int(prefix))
                table[1].append(number)
            else:
                named.setdefault(prefix, []).append(number)
        self.rows = count  # the rates indexed
        self._rules = tuple(rules)
        self._choices = tuple(_Choice(rule) for rule in self._rules)
        groups: dict[tuple[int, ...], int] = {}
        self._digits = {length: self._packed(*rows.pop(length), groups) for length in sorted(rows)}
        self._finish(named, groups)

    def _finish(self, named: dict[str, list[int]], groups: dict[tuple[int, ...], int]) -> None:
        """The tables left once `_digits` is set: the other prefixes, groups, lengths."""
        values = {prefix: self._entry_of(numbers, groups) for prefix, numbers in named.items()}
        self._groups = tuple(groups)
        self._names: dict[str, Entry] = {
            prefix: value if value < GROUP else self._groups[value - GROUP]
            for prefix, value in values.items()
        }
        long_digits = [len(p) for p in self._names if _is_digits(p)]
        self._lengths = _lengths([*self._digits, *long_digits])
        self._all_lengths = _lengths([*self._lengths, *map(len, self._names)])

    @classmethod
    def from_sorted(
        cls, chunks: Iterable[tuple[list[str], list[str]]], rules: Sequence[Rate], zone: ZoneInfo
    ) -> CompactIndex:
        """The index of a sheet read as db/ reads a big one: chunks of (prefixes, rule
        numbers as text), a row per rate, ordered by the prefix's length, then its text
        (so by key within a length), then sheet order. Taken in C-level passes (int(),
        array.extend, compress), with a Python step only per prefix of several rates:
        a million prefixes in about a second, where from_rules takes a Python step or
        more per row."""
        index = cls.__new__(cls)
        index._zone = zone
        index._rules = tuple(rules)
        index._choices = tuple(_Choice(rule) for rule in index._rules)
        groups: dict[tuple[int, ...], int] = {}
        # The value of a prefix with one rule: the rule, or a group of it if conditional.
        single = [
            index._entry_of([n], groups) if _conditional(rule) else n
            for n, rule in enumerate(index._rules)
        ]
        digits: dict[int, tuple[array[int], array[int]]] = {}
        named: dict[str, list[int]] = {}
        count = 0
        for chunk, texts in chunks:
            prefixes, numbers = _keyed_only(chunk, texts, named)
            count += len(prefixes)
            start = 0
            while start < len(prefixes):
                length = len(prefixes[start])
                end = bisect_left(prefixes, length + 1, lo=start, key=len)
                table = digits.get(length)
                if table is None:
                    table = digits[length] = (array("Q"), array("I"))
                table[0].extend(map(int, prefixes[start:end]))
                table[1].extend(map(int, numbers[start:end]))
                start = end
        index.rows = count + sum(len(numbers) for numbers in named.values())
        index._digits = {
            length: index._deduplicated(*digits.pop(length), single, groups)
            for length in sorted(digits)
        }
        index._finish(named, groups)
        return index

    def _deduplicated(
        self,
        keys: array[int],
        numbers: array[int],
        single: list[int],
        groups: dict[tuple[int, ...], int],
    ) -> tuple[array[int], array[int]]:
        """from_sorted's keys of one length (sorted, a prefix of several rates repeated
        in a run) as one key per prefix and its value."""
        if all(map(lt, keys, islice(keys, 1, None))):  # a rate a prefix: the usual deck
            return keys, array("I", map(single.__getitem__, numbers))
        if not all(map(le, keys, islice(keys, 1, None))):  # not sorted: the general way
            return self._packed(keys, numbers, groups)
        repeats = list(compress(count_from(1), map(eq, keys, islice(keys, 1, None))))
        values = array("I", map(single.__getitem__, numbers))
        keep = bytearray(b"\x01") * len(keys)
        i = 0
        while i < len(repeats):
            j = i
            while j + 1 < len(repeats) and repeats[j + 1] == repeats[j] + 1:
                j += 1
            start, end = repeats[i] - 1, repeats[j] + 1  # the run of one prefix
            values[start] = self._entry_of(list(numbers[start:end]), groups)
            keep[start + 1 : end] = bytes(end - start - 1)
            i = j + 1
        return array("Q", compress(keys, keep)), array("I", compress(values, keep))

    def _packed(
        self, keys: array[int], numbers: array[int], groups: dict[tuple[int, ...], int]
    ) -> tuple[array[int], array[int]]:
        """The prefixes of one length as sorted keys and their values, one per prefix.
        Rows by prefix (as db/ reads them) come sorted; others are sorted here, stably,
        so the rates of one prefix keep their sheet order."""
        size = len(keys)
        ordered = all(map(le, keys, islice(keys, 1, None)))
        order: Sequence[int] = range(size) if ordered else sorted(range(size), key=keys.__getitem__)
        out_keys: array[int] = array("Q")
        out_values: array[int] = array("I")
        i = 0
        while i < size:
            key = keys[order[i]]
            j = i + 1
            while j < size and keys[order[j]] == key:
                j += 1
            out_keys.append(key)
            out_values.append(self._entry_of([numbers[order[n]] for n in range(i, j)], groups))
            i = j
        return out_keys, out_values

    def _entry_of(self, numbers: list[int], groups: dict[tuple[int, ...], int]) -> int:
        """A prefix's value: its rule's number when it has one rule that always applies,
        else GROUP + the number of its tuple of rules in precedence order."""
        if len(numbers) == 1 and not _conditional(self._rules[numbers[0]]):
            return numbers[0]
        ordered = tuple(_by_precedence(numbers, self._rules))
        return GROUP + groups.setdefault(ordered, len(groups))

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
        if not _is_digits(number):
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
        if not (_is_digits(prefix) and len(prefix) <= KEYED):
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


def _keyed_only(
    prefixes: list[str], values: list[str], named: dict[str, list[int]]
) -> tuple[list[str], list[str]]:
    """The rows of a chunk whose prefix is a key (digits, up to KEYED), the others put
    in `named` (on-net, longer numbers): a Python step per row only for a chunk that has
    such a row."""
    # By length: the last prefix is the longest.
    if (
        "".join(prefixes).isascii()
        and all(map(str.isdigit, prefixes))
        and (not prefixes or len(prefixes[-1]) <= KEYED)
    ):
        return prefixes, values
    keyed: tuple[list[str], list[str]] = ([], [])
    for prefix, value in zip(prefixes, values, strict=True):
        if _is_digits(prefix) and len(prefix) <= KEYED:
            keyed[0].append(prefix)
            keyed[1].append(value)
        else:
            named.setdefault(prefix, []).append(int(value))
    return keyed


def _conditional(rule: Rate) -> bool:
    return rule.valid_from is not None or rule.valid_to is not None or has_band(rule)


def _lengths(lengths: Iterable[int]) -> tuple[int, ...]:
    return tuple(sorted(set(lengths), reverse=True))


def _by_precedence(group: list[int], rules: Sequence[Rate]) -> list[int]:
    # As prefix_index._by_precedence, on rule numbers: stable sorts, least significant
    # key first, so sheet order is kept among equals.
    ordered = sorted(group, key=lambda n: _band_rank(rules[n]), reverse=True)
    return sorted(ordered, key=lambda n: _valid_from_key(rules[n]), reverse=True)
