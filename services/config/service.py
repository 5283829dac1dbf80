"""Configuration Manager (admin logins only): rate sheets and rate decks.

Faults: Client.AuthenticationFailed, Client.AccessDenied, Client.NotFound,
Client.AlreadyExists, Client.InvalidInput (a bad rate row names its line and column),
Client.SchemaValidationError, Server.
"""

from __future__ import annotations

from typing import Any

from spyne import Boolean, Integer, ServiceBase, Unicode, rpc

from db import schema
from services.common.app import request
from services.common.wire import Auth, Limit, Offset, money, page_bounds, utc
from services.config import models, usecases

SheetId = Integer(min_occurs=1, nillable=False)
# A million-row deck is ~40 MB of CSV; the WSGI body limit is raised to match.
CsvText = Unicode(min_occurs=1, nillable=False)


def sheet_info(sheet: schema.RateSheet, rate_count: int) -> models.RateSheetInfo:
    return models.RateSheetInfo(
        id=sheet.id,
        name=sheet.name,
        currency=sheet.currency,
        decimals=sheet.decimals,
        rounding=sheet.rounding,
        block_mode=sheet.block_mode,
        timezone=sheet.timezone,
        version=sheet.version,
        rate_count=rate_count,
    )


def _rate_info(r: schema.Rate) -> models.RateInfo:
    return models.RateInfo(
        id=r.id,
        prefix=r.prefix,
        destination=r.destination,
        price=money(r.price),
        tiers=r.tiers,
        initial_increment=r.initial_increment,
        increment=r.increment,
        connect_fee=money(r.connect_fee),
        included_seconds=r.included_seconds,
        free_below=r.free_below,
        min_cost=money(r.min_cost),
        max_cost=money(r.max_cost),
        weekdays=r.weekdays,
        time_from=r.time_from,
        time_to=r.time_to,
        holidays=r.holidays,
        valid_from=utc(r.valid_from),
        valid_to=utc(r.valid_to),
    )


class ConfigService(ServiceBase):
    __in_header__ = Auth

    @rpc(models.NewRateSheet.customize(min_occurs=1, nillable=False), _returns=models.RateSheetInfo)
    def CreateRateSheet(ctx: Any, sheet: models.NewRateSheet) -> models.RateSheetInfo:
        """Create an empty rate sheet owned by the admin. Defaults: USD, 4 decimals,
        half_up rounding, first_block, UTC (the zone its time bands are read in)."""
        req = request(ctx)
        cmd = usecases.NewRateSheet(
            name=sheet.name,
            currency=sheet.currency or "USD",
            decimals=4 if sheet.decimals is None else sheet.decimals,
            rounding=sheet.rounding or "half_up",
            block_mode=sheet.block_mode or "first_block",
            timezone=sheet.timezone or "UTC",
        )
        return sheet_info(usecases.create_rate_sheet(req.uow, req.caller, cmd), 0)

    @rpc(Offset, Limit, _returns=models.RateSheetList)
    def ListRateSheets(ctx: Any, offset: int | None, limit: int | None) -> models.RateSheetList:
        """The rate sheets by id with their number of rates, a page at a time (limit 1
        to 1000, default 100)."""
        req = request(ctx)
        first, count = page_bounds(offset, limit)
        sheets, total = usecases.list_rate_sheets(req.uow, req.caller, first, count)
        return models.RateSheetList(
            items=[sheet_info(s, n) for s, n in sheets], total=total, offset=first
        )

    @rpc(SheetId, CsvText, Boolean, _returns=models.ImportResult)
    def ImportRates(ctx: Any, sheet_id: int, csv: str, replace: bool | None) -> Any:
        """Load a CSV rate deck. The header row names the columns, in any order:
        prefix, destination, price, tiers, initial_increment, increment, connect_fee,
        included_seconds, free_below, min_cost, max_cost, weekdays, time_from, time_to,
        valid_from, valid_to (prefix and price or tiers are required). All or nothing:
        a bad row answers Client.InvalidInput naming its line and column. With
        `replace` the sheet becomes exactly the file; otherwise rows with the same
        prefix, band and valid_from are replaced and the others added."""
        req = request(ctx)
        r = usecases.import_rates(req.uow, req.caller, sheet_id, csv, bool(replace))
        return models.ImportResult(
            sheet_id=r.sheet_id, imported=r.imported, removed=r.removed, version=r.version
        )

    @rpc(SheetId, Unicode(max_len=32), Offset, Limit, _returns=models.RatePage)
    def ListRates(
        ctx: Any, sheet_id: int, prefix: str | None, offset: int | None, limit: int | None
    ) -> models.RatePage:
        """The rates of a sheet by prefix, a page at a time (limit 1 to 1000, default
        100), optionally only those whose prefix starts with `prefix`."""
        req = request(ctx)
        first, count = page_bounds(offset, limit)
        rows, total = usecases.list_rates(req.uow, req.caller, sheet_id, prefix or "", first, count)
        return models.RatePage(items=[_rate_info(r) for r in rows], total=total, offset=first)
