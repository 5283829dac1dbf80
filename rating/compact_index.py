"""A compact longest-prefix index, for sheets of a million prefixes.

PrefixIndex keeps a Rate object per row: with a million rows that is ~700 MiB a process
(each Rate holds its own prefix, destination and Decimals), and as long to build. A deck
repeats a few thousand price rules over its prefixes, so here each distinct rule (a Rate
without its prefix) is stored once, and a prefix maps to the number of its rule:

- digit prefixes are keyed by an int, `int("1" + prefix)` (the leading 1 keeps "0044"
  and "44" apart), in one dict; any other prefix (`onnet`) in a dict of its own;
- an entry is the rule's number for a prefix with one rate that always applies, else a
  tuple of rule numbers in precedence order (shared between prefixes with the same one);
- the Rate a look-up answers is made on the way out: the rule's fields and the prefix.
  It equals the Rate PrefixIndex would answer, but is a new object each time (the engine
  compares rates by value where it matters).

It answers exactly what PrefixIndex answers (same longest match, validity, bands and
precedence; a hypothesis property in tests/unit checks it), in ~1/10 of the memory.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime, time
from typing import overload
from zoneinfo import ZoneInfo

from rating.bands import has_band
from rating.model import Rate
from rating.prefix_index import _band_rank, _Choice, _valid_from_key, first_applying

__all__ = ["CompactIndex", "CompactRates", "RuleTable", "rule_of"]

Entry = int | tuple[int, ...]
# 10**n for the key of an n-digit prefix: int("1" + p) == int(p) + 10**len(p).
_POWERS = tuple(10**n for n in range(64))


def _power(length: int) -> int:
    return _POWERS[length] if length < len(_POWERS) else 10**length


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
        "_choices",
        "_digits",
        "_lengths",
        "_name_lengths",
        "_names",
        "_rules",
        "_zone",
        "rows",
    )

    def __init__(self, rates: Iterable[Rate], zone: ZoneInfo) -> None:
        table = RuleTable()
        self._build(((r.prefix, table.number(rule_of(r))) for r in rates), table.rules, zone)

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
        conditional: list[bool] = []
        digits: dict[int, Entry] = {}
        names: dict[str, Entry] = {}
        groups: dict[str, list[int]] = {}
        lengths: set[int] = set()
        rows = 0
        for prefix, number in pairs:
            rows += 1
            if prefix in groups:
                groups[prefix].append(number)
                continue
            while len(conditional) <= number:
                conditional.append(_conditional(rules[len(conditional)]))
            if _is_digits(prefix):
                lengths.add(len(prefix))
                key = int(prefix) + _power(len(prefix))
                earlier = digits.get(key)
                if earlier is None and not conditional[number]:
                    digits[key] = number
                    continue
                digits[key] = ()  # a place in the order; the group is filled in at the end
            else:
                earlier = names.get(prefix)
                if earlier is None and not conditional[number]:
                    names[prefix] = number
                    continue
                names[prefix] = ()
            groups[prefix] = [number] if earlier is None else [earlier, number]  # type: ignore[list-item]
        self._rules = tuple(rules)
        self._choices = tuple(_Choice(rule) for rule in self._rules)
        shared: dict[tuple[int, ...], tuple[int, ...]] = {}
        for prefix, group in groups.items():
            ordered = tuple(_by_precedence(group, self._rules))
            entry = shared.setdefault(ordered, ordered)
            if _is_digits(prefix):
                digits[int(prefix) + _power(len(prefix))] = entry
            else:
                names[prefix] = entry
        self.rows = rows  # the rates indexed
        self._digits = digits
        self._names = names
        self._lengths = _lengths(lengths)
        self._name_lengths = _lengths(len(name) for name in names)

    def in_zone(self, zone: ZoneInfo) -> CompactIndex:
        """The same index reading bands in another time zone (a sheet's rule versions),
        sharing every table."""
        index = CompactIndex.__new__(CompactIndex)
        for name in self.__slots__:
            setattr(index, name, getattr(self, name))
        index._zone = zone
        return index

    def __len__(self) -> int:
        return len(self._digits) + len(self._names)

    def find(self, number: str, at: datetime) -> Rate | None:
        """The rate of the longest prefix of `number` that applies at `at` (aware)."""
        if not _is_digits(number):
            return self._find_any(number, at)
        size = len(number)
        digits = self._digits
        for length in self._lengths:
            if length > size:
                continue
            entry = digits.get(int(number[:length]) + _POWERS[length])
            if entry is None:
                continue
            if type(entry) is int:
                return with_prefix(self._rules[entry], number[:length])
            rate = self._choose(entry, number[:length], at)  # type: ignore[arg-type]
            if rate is not None:
                return rate
        return None

    def _find_any(self, number: str, at: datetime) -> Rate | None:
        """find for a number with other characters than digits (the catch-all's "*")."""
        lengths = sorted({*self._lengths, *self._name_lengths}, reverse=True)
        for length in lengths:
            if length > len(number):
                continue
            rate = self.find_for_prefix(number[:length], at)
            if rate is not None:
                return rate
        return None

    def find_for_prefix(self, prefix: str, at: datetime) -> Rate | None:
        """The rate of exactly `prefix` that applies at `at`, if any."""
        entry = self._entry(prefix)
        if entry is None:
            return None
        if type(entry) is int:
            return with_prefix(self._rules[entry], prefix)
        return self._choose(entry, prefix, at)  # type: ignore[arg-type]

    def band_edges(self, number: str, prefix: str) -> tuple[time, ...]:
        """As PrefixIndex.band_edges: the band edges of the rates of every prefix of
        `number`, when `prefix` has a rate with a band; else none."""
        home = self._entry(prefix)
        choices = self._choices
        if not isinstance(home, tuple) or not any(choices[n].edges for n in home):
            return ()
        edges: set[time] = set()
        for entry in self._chain(number):
            if isinstance(entry, tuple):
                for n in entry:
                    edges.update(choices[n].edges)
        return tuple(sorted(edges))

    def entries(self) -> Iterator[tuple[str, Entry]]:
        """Every prefix and its entry: digit prefixes in the order first seen, then the
        others."""
        for key, entry in self._digits.items():
            yield str(key)[1:], entry
        yield from self._names.items()

    def rules(self) -> tuple[Rate, ...]:
        return self._rules

    def _entry(self, prefix: str) -> Entry | None:
        if _is_digits(prefix):
            return self._digits.get(int(prefix) + _power(len(prefix)))
        return self._names.get(prefix)

    def _chain(self, number: str) -> Iterator[Entry]:
        """The entries of every prefix of `number`, longest first."""
        for length in sorted({*self._lengths, *self._name_lengths}, reverse=True):
            entry = self._entry(number[:length]) if length <= len(number) else None
            if entry is not None:
                yield entry

    def _choose(self, entry: tuple[int, ...], prefix: str, at: datetime) -> Rate | None:
        """The first rule of `entry` (in precedence order) that applies at `at`."""
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


def _conditional(rule: Rate) -> bool:
    return rule.valid_from is not None or rule.valid_to is not None or has_band(rule)


def _lengths(lengths: Iterable[int]) -> tuple[int, ...]:
    return tuple(sorted(set(lengths), reverse=True))


def _by_precedence(group: list[int], rules: Sequence[Rate]) -> list[int]:
    # As prefix_index._by_precedence, on rule numbers: stable sorts, least significant
    # key first, so sheet order is kept among equals.
    ordered = sorted(group, key=lambda n: _band_rank(rules[n]), reverse=True)
    return sorted(ordered, key=lambda n: _valid_from_key(rules[n]), reverse=True)
