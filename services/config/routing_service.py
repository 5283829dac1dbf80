"""Configuration Manager, routing (admin logins only): providers, trunks, routes, and
TestRoute for debugging them. See docs/credit_control.md.

Faults: Client.AuthenticationFailed, Client.AccessDenied, Client.NotFound,
Client.AlreadyExists, Client.InvalidInput, Client.SchemaValidationError, Server.
"""

from __future__ import annotations

from typing import Any

from spyne import Integer, ServiceBase, Unicode, rpc

from db import schema
from services.common.app import request
from services.common.wire import Auth, Limit, Offset, money, page_bounds
from services.config import routing_models as m
from services.config import routing_usecases as usecases
from services.credit.routing import TrunkChoice


def provider_info(p: schema.Provider) -> m.ProviderInfo:
    return m.ProviderInfo(id=p.id, name=p.name, buy_sheet_id=p.buy_sheet_id, status=p.status)


def trunk_info(t: schema.Trunk) -> m.TrunkInfo:
    return m.TrunkInfo(
        id=t.id,
        provider_id=t.provider_id,
        name=t.name,
        dial_string=t.dial_string,
        channel_limit=t.channel_limit,
        status=t.status,
        sip_host=t.sip_host,
    )


def route_info(r: schema.Route, links: list[schema.RouteTrunk]) -> m.RouteInfo:
    return m.RouteInfo(
        id=r.id,
        prefix=r.prefix,
        name=r.name,
        strategy=r.strategy,
        allow_loss=r.allow_loss,
        status=r.status,
        trunks=[
            m.RouteTrunk(trunk_id=x.trunk_id, priority=x.priority, weight=x.weight) for x in links
        ],
    )


def route_links(trunks: list[m.RouteTrunk] | None) -> tuple[usecases.RouteTrunkLink, ...]:
    return tuple(
        usecases.RouteTrunkLink(
            trunk_id=t.trunk_id,
            priority=t.priority or 0,
            weight=1 if t.weight is None else t.weight,
        )
        for t in trunks or []
    )


def _routed(c: TrunkChoice, excluded: str) -> m.RoutedTrunk:
    return m.RoutedTrunk(
        trunk_id=c.trunk_id,
        name=c.name,
        provider_id=c.provider_id,
        provider=c.provider,
        dial_string=c.dial_string,
        buy_cost=money(c.buy_cost),
        channel_limit=c.channel_limit,
        channels_in_use=c.channels_in_use,
        excluded=excluded,
    )


class RoutingService(ServiceBase):
    __in_header__ = Auth

    @rpc(m.Name, Integer, _returns=m.ProviderInfo)
    def CreateProvider(ctx: Any, name: str, buy_sheet_id: int | None) -> m.ProviderInfo:
        """A termination provider; `buy_sheet_id` is the rate sheet it charges us by
        (what LCR orders trunks by and what a call's buy cost is rated at)."""
        req = request(ctx)
        return provider_info(usecases.create_provider(req.uow, req.caller, name, buy_sheet_id))

    @rpc(Offset, Limit, _returns=m.ProviderList)
    def ListProviders(ctx: Any, offset: int | None, limit: int | None) -> m.ProviderList:
        """The providers by id, a page at a time (limit 1 to 1000, default 100)."""
        req = request(ctx)
        first, count = page_bounds(offset, limit)
        rows, total = usecases.list_providers(req.uow, req.caller, first, count)
        return m.ProviderList(items=[provider_info(p) for p in rows], total=total, offset=first)

    @rpc(m.NewTrunk.customize(min_occurs=1, nillable=False), _returns=m.TrunkInfo)
    def CreateTrunk(ctx: Any, trunk: m.NewTrunk) -> m.TrunkInfo:
        """A trunk of a provider. `dial_string` is what Asterisk's Dial gets, with
        ${NUMBER} where the number goes (PJSIP/${NUMBER}@carrier1); `channel_limit`
        caps the calls authorized over it at once (empty: no limit). With `sip_host`
        (the provider's host name or IP, port 5060) the trunk is provisioned to
        Asterisk as the PJSIP endpoint named like the trunk, so the dial string is
        PJSIP/${NUMBER}@<name>, and calls from that host arrive as the trunk's."""
        req = request(ctx)
        row = usecases.create_trunk(
            req.uow,
            req.caller,
            trunk.provider_id,
            trunk.name,
            trunk.dial_string,
            trunk.channel_limit,
            sip_host=trunk.sip_host or "",
        )
        return trunk_info(row)

    @rpc(Offset, Limit, _returns=m.TrunkList)
    def ListTrunks(ctx: Any, offset: int | None, limit: int | None) -> m.TrunkList:
        """The trunks by id, a page at a time (limit 1 to 1000, default 100)."""
        req = request(ctx)
        first, count = page_bounds(offset, limit)
        rows, total = usecases.list_trunks(req.uow, req.caller, first, count)
        return m.TrunkList(items=[trunk_info(t) for t in rows], total=total, offset=first)

    @rpc(m.NewRoute.customize(min_occurs=1, nillable=False), _returns=m.RouteInfo)
    def CreateRoute(ctx: Any, route: m.NewRoute) -> m.RouteInfo:
        """A route: numbers starting with `prefix` (the longest matching prefix wins;
        empty = the default route) go to `trunks` in the order of `strategy`: lcr
        (default; cheapest buy cost first), priority (ascending), balance (even use,
        by weight), quality (best ASR, then ACD, over the last 24 h). Trunks dearer than
        the operator's sell price are left out unless `allow_loss`."""
        req = request(ctx)
        cmd = usecases.NewRoute(
            prefix=route.prefix or "",
            name=route.name or "",
            strategy=route.strategy or "lcr",
            allow_loss=bool(route.allow_loss),
            trunks=route_links(route.trunks),
        )
        row = usecases.create_route(req.uow, req.caller, cmd)
        return route_info(row, usecases.route_trunks(req.uow, [row.id]))

    @rpc(Offset, Limit, _returns=m.RouteList)
    def ListRoutes(ctx: Any, offset: int | None, limit: int | None) -> m.RouteList:
        """The routes with their trunks, by prefix, a page at a time (limit 1 to 1000,
        default 100)."""
        req = request(ctx)
        first, count = page_bounds(offset, limit)
        rows, total = usecases.list_routes(req.uow, req.caller, first, count)
        return m.RouteList(items=[route_info(r, xs) for r, xs in rows], total=total, offset=first)

    @rpc(
        Unicode(min_occurs=1, nillable=False, min_len=1, max_len=40),
        Integer,
        _returns=m.RouteTest,
    )
    def TestRoute(ctx: Any, number: str, account_id: int | None) -> m.RouteTest:
        """The trunks a call to `number` would be offered now, in dialling order, each
        with the buy cost of a one-minute call, then the trunks left out with why
        (inactive, no buy rate, loss, channel limit). With `account_id`, the loss guard
        compares with that account's operator sell price (`sell_cost`). Reserves
        nothing."""
        req = request(ctx)
        plan = usecases.try_route(req.uow, req.caller, number, account_id)
        return m.RouteTest(
            route_id=plan.route_id,
            prefix=plan.prefix,
            strategy=plan.strategy,
            allow_loss=plan.allow_loss,
            sell_cost=money(plan.sell_cost),
            trunks=[_routed(c, "") for c in plan.trunks]
            + [_routed(c, why) for c, why in plan.excluded],
        )
