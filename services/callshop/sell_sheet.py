"""The shop's sell sheet: the prices it charges walk-in customers, which it edits
itself (a CSV deck, the same format and all-or-nothing rules as ImportRates)."""

from __future__ import annotations

from db import schema
from db.rates import rate_page
from db.session import UnitOfWork
from rating import parse_rates_csv
from services.callshop.shops import sell_sheet_id, shop_account, shop_settings
from services.common.caller import Caller
from services.config.usecases import ImportResult, load_rates


def import_sell_rates(
    uow: UnitOfWork, caller: Caller, csv_text: str, replace: bool
) -> ImportResult:
    session = uow.session
    shop = shop_account(session, caller)
    rates = parse_rates_csv(csv_text)  # a bad row is refused before anything is made
    settings = shop_settings(session, shop, create=True)
    assert settings is not None
    sheet = session.get(schema.RateSheet, settings.sell_sheet_id)
    assert sheet is not None  # foreign key
    return load_rates(uow, sheet, rates, replace)


def list_sell_rates(
    uow: UnitOfWork, caller: Caller, prefix: str, offset: int, limit: int
) -> tuple[int, list[schema.Rate], int]:
    """(the sell sheet's id, one page of its rates, how many in all)."""
    session = uow.session
    sheet_id = sell_sheet_id(session, shop_account(session, caller))
    rows, total = rate_page(session, sheet_id, prefix, offset, limit)
    return sheet_id, rows, total
