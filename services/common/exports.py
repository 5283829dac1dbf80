"""The one writer of every CSV and XLSX file the product hands out.

Every export (accounts, PIN lots, rate decks, and whatever comes next: CDRs, invoices,
DIDs) builds its rows as plain values and calls `write_table`; nothing else in the
product writes CSV or XLSX. So a new export is protected by construction: it cannot
forget the neutralising rule, and it answers the same convention as the others.

The convention (docs/security.md, "Exports"): an export is an `ExportFile`: the file's
bytes (on the wire `xs:base64Binary`; zeep hands back `bytes`), a filename and a
content type. CSV is UTF-8, RFC 4180 (CRLF line ends, quotes doubled). XLSX holds one
worksheet of text cells only (money keeps its exact digits, PINs their leading zeros).

The neutralising rule (`neutralise`): a spreadsheet runs a cell that starts with
`=`, `+`, `-`, `@`, a tab or a carriage return as a formula (`=HYPERLINK(...)`,
DDE). Such a cell is written with a leading `'`, which spreadsheets show as a text
marker. A plain number (`-5.25`) is left alone: it is no formula. Cells that already
start with quotes before such a character get one more quote, so `restore` (used by
every importer) gives back exactly what was exported: export then import is the
identity, also for a destination named `=HYPERLINK(...)`.

This module is spyne-free: use cases may call it.
"""

from __future__ import annotations

import csv
import io
import itertools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal

from rating.errors import InvalidInput
from rating.model import Rate

FORMATS = ("csv", "xlsx")
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
# What a cell must start with to need neutralising (a quote: a quoted formula).
FORMULA_STARTS = frozenset("'=+-@\t\r")
_PLAIN_NUMBER = re.compile(r"[+-]?\d+(\.\d+)?")


@dataclass(frozen=True)
class ExportFile:
    filename: str
    content_type: str
    data: bytes


def _risky(text: str) -> bool:
    bare = text.lstrip("'")
    return bare.startswith(_TRIGGERS) and _PLAIN_NUMBER.fullmatch(bare) is None


def neutralise(text: str) -> str:
    """The cell as written to any CSV or XLSX: a leading `'` before what a spreadsheet
    would run as a formula."""
    if not text or text[0] not in FORMULA_STARTS:  # most cells: one character looked at
        return text
    return "'" + text if _risky(text) else text


def restore(text: str) -> str:
    """What `neutralise` was given: importers call this on every text cell."""
    return text[1:] if text.startswith("'") and _risky(text) else text


def restored_rates(rates: list[Rate]) -> list[Rate]:
    """A parsed rate deck with `restore` applied to its one free-text column."""
    return [
        r if not r.destination.startswith("'") else replace(r, destination=restore(r.destination))
        for r in rates
    ]


def cell_text(value: object) -> str:
    """A value as cell text: None is empty, a Decimal its plain digits (never `1E+2`)."""
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def write_table(
    fmt: str,
    name: str,
    header: Sequence[str],
    rows: Iterable[Sequence[object]],
) -> ExportFile:
    """`rows` under `header` as a `name`.csv or `name`.xlsx file, every cell neutralised."""
    if fmt not in FORMATS:
        raise InvalidInput(f"format: one of {', '.join(FORMATS)}")
    texts = ([cell_text(v) for v in row] for row in rows)
    if fmt == "csv":
        cells = ([neutralise(v) for v in row] for row in texts)
        data = _csv([neutralise(h) for h in header], cells)
    else:
        data = _xlsx(name, list(header), texts)
    return ExportFile(f"{name}.{fmt}", CONTENT_TYPES[fmt], data)


def _csv(header: list[str], rows: Iterable[list[str]]) -> bytes:
    out = io.StringIO()
    # "\r\n" (RFC 4180) also makes csv quote a cell holding a lone "\r".
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def _xlsx(name: str, header: list[str], rows: Iterable[list[str]]) -> bytes:
    # Imported here: services.common.xlsx imports `neutralise` from this module.
    from services.common.xlsx import write_xlsx

    # Every cell text (no numbers): money keeps its digits, PINs their zeros. The
    # writer neutralises each cell itself.
    buf = io.BytesIO()
    write_xlsx(buf, name, itertools.chain([header], rows))
    return buf.getvalue()
