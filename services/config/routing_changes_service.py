"""Configuration Manager: changing and retiring providers, trunks and routes (admin).
See docs/credit_control.md, "Changing and retiring".

Faults: Client.AuthenticationFailed, Client.AccessDenied, Client.NotFound,
Client.AlreadyExists, Client.InvalidInput (also: a retired one can't be changed),
Client.SchemaValidationError, Server.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from spyne import Integer, ServiceBase, rpc

from services.common.app import request
from services.common.wire import Auth, money
from services.config import routing_changes as uc
from services.config import routing_models as m
from services.config.routing_service import provider_info, route_info, route_links, trunk_info
from services.config.routing_usecases import route_trunks
from services.config.trunk_status import trunk_status

Id = Integer(min_occurs=1, nillable=False)


class RoutingChangesService(ServiceBase):
    __in_header__ = Auth

    @rpc(Id, m.ProviderChanges.customize(min_occurs=1, nillable=False), _returns=m.ProviderInfo)
    def UpdateProvider(ctx: Any, provider_id: int, changes: m.ProviderChanges) -> Any:
        """Change a provider's name, buy sheet (calls rated from now on) or status:
        active, disabled (its trunks leave routing at once, may come back) or retired
        (for good). Nothing is deleted: CDRs and charges keep pointing at it."""
        req = request(ctx)
        cmd = uc.ProviderChanges(changes.name, changes.buy_sheet_id, changes.status)
        return provider_info(uc.update_provider(req.uow, req.caller, provider_id, cmd))

    @rpc(Id, m.TrunkChanges.customize(min_occurs=1, nillable=False), _returns=m.TrunkInfo)
    def UpdateTrunk(ctx: Any, trunk_id: int, changes: m.TrunkChanges) -> Any:
        """Change a trunk's name, dial string, channel limit, SIP host or status. A
        disabled or retired trunk is offered to no call authorized after this answers,
        by any worker; calls already up on it are not cut."""
        req = request(ctx)
        cmd = uc.TrunkChanges(
            name=changes.name,
            dial_string=changes.dial_string,
            channel_limit=changes.channel_limit,
            clear_channel_limit=bool(changes.clear_channel_limit),
            sip_host=changes.sip_host,
            status=changes.status,
        )
        return trunk_info(uc.update_trunk(req.uow, req.caller, trunk_id, cmd))

    @rpc(Id, m.RouteChanges.customize(min_occurs=1, nillable=False), _returns=m.RouteInfo)
    def UpdateRoute(ctx: Any, route_id: int, changes: m.RouteChanges) -> Any:
        """Change a route's prefix, name, strategy, loss guard or status (a disabled
        route is passed over for the next shorter prefix); with `set_trunks`, its trunks
        become exactly `trunks` (order, priorities and weights)."""
        req = request(ctx)
        links = route_links(changes.trunks) if changes.set_trunks else None
        cmd = uc.RouteChanges(
            prefix=changes.prefix,
            name=changes.name,
            strategy=changes.strategy,
            allow_loss=changes.allow_loss,
            status=changes.status,
            trunks=links,
        )
        route = uc.update_route(req.uow, req.caller, route_id, cmd)
        return route_info(route, route_trunks(req.uow, [route.id]))

    @rpc(Id, _returns=m.TrunkStatus)
    def GetTrunkStatus(ctx: Any, trunk_id: int) -> m.TrunkStatus:
        """A trunk's consumption now: calls up, channel limit and channels held, ASR (%)
        and ACD (s) of the calls it carried that started in the last hour, and its
        provider cost of the calls started since 00:00 UTC today."""
        req = request(ctx)
        s = trunk_status(req.uow, req.caller, trunk_id, datetime.now(UTC))
        return m.TrunkStatus(
            trunk_id=s.trunk.id,
            name=s.trunk.name,
            status=s.trunk.status,
            channel_limit=s.trunk.channel_limit,
            calls_up=s.calls_up,
            channels_held=s.channels_held,
            calls_last_hour=s.calls_last_hour,
            answered_last_hour=s.answered_last_hour,
            asr=money(s.asr),
            acd=money(s.acd),
            cost_today=money(s.cost_today),
        )
