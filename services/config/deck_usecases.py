"""Rate decks out (CSV, .xlsx) and .xlsx decks in (admin). No spyne here."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from db.rate_bulk import stored_rates
from db.session import UnitOfWork
from rating.errors import InvalidInput
from rating.tariffs import RATE_COLUMNS, rate_to_row
from services.common.caller import Caller
from services.common.exports import ExportFile, write_table
from services.config.usecases import ImportResult, admin_sheet, load_rates

FORMATS = ("csv", "xlsx")


@dataclass(frozen=True)
class Deck:
    sheet_id: int
    format: str
    file: ExportFile
    rate_count: int
    version: int


def export_rates(uow: UnitOfWork, caller: Caller, sheet_id: int, fmt: str) -> Deck:
    """The sheet's rates by prefix, every column, in a deck that ImportRates (or
    ImportRatesXlsx) with `replace` turns back into the identical sheet."""
    if fmt not in FORMATS:
        raise InvalidInput(f"format: one of {', '.join(FORMATS)}")
    sheet = admin_sheet(uow, caller, sheet_id)
    rates = stored_rates(uow.session, sheet.id)
    rows = (list(rate_to_row(rate).values()) for rate in rates)
    file = write_table(fmt, f"sheet-{sheet.id}", RATE_COLUMNS, rows)
    return Deck(sheet.id, fmt, file, len(rates), sheet.version)


def import_rates_xlsx(
    uow: UnitOfWork, caller: Caller, sheet_id: int, xlsx_base64: str, replace: bool
) -> ImportResult:
    """Load an .xlsx rate deck (base64), with the rules of ImportRates: all or nothing,
    a bad row reported with its spreadsheet row number and column."""
    from rating.xlsx import parse_rates_xlsx  # openpyxl: 0.2 s more for every worker

    sheet = admin_sheet(uow, caller, sheet_id)
    try:
        data = base64.b64decode("".join(xlsx_base64.split()), validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput("xlsx: not valid base64") from None
    return load_rates(uow, sheet, parse_rates_xlsx(data), replace)
