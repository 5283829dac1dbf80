"""Rate decks as .xlsx workbooks, read in memory (bytes in; no files).

Reading: the first worksheet; row 1 is the header (the deck's column names, any order),
every other row a rate, numbered as the spreadsheet numbers it. Empty cells right of the
header are ignored in the header; a value right of the last named column is refused.
Cells are turned into the deck's text by `cell_text`, exactly, before the text parser
(rating/tariffs.py) sees them, so every rule of a CSV deck holds here too.

Writing is services/common/exports.py's job (the one writer of every export): text
cells holding the CSV deck's text (rate_to_row), which read back as the same rates.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable, Iterator
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from rating.errors import InvalidInput, InvalidRateRow
from rating.model import Rate
from rating.tariffs import header_columns, parse_rate_table

__all__ = ["cell_text", "parse_rates_xlsx"]

_TIME_COLUMNS = frozenset({"time_from", "time_to"})
_HALF_SECOND = timedelta(microseconds=500_000)


def parse_rates_xlsx(data: bytes) -> list[Rate]:
    """The rates of an .xlsx deck; raises InvalidRateRow (line = spreadsheet row) on the
    first bad row, InvalidInput if `data` is not a workbook."""
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, ValueError, OSError):
        raise InvalidInput("not an .xlsx workbook (Office Open XML)") from None
    try:
        if not book.worksheets:
            raise InvalidInput("the workbook has no worksheet")
        rows = book.worksheets[0].iter_rows(values_only=True)
        header = list(next(rows, ()))
        while header and _is_empty(header[-1]):
            header.pop()
        names = [_header_name(value) for value in header]
        columns = header_columns(names)
        return parse_rate_table(columns, _text_rows(columns, rows))
    finally:
        book.close()


def _header_name(value: object) -> str:
    if not isinstance(value, str):
        raise InvalidRateRow(1, str(value), "a column name must be a text cell")
    return value


def _text_rows(
    columns: list[str], rows: Iterable[tuple[Any, ...]]
) -> Iterator[tuple[int, list[str | None]]]:
    width = len(columns)
    for line, values in enumerate(rows, start=2):
        cells = list(values)
        while len(cells) > width and _is_empty(cells[-1]):
            cells.pop()
        if len(cells) > width:
            raise InvalidRateRow(
                line, "", f"a value right of the last named column: {cells[width:]!r}"
            )
        yield (
            line,
            [cell_text(value, column, line) for value, column in zip(cells, columns, strict=False)],
        )


def _is_empty(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def cell_text(value: object, column: str, line: int) -> str | None:
    """The deck text of a spreadsheet cell, exactly; None for an empty cell.

    - text: as it is.
    - a whole number: its digits ("30").
    - any other number (Excel keeps every number as a binary double): the shortest
      decimal that reads back as that double, which is what Excel shows at full
      precision, so a typed 0.0125 is "0.0125". It is never rounded: a double that is
      not a short decimal (0.1 + 0.2 = 0.30000000000000004) keeps all its digits and
      the price parser refuses more than 6 decimals. A prefix must be a whole number.
    - a date: "2025-07-01"; a date and time: "2025-07-01T08:00:00" (UTC, like the text
      form without an offset); a time: "08:00:00". Excel keeps these as fractions of a
      day, so they are rounded to the nearest second. In time_from/time_to a date and
      time counts by its time of day.
    - TRUE/FALSE, durations and errors (#N/A) are refused.
    """
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        raise InvalidRateRow(line, column, f"{value} is a boolean, not a value of this column")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _float_text(value, column, line)
    if isinstance(value, datetime):
        moment = (value + _HALF_SECOND).replace(microsecond=0)
        if column in _TIME_COLUMNS:
            return moment.time().isoformat()
        return moment.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        rounded = datetime.combine(date(2000, 1, 1), value) + _HALF_SECOND
        return rounded.time().replace(microsecond=0).isoformat()
    raise InvalidRateRow(
        line, column, f"a {type(value).__name__} cell is not a value of this column"
    )


def _float_text(value: float, column: str, line: int) -> str:
    if value != value or value in (float("inf"), float("-inf")):
        raise InvalidRateRow(line, column, f"{value!r} is not a number")
    exact = Decimal(repr(value))  # repr: the shortest decimal that reads back as `value`
    if exact == exact.to_integral_value():
        return str(int(exact))
    if column == "prefix":
        raise InvalidRateRow(line, column, f"{value!r} is not a prefix of digits")
    return format(exact, "f")
