"""Rate decks as rows of text <-> Rate: CSV import and export, and rows from any table.

A deck is a header row naming its columns (any order, any case; RATE_COLUMNS lists them)
and one rate per row. `prefix` is required, and `price` or `tiers`; an empty cell takes
the Rate default. Values are text only: a float (from a spreadsheet reader) is refused,
since it may already have been rounded. An unknown column is refused rather than
ignored, so a misspelt "prce" cannot silently drop every price. Blank rows are skipped.
Two rows with the same prefix, time band and validity are refused: which one should win?

The first bad row stops the import with InvalidRateRow(line, column, problem); lines are
1-based and the header is line 1, so nothing of a deck is ever half-applied.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator, Mapping
from functools import partial
from typing import Any, Protocol

from rating.checks import rate_problem
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
from rating.model import Rate

__all__ = [
    "RATE_COLUMNS",
    "format_rates_csv",
    "parse_rate_rows",
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
    "valid_from",
    "valid_to",
)
_KNOWN = frozenset(RATE_COLUMNS)

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
        return _parse_numbered(_csv_rows(reader, columns))
    except csv.Error as error:
        raise InvalidRateRow(reader.line_num, "", f"not valid CSV: {error}") from None


def parse_rate_rows(rows: Iterable[Row], first_line: int = 2) -> list[Rate]:
    """The rates of rows given as {column: text} (a spreadsheet's, say); `first_line` is
    the line number of the first row. Raises InvalidRateRow on the first bad row."""
    return _parse_numbered(_dict_rows(rows, first_line))


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
        "valid_from": "" if rate.valid_from is None else format_datetime(rate.valid_from),
        "valid_to": "" if rate.valid_to is None else format_datetime(rate.valid_to),
    }


def format_rates_csv(rates: Iterable[Rate]) -> str:
    """A CSV deck of `rates` with every column, which parse_rates_csv reads back."""
    out = io.StringIO()
    # The csv default "\r\n" (RFC 4180) also makes it quote a cell holding a lone "\r".
    writer = csv.DictWriter(out, fieldnames=RATE_COLUMNS)
    writer.writeheader()
    writer.writerows(rate_to_row(rate) for rate in rates)
    return out.getvalue()


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
    line_num = reader.line_num
    for fields in reader:
        # csv counts physical lines; a quoted cell may span several, so a row's number
        # is the line after the previous row's last one.
        line, line_num = line_num + 1, reader.line_num
        if not any(field.strip() for field in fields):
            continue
        if len(fields) != len(columns):
            missing = columns[len(fields)] if len(fields) < len(columns) else ""
            problem = f"{len(fields)} fields, but the header has {len(columns)} columns"
            raise InvalidRateRow(line, missing, problem)
        yield line, dict(zip(columns, fields, strict=True))


def _dict_rows(rows: Iterable[Row], first_line: int) -> Iterator[tuple[int, Row]]:
    for line, row in enumerate(rows, start=first_line):
        columns = _columns(row.keys(), line)
        cells = dict(zip(columns, row.values(), strict=True))
        if all(
            value is None or (isinstance(value, str) and not value.strip())
            for value in cells.values()
        ):
            continue
        yield line, cells


def _parse_numbered(rows: Iterable[tuple[int, Row]]) -> list[Rate]:
    rates: list[Rate] = []
    seen: dict[tuple[object, ...], int] = {}
    for line, row in rows:
        rate = _parse_row(row, line)
        key = (
            rate.prefix,
            rate.weekdays,
            rate.time_from,
            rate.time_to,
            rate.valid_from,
            rate.valid_to,
        )
        if key in seen:
            problem = f"same prefix, time band and validity as line {seen[key]}"
            raise InvalidRateRow(line, "prefix", problem)
        seen[key] = line
        rates.append(rate)
    return rates


def _parse_row(row: Row, line: int) -> Rate:
    fields: dict[str, Any] = {}
    for column in RATE_COLUMNS:
        text = _cell(row, column, line)
        if not text:
            continue  # the Rate default
        try:
            fields[column] = _PARSERS[column](text)
        except (FieldError, InvalidInput) as error:
            raise InvalidRateRow(line, column, str(error)) from None
    if "prefix" not in fields:
        raise InvalidRateRow(line, "prefix", "a prefix is required")
    rate = Rate(**fields)
    problem = rate_problem(rate)
    if problem:
        raise InvalidRateRow(line, *problem)
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
