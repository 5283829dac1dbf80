"""Tables in as CSV or XLSX (openpyxl): the account import. Files out are written by
services/common/exports.py (the one writer); every cell read here goes through its
`restore`, so what we exported reads back unchanged. Rows are numbered as a spreadsheet
shows them: the header is line 1.

XLSX cells are read as values: a number cell is turned into its shortest text
(`10.5` -> "10.5"), so money written as a number in a spreadsheet is taken as shown.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal

from rating.errors import InvalidInput
from services.common.exports import restore

FORMATS = ("csv", "xlsx")
MAX_ROWS = 200_000


def read_table(fmt: str, data: bytes) -> Iterator[tuple[int, dict[str, str]]]:
    """(line, {column: text}) for every non-blank row after the header; column names
    are lower-cased and stripped."""
    if fmt == "csv":
        raw = _csv_rows(data)
    elif fmt == "xlsx":
        raw = _xlsx_rows(data)
    else:
        raise InvalidInput(f"format: one of {', '.join(FORMATS)}")
    header: list[str] | None = None
    for line, cells in raw:
        if header is None:
            header = [c.strip().lower() for c in cells]
            if len(set(header)) != len(header):
                raise InvalidInput("line 1: a column is named twice")
            continue
        if line > MAX_ROWS + 1:
            raise InvalidInput(f"line {line}: at most {MAX_ROWS} rows in one file")
        if not any(c.strip() for c in cells):
            continue
        if len(cells) > len(header):
            raise InvalidInput(f"line {line}: more cells than columns")
        yield (
            line,
            {
                h: (restore(cells[i].strip()) if i < len(cells) else "")
                for i, h in enumerate(header)
            },
        )
    if header is None:
        raise InvalidInput("line 1: the file is empty; a header row is needed")


def _csv_rows(data: bytes) -> Iterator[tuple[int, list[str]]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput("the file is not UTF-8 text") from None
    reader = csv.reader(io.StringIO(text))
    try:
        for row in reader:
            yield reader.line_num, row
    except csv.Error as e:
        raise InvalidInput(f"line {reader.line_num}: {e}") from None


def _xlsx_rows(data: bytes) -> Iterator[tuple[int, list[str]]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds for a broken file
        raise InvalidInput("the file is not a readable XLSX workbook") from None
    try:
        sheet = book.worksheets[0]
        for line, row in enumerate(sheet.iter_rows(values_only=True), start=1):
            yield line, [_cell_text(v) for v in row]
    finally:
        book.close()


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        # repr is the shortest text that reads back as the same float: 10.5, not 10.4999...
        return repr(value) if not value.is_integer() else str(int(value))
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal | int | str | bool):
        return str(value)
    return str(value)
