"""Rate decks as rows of text <-> Rate: CSV import and export, and rows from any table.

A deck is a header row naming its columns (any order, any case; RATE_COLUMNS lists them)
and one rate per row. `prefix` is required, and `price` or `tiers`; an empty cell takes
the Rate default. Values are text only: a float (from a spreadsheet reader) is refused,
since it may already have been rounded. An unknown column is refused rather than
ignored, so a misspelt "prce" cannot silently drop every price. Blank rows are skipped.
Two rows with the same prefix, time band and validity are refused: which one should win?
The prefix `*` is the catch-all row (docs/rates.md); `holidays` names a holiday calendar.

The first bad row stops the import with InvalidRateRow(line, column, problem); lines are
1-based and the header is line 1, so nothing of a deck is ever half-applied.
"""

from __future__ import annotations

import csv
import gc
import io
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import MISSING
from dataclasses import fields as dataclass_fields
from functools import partial
from typing import Any, Protocol, cast

from rating.checks import Problem, prefix_problem, rate_problem
from rating.errors import InvalidInput, InvalidRateRow
from rating.formats import (
    FieldError,
    format_datetime,
    format_decimal,
    format_tiers,
    format_time,
    format_weekdays,
    normalise_number,
    parse_datetime,
    parse_decimal,
    parse_int,
    parse_tiers,
    parse_time,
    parse_weekdays,
)
from rating.model import CATCH_ALL, ON_NET, Holidays, Rate

__all__ = [
    "RATE_COLUMNS",
    "header_columns",
    "parse_rate_rows",
    "parse_rate_table",
    "parse_rates_csv",
    "rate_to_row",
]

RATE_COLUMNS: tuple[str, ...] = (
    "prefix",
    "destination",
    "price",
    "tiers",
    "initial_increment",
    "increment",
    "connect_fee",
    "included_seconds",
    "free_below",
    "min_cost",
    "max_cost",
    "weekdays",
    "time_from",
    "time_to",
    "holidays",
    "valid_from",
    "valid_to",
)
_KNOWN = frozenset(RATE_COLUMNS)
_RANK = {column: rank for rank, column in enumerate(RATE_COLUMNS)}


def parse_holidays(text: str) -> Holidays:
    """A holiday calendar named in a deck: its dates come from the calendar itself."""
    if len(text) > 64 or not text.isprintable():
        raise FieldError(f"{text!r} is not a calendar name (printable, at most 64 characters)")
    return Holidays(text)


_PARSERS: dict[str, Callable[[str], object]] = {
    "prefix": normalise_number,
    "destination": str,
    "price": parse_decimal,
    "tiers": parse_tiers,
    "initial_increment": parse_int,
    "increment": parse_int,
    "connect_fee": parse_decimal,
    "included_seconds": parse_int,
    "free_below": parse_int,
    "min_cost": parse_decimal,
    "max_cost": parse_decimal,
    "weekdays": parse_weekdays,
    "time_from": parse_time,
    "time_to": partial(parse_time, end=True),
    "holidays": parse_holidays,
    "valid_from": parse_datetime,
    "valid_to": parse_datetime,
}

# Cells are text; None (an empty spreadsheet cell) reads as "". Anything else is refused
# at run time, floats above all.
Row = Mapping[str, str | None]


class _LineReader(Protocol):
    line_num: int

    def __iter__(self) -> Iterator[list[str]]: ...


def parse_rates_csv(text: str) -> list[Rate]:
    """The rates of a CSV deck; raises InvalidRateRow on the first bad row."""
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""), strict=True)
    try:
        header = next(reader, [])
        columns = _columns(header, line=1)
        with _gc_paused():
            return _parse_numbered(_csv_rows(reader, columns))
    except csv.Error as error:
        raise InvalidRateRow(reader.line_num, "", f"not valid CSV: {error}") from None


def parse_rate_rows(rows: Iterable[Row], first_line: int = 2) -> list[Rate]:
    """The rates of rows given as {column: text} (a spreadsheet's, say); `first_line` is
    the line number of the first row. Raises InvalidRateRow on the first bad row."""
    with _gc_paused():
        return _parse_numbered(_dict_rows(rows, first_line))


@contextmanager
def _gc_paused() -> Iterator[None]:
    """A million parsed rates are millions of new objects, none of them in a reference
    cycle: the cyclic collector would run hundreds of times over the growing heap for
    nothing (it took 40 % of the time). Reference counting still frees everything."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def header_columns(names: Iterable[object]) -> list[str]:
    """The canonical column names of a deck's header row (line 1); raises InvalidRateRow
    on an unknown, repeated or missing column."""
    return _columns(names, line=1)


def parse_rate_table(
    columns: Sequence[str], rows: Iterable[tuple[int, Sequence[str | None]]]
) -> list[Rate]:
    """The rates of a table (a spreadsheet's): `columns` as header_columns gives them,
    and each row as (its line number, its cells as text or None for an empty cell, at
    most one per column). Raises InvalidRateRow on the first bad row."""
    order = _canonical_order(list(columns))

    def numbered() -> Iterator[tuple[int, Row]]:
        for line, cells in rows:
            if len(cells) > len(columns):
                raise InvalidRateRow(line, "", "a value right of the last named column")
            if not any(cell is not None and cell.strip() for cell in cells):
                continue
            padded = list(cells) + [None] * (len(columns) - len(cells))
            yield line, {column: padded[i] for column, i in order}

    with _gc_paused():
        return _parse_numbered(numbered())


def rate_to_row(rate: Rate) -> dict[str, str]:
    """The row of `rate`, every column as text: parse_rate_rows reads it back equal."""
    return {
        "prefix": rate.prefix,
        "destination": rate.destination,
        "price": "" if rate.price is None else format_decimal(rate.price),
        "tiers": format_tiers(rate.tiers),
        "initial_increment": str(rate.initial_increment),
        "increment": str(rate.increment),
        "connect_fee": format_decimal(rate.connect_fee),
        "included_seconds": str(rate.included_seconds),
        "free_below": str(rate.free_below),
        "min_cost": format_decimal(rate.min_cost),
        "max_cost": "" if rate.max_cost is None else format_decimal(rate.max_cost),
        "weekdays": format_weekdays(rate.weekdays),
        "time_from": "" if rate.time_from is None else format_time(rate.time_from),
        "time_to": "" if rate.time_to is None else format_time(rate.time_to),
        "holidays": "" if rate.holidays is None else rate.holidays.name,
        "valid_from": "" if rate.valid_from is None else format_datetime(rate.valid_from),
        "valid_to": "" if rate.valid_to is None else format_datetime(rate.valid_to),
    }


def _columns(names: Iterable[object], line: int) -> list[str]:
    """The canonical column names of a header; refuses unknown, repeated and missing ones."""
    columns: list[str] = []
    for name in names:
        column = name.strip().lower() if isinstance(name, str) else ""
        if column not in _KNOWN:
            raise InvalidRateRow(
                line, str(name), f"unknown column; the columns are {', '.join(RATE_COLUMNS)}"
            )
        if column in columns:
            raise InvalidRateRow(line, column, "the column appears twice")
        columns.append(column)
    if "prefix" not in columns:
        raise InvalidRateRow(line, "prefix", "missing required column")
    if "price" not in columns and "tiers" not in columns:
        raise InvalidRateRow(line, "price", "missing required column: price or tiers")
    return columns


def _csv_rows(reader: _LineReader, columns: list[str]) -> Iterator[tuple[int, Row]]:
    order = _canonical_order(columns)
    line_num = reader.line_num
    for fields in reader:
        # csv counts physical lines; a quoted cell may span several, so a row's number
        # is the line after the previous row's last one.
        line, line_num = line_num + 1, reader.line_num
        if not "".join(fields).strip():
            continue
        if len(fields) != len(columns):
            missing = columns[len(fields)] if len(fields) < len(columns) else ""
            problem = f"{len(fields)} fields, but the header has {len(columns)} columns"
            raise InvalidRateRow(line, missing, problem)
        yield line, {column: fields[i] for column, i in order}


def _canonical_order(columns: list[str]) -> list[tuple[str, int]]:
    """(column, its index in the deck) in RATE_COLUMNS order."""
    return sorted(((c, i) for i, c in enumerate(columns)), key=lambda ci: _RANK[ci[0]])


def _dict_rows(rows: Iterable[Row], first_line: int) -> Iterator[tuple[int, Row]]:
    for line, row in enumerate(rows, start=first_line):
        columns = _columns(row.keys(), line)
        values = list(row.values())
        cells = {column: values[i] for column, i in _canonical_order(columns)}
        if all(
            value is None or (isinstance(value, str) and not value.strip())
            for value in cells.values()
        ):
            continue
        yield line, cells


def _parse_numbered(rows: Iterable[tuple[int, Row]]) -> list[Rate]:
    parse = _RowParser()
    rates: list[Rate] = []
    seen: dict[tuple[object, ...], int] = {}
    for line, row in rows:
        rate = parse(row, line)
        key = (
            rate.prefix,
            rate.weekdays,
            rate.time_from,
            rate.time_to,
            rate.holidays,
            rate.valid_from,
            rate.valid_to,
        )
        if key in seen:
            problem = f"same prefix, time band and validity as line {seen[key]}"
            raise InvalidRateRow(line, "prefix", problem)
        seen[key] = line
        rates.append(rate)
    return rates


_MISSING = object()
# Parsed cell values and checked terms are remembered up to this many of each: a deck
# repeats its prices, increments and bands over and over, but its size is not bounded.
_CACHE_LIMIT = 1 << 16


class _Parsed(dict[str, object]):
    """parse(text), remembered: `parsed[text]` is a dict lookup but the first time."""

    def __init__(self, parse: Callable[[str], object]) -> None:
        super().__init__()
        self.parse = parse

    def __missing__(self, text: str) -> object:
        value = self.parse(text)
        if len(self) < _CACHE_LIMIT:
            self[text] = value
        return value


class _RowParser:
    """Parses rows one by one, remembering what it has parsed.

    Every parsed value is immutable (Decimal, int, time, datetime, frozenset, tuple of
    Tier), so a text met before is not parsed again; and whether a rate's terms are
    billable depends on every field but the prefix and the destination, so rates that
    share their terms are checked once (the prefix is checked on every row). The result
    is the same as parsing and checking every cell of every row, 3 to 4 times faster.
    """

    def __init__(self) -> None:
        self._values = {
            column: _Parsed(parse)
            for column, parse in _PARSERS.items()
            if column not in ("prefix", "destination")  # parsed on every row
        }
        self._problems: dict[tuple[tuple[str, str], ...], Problem] = {}

    def __call__(self, row: Row, line: int) -> Rate:
        """The rate of `row`, whose columns come in RATE_COLUMNS order (so the first bad
        cell reported is the same whatever the order of the deck's columns)."""
        prefix: str | None = None
        destination = ""
        terms: dict[str, Any] = {}
        texts: list[tuple[str, str]] = []
        for column, value in row.items():
            if type(value) is str:
                text = value.strip()
            elif value is None:
                continue
            else:
                text = _cell(row, column, line)
            if not text:
                continue  # the Rate default
            if column == "prefix":
                try:
                    prefix = text if text in (CATCH_ALL, ON_NET) else normalise_number(text)
                except InvalidInput as error:
                    raise InvalidRateRow(line, column, str(error)) from None
            elif column == "destination":
                destination = text
            else:
                try:
                    terms[column] = self._values[column][text]
                except (FieldError, InvalidInput) as error:
                    raise InvalidRateRow(line, column, str(error)) from None
                texts.append((column, text))
        if prefix is None:
            raise InvalidRateRow(line, "prefix", "a prefix is required")
        rate = _new_rate(prefix, destination, terms)
        problem = prefix_problem(rate) or self._terms_problem(rate, tuple(texts))
        if problem:
            raise InvalidRateRow(line, *problem)
        return rate

    def _terms_problem(self, rate: Rate, key: tuple[tuple[str, str], ...]) -> Problem:
        # Keyed by the cells' text, not their values: 0.10 and 0.1 are equal Decimals,
        # but a problem's message quotes the value as the deck wrote it.
        problem = self._problems.get(key, _MISSING)
        if problem is _MISSING:
            # prefix_problem(rate) is None here, so this is the problem of the terms.
            problem = rate_problem(rate)
            if len(self._problems) < _CACHE_LIMIT:
                self._problems[key] = problem
        return cast(Problem, problem)


# A frozen dataclass's __init__ sets each of Rate's 16 fields through object.__setattr__,
# which was a third of the time of parsing a big deck; filling the instance's __dict__
# from the defaults gives the same object (a unit test compares the two).
_RATE_DEFAULTS = {f.name: f.default for f in dataclass_fields(Rate) if f.default is not MISSING}


def _new_rate(prefix: str, destination: str, terms: dict[str, Any]) -> Rate:
    rate = object.__new__(Rate)
    values = rate.__dict__
    values.update(_RATE_DEFAULTS)
    values.update(terms)
    values["prefix"] = prefix
    values["destination"] = destination
    return rate


def _cell(row: Row, column: str, line: int) -> str:
    value = row.get(column)
    if value is None:
        return ""
    if isinstance(value, float):
        raise InvalidRateRow(line, column, f"{value!r} is a float: give numbers as text, unrounded")
    if not isinstance(value, str):
        raise InvalidRateRow(line, column, f"must be text, not {type(value).__name__}")
    return value.strip()
