"""Reseller Manager: price lists and profit (admin and reseller logins).

Faults: Client.AuthenticationFailed, Client.AccessDenied (a sheet you pay by is not
yours to change), Client.NotFound (also sheets and accounts outside your subtree),
Client.AlreadyExists, Client.BelowCost (a price below what you pay for the prefix;
send `force` to accept it), Client.InvalidInput, Client.SchemaValidationError, Server.
"""

from __future__ import annotations

from typing import Any

from spyne import Boolean, Integer, ServiceBase, Unicode, rpc

from db.schema import RateSheet
from services.common.app import request
from services.common.wire import (
    Auth,
    Limit,
    Money,
    Offset,
    UtcDateTime,
    as_utc,
    money,
    page_bounds,
    price_fields,
)
from services.reseller import manager_models as m
from services.reseller import profit_usecases, sheets_usecases
from services.reseller.accounts_service import account_details

SheetId = Integer(min_occurs=1, nillable=False)


def _sheet(s: RateSheet, count: int) -> m.SheetInfo:
    return m.SheetInfo(
        id=s.id,
        owner_id=s.owner_id,
        name=s.name,
        currency=s.currency,
        version=s.version,
        rate_count=count,
    )


class SheetsService(ServiceBase):
    __in_header__ = Auth

    @rpc(Offset, Limit, _returns=m.SheetList)
    def ListSheets(ctx: Any, offset: int | None, limit: int | None) -> m.SheetList:
        """The sheets owned in your subtree and the sheet you pay by, by id, a page at a
        time (limit 1 to 1000, default 100)."""
        req = request(ctx)
        first, count = page_bounds(offset, limit)
        rows, total = sheets_usecases.list_sheets(req.uow, req.caller, first, count)
        return m.SheetList(items=[_sheet(s, n) for s, n in rows], total=total, offset=first)

    @rpc(SheetId, Unicode(max_len=32), Offset, Limit, _returns=m.SheetRatePage)
    def ListSheetRates(
        ctx: Any, sheet_id: int, prefix: str | None, offset: int | None, limit: int | None
    ) -> m.SheetRatePage:
        """The rates of a sheet you may read, by prefix, a page at a time."""
        req = request(ctx)
        first, count = page_bounds(offset, limit)
        rows, total = sheets_usecases.list_sheet_rates(
            req.uow, req.caller, sheet_id, prefix or "", first, count
        )
        items = [m.SheetRate(**price_fields(r)) for r in rows]
        return m.SheetRatePage(items=items, total=total, offset=first)

    @rpc(
        SheetId,
        Unicode(min_occurs=1, nillable=False, min_len=1, max_len=128),
        Money,
        Money,
        Boolean,
        _returns=m.SheetInfo,
    )
    def CopySheet(
        ctx: Any,
        source_sheet_id: int,
        name: str,
        markup_percent: Any,
        markup_per_minute: Any,
        force: bool | None,
    ) -> m.SheetInfo:
        """A new sheet of yours: the rates of `source_sheet_id` (usually the sheet you
        pay by) with price * (1 + markup_percent/100) + markup_per_minute, tiers too;
        fees and blocks as they are. A negative markup below your cost is BelowCost."""
        req = request(ctx)
        sheet, count = sheets_usecases.copy_sheet(
            req.uow,
            req.caller,
            source_sheet_id,
            name,
            markup_percent or 0,
            markup_per_minute or 0,
            bool(force),
        )
        return _sheet(sheet, count)

    @rpc(SheetId, Unicode(min_occurs=1, nillable=False), Boolean, Boolean, _returns=m.SheetInfo)
    def SetRates(
        ctx: Any, sheet_id: int, csv: str, replace: bool | None, force: bool | None
    ) -> m.SheetInfo:
        """Add or change rates of a sheet of your subtree from CSV (the columns of the
        config service's ImportRates); a row replaces the rates of its prefix. With
        `replace` the sheet becomes exactly the file. All or nothing."""
        req = request(ctx)
        sheet, count = sheets_usecases.set_rates(
            req.uow, req.caller, sheet_id, csv, bool(replace), bool(force)
        )
        return _sheet(sheet, count)

    @rpc(Integer(min_occurs=1, nillable=False), SheetId, _returns=m.AccountDetails)
    def AssignSheet(ctx: Any, account_id: int, sheet_id: int) -> m.AccountDetails:
        """Make an account below you pay by a sheet of yours (or of your subtree above
        it), or by the sheet you pay by."""
        req = request(ctx)
        return account_details(
            sheets_usecases.assign_sheet(req.uow, req.caller, account_id, sheet_id)
        )

    @rpc(
        Integer,
        UtcDateTime(min_occurs=1, nillable=False),
        UtcDateTime(min_occurs=1, nillable=False),
        Unicode(values=list(profit_usecases.GROUPS)),
        _returns=m.ProfitReport,
    )
    def GetProfit(
        ctx: Any, account_id: int | None, period_start: Any, period_end: Any, group_by: str | None
    ) -> m.ProfitReport:
        """For a level (you, or a reseller below you) and the calls started in
        [period_start, period_end): what its children paid, what it paid itself, and
        the profit, in total and by day (UTC), destination or child account; outbound
        calls, calls to DIDs (`inbound_*`) and recurring fees (`recurring_*`, the
        periods starting in the period) apart."""
        req = request(ctx)
        group = group_by or "total"
        start, end = as_utc(period_start), as_utc(period_end)
        assert start is not None and end is not None  # min_occurs=1, nillable=False
        report = profit_usecases.get_profit(req.uow, req.caller, account_id, start, end, group)
        out, inb, rec = report.outbound, report.inbound, report.recurring
        return m.ProfitReport(
            account_id=report.account_id,
            group_by=group,
            children_paid=money(out.children_paid),
            paid=money(out.paid),
            profit=money(out.profit),
            lines=[
                m.ProfitLine(
                    key=x.key,
                    calls=x.outbound.count,
                    children_paid=money(x.outbound.children_paid),
                    paid=money(x.outbound.paid),
                    profit=money(x.outbound.profit),
                    inbound_calls=x.inbound.count,
                    inbound_children_paid=money(x.inbound.children_paid),
                    inbound_paid=money(x.inbound.paid),
                    inbound_profit=money(x.inbound.profit),
                )
                for x in report.lines
            ],
            inbound_children_paid=money(inb.children_paid),
            inbound_paid=money(inb.paid),
            inbound_profit=money(inb.profit),
            recurring_charges=rec.count,
            recurring_children_paid=money(rec.children_paid),
            recurring_paid=money(rec.paid),
            recurring_profit=money(rec.profit),
            total_profit=money(report.profit),
            currency=report.currency,
        )
