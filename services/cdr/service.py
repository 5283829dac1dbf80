"""CDR service: call history for call shops and third-party web sites.

Faults: Client.AuthenticationFailed, Client.NotFound, Client.InvalidInput,
Client.SchemaValidationError, Server.
"""

from __future__ import annotations

from typing import Any

from spyne import Integer, ServiceBase, rpc

from db.schema import Cdr
from rating.errors import InvalidInput
from services.cdr import models, usecases
from services.common.app import request
from services.common.wire import (
    Auth,
    Limit,
    Offset,
    UtcDateTime,
    as_utc,
    money,
    page_bounds,
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
