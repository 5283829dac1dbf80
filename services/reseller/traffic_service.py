"""Reseller Manager: live calls and traffic figures of your own subtree.

Faults: Client.AuthenticationFailed, Client.AccessDenied, Client.InvalidInput,
Client.SchemaValidationError, Server.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from spyne import ServiceBase, Unicode, rpc

from services.cdr import traffic as usecases
from services.common.app import request
from services.common.traffic_wire import live_page, make_types, traffic
from services.common.wire import Auth, Limit, Offset, UtcDateTime, as_utc, page_bounds
from services.reseller.models import TNS

types = make_types(TNS)
Group = Unicode(values=list(usecases.GROUPS), min_occurs=1, nillable=False)
Moment = UtcDateTime.customize(min_occurs=1, nillable=False)


class ResellerTrafficService(ServiceBase):
    __in_header__ = Auth

    @rpc(Offset, Limit, _returns=types.LiveCallPage)
    def GetLiveCalls(ctx: Any, offset: int | None, limit: int | None) -> Any:
        """The calls of your subtree up right now, oldest first, a page at a time, with
        the number of calls per account, per trunk and per reseller below you."""
        req = request(ctx)
        first, count = page_bounds(offset, limit)
        return live_page(types, usecases.live_calls(req.uow, req.caller, first, count), first)

    @rpc(
        Moment,
        Moment,
        Unicode(values=list(usecases.GROUPS), min_occurs=1),
        Offset,
        Limit,
        _returns=types.TrafficStats,
    )
    def GetTrafficStats(
        ctx: Any,
        start: datetime,
        end: datetime,
        group_by: str,
        offset: int | None,
        limit: int | None,
    ) -> Any:
        """Your subtree's calls that started in [start, end), grouped by trunk, account
        or destination: calls, answered, ASR (%), ACD (s), PDD (s), billed minutes,
        revenue (what your customers and sub-resellers paid you), cost (what you paid)
        and profit; a page of the groups at a time (limit 1 to 1000, default 100)."""
        req = request(ctx)
        first, count = page_bounds(offset, limit)
        rows, total = usecases.traffic_stats(
            req.uow, req.caller, as_utc(start), as_utc(end), group_by, first, count
        )
        return traffic(types, group_by, rows, total, first)
