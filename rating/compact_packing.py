"""The packing of a CompactIndex's tables from a sheet's rows (rating/compact_index.py
says what the tables are and looks rates up in them).

Two ways in: pack_rules takes (prefix, rule number) pairs in sheet order, a Python step
or more per row (compile_rules, compile_sheet of a big sheet); pack_sorted takes the
rows as db/ reads a big sheet, sorted by key, in C-level passes. Both answer the same
tables for the same rows. A module of its own because the building and the look-ups
share nothing but the tables' format: KEYED, GROUP and an Entry, defined here.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from itertools import compress, islice
from itertools import count as count_from
from operator import eq, le, lt
from typing import NamedTuple

from rating.bands import has_band
from rating.model import Rate
from rating.prefix_index import _band_rank, _valid_from_key

__all__ = ["GROUP", "KEYED", "Entry", "Packed", "is_digits", "pack_rules", "pack_sorted"]

Entry = int | tuple[int, ...]
# Digit prefixes of up to KEYED digits are keys of 64-bit arrays (10**19 - 1 < 2**64);
# longer ones, and any other prefix, go to a dict by text.
KEYED = 19
# A value from GROUP on is the number of a tuple of rules, not of a rule.
GROUP = 1 << 31

# The 64-bit keys and 32-bit values of the digit prefixes of one length.
Table = tuple["array[int]", "array[int]"]


class Packed(NamedTuple):
    """A CompactIndex's tables: what the look-ups read."""

    rows: int  # the rates indexed
    rules: tuple[Rate, ...]
    digits: dict[int, Table]  # by length, shortest first
    groups: tuple[tuple[int, ...], ...]
    names: dict[str, Entry]  # the prefixes that are not keys
    lengths: tuple[int, ...]  # of the digit prefixes, longest first
    all_lengths: tuple[int, ...]  # of every prefix, longest first


def is_digits(text: str) -> bool:
    return text.isascii() and text.isdigit()


def pack_rules(pairs: Iterable[tuple[str, int]], rules: Sequence[Rate]) -> Packed:
    """The tables of (prefix, rule number) pairs, in sheet order, over `rules` (Rates
    without prefixes). `rules` may grow while `pairs` is read (db/ numbers rules as
    rows come)."""
    rows: dict[int, Table] = {}  # every row, by length
    named: dict[str, list[int]] = {}
    count = 0
    for prefix, number in pairs:
        count += 1
        if is_digits(prefix) and len(prefix) <= KEYED:
            table = rows.get(len(prefix))
            if table is None:
                table = rows[len(prefix)] = (array("Q"), array("I"))
            table[0].append(int(prefix))
            table[1].append(number)
        else:
            named.setdefault(prefix, []).append(number)
    values = _Values(tuple(rules))
    digits = {length: _packed(*rows.pop(length), values) for length in sorted(rows)}
    return _finish(count, values, digits, named)


def pack_sorted(chunks: Iterable[tuple[list[str], list[str]]], rules: Sequence[Rate]) -> Packed:
    """The tables of a sheet read as db/ reads a big one: chunks of (prefixes, rule
    numbers as text), a row per rate, ordered by the prefix's length, then its text
    (so by key within a length), then sheet order. Taken in C-level passes (int(),
    array.extend, compress), with a Python step only per prefix of several rates:
    a million prefixes in about a second, where pack_rules takes a Python step or
    more per row."""
    values = _Values(tuple(rules))
    # The value of a prefix with one rule: the rule, or a group of it if conditional.
    single = [values.of([n]) if _conditional(rule) else n for n, rule in enumerate(values.rules)]
    digits: dict[int, Table] = {}
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
    count += sum(len(numbers) for numbers in named.values())
    packed = {
        length: _deduplicated(*digits.pop(length), single, values) for length in sorted(digits)
    }
    return _finish(count, values, packed, named)


class _Values:
    """The values of prefixes over `rules`, and the tuples of rules they number."""

    __slots__ = ("groups", "rules")

    def __init__(self, rules: tuple[Rate, ...]) -> None:
        self.rules = rules
        self.groups: dict[tuple[int, ...], int] = {}

    def of(self, numbers: list[int]) -> int:
        """A prefix's value: its rule's number when it has one rule that always applies,
        else GROUP + the number of its tuple of rules in precedence order."""
        if len(numbers) == 1 and not _conditional(self.rules[numbers[0]]):
            return numbers[0]
        ordered = tuple(_by_precedence(numbers, self.rules))
        return GROUP + self.groups.setdefault(ordered, len(self.groups))


def _finish(
    rows: int, values: _Values, digits: dict[int, Table], named: dict[str, list[int]]
) -> Packed:
    """The tables left once the digits' are packed: the other prefixes, groups, lengths."""
    entries = {prefix: values.of(numbers) for prefix, numbers in named.items()}
    groups = tuple(values.groups)
    names: dict[str, Entry] = {
        prefix: value if value < GROUP else groups[value - GROUP]
        for prefix, value in entries.items()
    }
    long_digits = [len(p) for p in names if is_digits(p)]
    lengths = _lengths([*digits, *long_digits])
    all_lengths = _lengths([*lengths, *map(len, names)])
    return Packed(rows, values.rules, digits, groups, names, lengths, all_lengths)


def _deduplicated(
    keys: array[int], numbers: array[int], single: list[int], values: _Values
) -> Table:
    """pack_sorted's keys of one length (sorted, a prefix of several rates repeated
    in a run) as one key per prefix and its value."""
    if all(map(lt, keys, islice(keys, 1, None))):  # a rate a prefix: the usual deck
        return keys, array("I", map(single.__getitem__, numbers))
    if not all(map(le, keys, islice(keys, 1, None))):  # not sorted: the general way
        return _packed(keys, numbers, values)
    repeats = list(compress(count_from(1), map(eq, keys, islice(keys, 1, None))))
    out = array("I", map(single.__getitem__, numbers))
    keep = bytearray(b"\x01") * len(keys)
    i = 0
    while i < len(repeats):
        j = i
        while j + 1 < len(repeats) and repeats[j + 1] == repeats[j] + 1:
            j += 1
        start, end = repeats[i] - 1, repeats[j] + 1  # the run of one prefix
        out[start] = values.of(list(numbers[start:end]))
        keep[start + 1 : end] = bytes(end - start - 1)
        i = j + 1
    return array("Q", compress(keys, keep)), array("I", compress(out, keep))


def _packed(keys: array[int], numbers: array[int], values: _Values) -> Table:
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
        out_values.append(values.of([numbers[order[n]] for n in range(i, j)]))
        i = j
    return out_keys, out_values


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
        if is_digits(prefix) and len(prefix) <= KEYED:
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
