"""Configuration Manager: live calls, traffic figures and re-rating (admin logins).

Faults: Client.AuthenticationFailed, Client.AccessDenied, Client.NotFound,
Client.InvalidInput, Client.SchemaValidationError, Server.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from spyne import Boolean, ComplexModel, Integer, ServiceBase, Unicode, rpc

from services.cdr import traffic as usecases
from services.cdr.rerate import rerate_cdrs
from services.cdr.usecases import CdrFilter
from services.common.app import request
from services.common.caller import require_role
from services.common.traffic_wire import live_page, make_types, traffic
from services.common.wire import Auth, Limit, Money, Offset, UtcDateTime, as_utc, money, page_bounds
from services.config.models import TNS

types = make_types(TNS)
Group = Unicode(values=list(usecases.GROUPS), min_occurs=1, nillable=False)
Moment = UtcDateTime.customize(min_occurs=1, nillable=False)


class RerateResult(ComplexModel):
    __namespace__ = TNS
    examined = Integer
    rated = Integer
    still_unrated = Integer
    adjusted = Integer
    unchanged = Integer
    failed = Integer
    difference = Money


class TrafficService(ServiceBase):
    __in_header__ = Auth

    @rpc(Offset, Limit, _returns=types.LiveCallPage)
    def GetLiveCalls(ctx: Any, offset: int | None, limit: int | None) -> Any:
        """The calls up right now (kept by the AMI listener), oldest first, a page at a
        time, with the number of calls per account, per trunk and per reseller."""
        req = request(ctx)
        require_role(req.caller, "admin")  # resellers: the reseller service's GetLiveCalls
        first, count = page_bounds(offset, limit)
        return live_page(types, usecases.live_calls(req.uow, req.caller, first, count), first)

    @rpc(Moment, Moment, Group, Offset, Limit, _returns=types.TrafficStats)
    def GetTrafficStats(
        ctx: Any,
        start: datetime,
        end: datetime,
        group_by: str,
        offset: int | None,
        limit: int | None,
    ) -> Any:
        """Calls that started in [start, end), grouped by trunk, account or destination:
        calls, answered, ASR (%), ACD (s), PDD (s, start to answer), billed minutes,
        revenue (what your customers and resellers paid), cost (what you paid the
        providers) and profit; a page of the groups at a time (limit 1 to 1000,
        default 100)."""
        req = request(ctx)
        require_role(req.caller, "admin")  # resellers: the reseller service's own
        first, count = page_bounds(offset, limit)
        rows, total = usecases.traffic_stats(
            req.uow, req.caller, as_utc(start), as_utc(end), group_by, first, count
        )
        return traffic(types, group_by, rows, total, first)

    @rpc(Integer, UtcDateTime, UtcDateTime, Boolean, _returns=RerateResult)
    def RerateCdrs(
        ctx: Any,
        account_id: int | None,
        start_from: datetime | None,
        start_to: datetime | None,
        include_rated: bool | None,
    ) -> RerateResult:
        """Price stored CDRs again: the unrated ones (charged now if they can be), and
        with include_rated the rated ones too, after a rate correction: only the
        difference per level is booked to the ledger (kind adjustment). Filter by
        account (its subtree) and start time ([start_from, start_to)). `difference` is
        what the customers were booked in total (negative: charged more)."""
        req = request(ctx)
        flt = CdrFilter(account_id, as_utc(start_from), as_utc(start_to))
        r = rerate_cdrs(req.uow, req.caller, flt, bool(include_rated))
        return RerateResult(
            examined=r.examined,
            rated=r.rated,
            still_unrated=r.still_unrated,
            adjusted=r.adjusted,
            unchanged=r.unchanged,
            failed=r.failed,
            difference=money(r.difference),
        )
