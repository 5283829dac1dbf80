"""CDR service: call history for call shops and third-party web sites.

Faults: Client.AuthenticationFailed, Client.NotFound, Client.InvalidInput,
Client.SchemaValidationError, Server.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from spyne import Integer, ServiceBase, Unicode, rpc

from db.schema import Cdr
from rating.errors import InvalidInput
from services.cdr import exports, models, summary, usecases
from services.common.app import request
from services.common.wire import (
    Auth,
    Limit,
    Offset,
    UtcDateTime,
    as_utc,
    money,
    page_bounds,
    report_asked,
    utc,
)


def _cdr_info(c: Cdr) -> models.CdrInfo:
    return models.CdrInfo(
        id=c.id,
        uniqueid=c.uniqueid,
        sequence=None if c.sequence < 0 else c.sequence,
        linkedid=c.linkedid,
        account_id=c.account_id,
        accountcode=c.accountcode,
        src=c.src,
        dst=c.dst,
        callerid=c.callerid,
        start_time=utc(c.start_time),
        answer_time=utc(c.answer_time),
        end_time=utc(c.end_time),
        duration=c.duration,
        billsec=c.billsec,
        disposition=c.disposition,
        status=c.status,
        unrated_reason=c.unrated_reason,
        prefix=c.prefix,
        destination=c.destination,
        billed_seconds=c.billed_seconds,
        cost=money(c.cost),
        exact_cost=money(c.exact_cost),
        source=c.source,
    )


class CdrService(ServiceBase):
    __in_header__ = Auth

    @rpc(Integer, UtcDateTime, UtcDateTime, Offset, Limit, _returns=models.CdrPage)
    def ListCdrs(
        ctx: Any,
        account_id: int | None,
        start_from: Any,
        start_to: Any,
        offset: int | None,
        limit: int | None,
    ) -> models.CdrPage:
        """Calls you may see, newest first, a page at a time (limit 1 to 1000, default
        100): the admin all, a reseller its subtree's, a customer its own. Filters:
        `account_id` (that account and its subtree), start time from (inclusive) and
        to (exclusive). `cost` is what the account itself was charged."""
        req = request(ctx)
        if start_from is not None and start_to is not None and start_to <= start_from:
            raise InvalidInput("start_to: must be after start_from")
        first, count = page_bounds(offset, limit)
        flt = usecases.CdrFilter(
            account_id=account_id, start_from=as_utc(start_from), start_to=as_utc(start_to)
        )
        rows, total = usecases.list_cdrs(req.uow, req.caller, flt, first, count)
        return models.CdrPage(items=[_cdr_info(c) for c in rows], total=total, offset=first)

    @rpc(
        Integer,
        UtcDateTime,
        UtcDateTime,
        Unicode(values=list(exports.FORMATS), min_occurs=1, nillable=False),
        Integer(ge=0),
        Integer(ge=1, le=exports.MAX_PART),
        _returns=models.CdrExport,
    )
    def ExportCdrs(
        ctx: Any,
        account_id: int | None,
        start_from: Any,
        start_to: Any,
        format: str,
        after_id: int | None,
        limit: int | None,
    ) -> models.CdrExport:
        """The calls you may see (filters as ListCdrs) as a file: `csv`, `txt` (fixed
        columns, for call-shop tools) or `xlsx`, oldest first, one part of at most
        `limit` calls (default 50,000, at most 100,000) with an id above `after_id`.
        Ask again with `after_id = next_after_id` until `next_after_id` is empty. Text
        cells starting with = + - @ are prefixed with ' (no formulas)."""
        req = request(ctx)
        flt = exports.ExportFilter(account_id, as_utc(start_from), as_utc(start_to))
        part = exports.export_cdrs(req.uow, req.caller, flt, format, after_id, limit)
        return models.CdrExport(
            filename=f"cdrs-{(after_id or 0) + 1}.{format}",
            content_type=exports.CONTENT_TYPES[format],
            data=part.data,
            rows=part.rows,
            next_after_id=part.next_after_id,
        )

    @rpc(
        Integer,
        UtcDateTime(min_occurs=1, nillable=False),
        UtcDateTime(min_occurs=1, nillable=False),
        Unicode(values=list(summary.GROUPS)),
        _returns=models.CallSummary,
    )
    def GetCallSummary(
        ctx: Any, account_id: int | None, period_start: Any, period_end: Any, group_by: str | None
    ) -> models.CallSummary:
        """The calls you may see (as ListCdrs) started in [period_start, period_end),
        grouped by `day` (UTC, the default), `destination` or `account`: calls,
        answered calls, seconds talked, seconds billed and cost (what each call's
        account was charged), with the totals."""
        req = request(ctx)
        report = report_asked(account_id, period_start, period_end, group_by)
        lines = summary.call_summary(req.uow, req.caller, report)
        return models.CallSummary(
            group_by=report.group_by,
            calls=sum(x.calls for x in lines),
            answered=sum(x.answered for x in lines),
            billsec=sum(x.billsec for x in lines),
            cost=money(sum((x.cost for x in lines), Decimal(0))),
            lines=[
                models.CallSummaryLine(
                    key=x.key,
                    calls=x.calls,
                    answered=x.answered,
                    billsec=x.billsec,
                    billed_seconds=x.billed_seconds,
                    cost=money(x.cost),
                )
                for x in lines
            ],
        )
