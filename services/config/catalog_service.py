"""Configuration Manager, the catalogue of services (admin logins only): the operator's
own services with the provider's cost, and every reseller's services to look at.
Resellers manage their own in the reseller service. See docs/recurring.md.

Faults: Client.AuthenticationFailed, Client.AccessDenied, Client.NotFound,
Client.AlreadyExists, Client.InvalidInput, Client.SchemaValidationError, Server.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from spyne import Integer, ServiceBase, rpc

from db.recurring_schema import CatalogService, ServicePrice
from db.session import UnitOfWork
from services.common.app import request
from services.common.caller import require_role
from services.common.wire import Auth, Limit, Money, Offset, money, page_bounds
from services.config import catalog_models as m
from services.recurring import catalog, operator_catalog

Id = Integer(min_occurs=1, nillable=False)
ZERO = Decimal(0)


def service_info(uow: UnitOfWork, service: CatalogService) -> m.ServiceInfo:
    own = uow.session.get(ServicePrice, (service.id, service.owner_id))
    return m.ServiceInfo(
        id=service.id,
        owner_id=service.owner_id,
        name=service.name,
        period=service.period,
        unpaid_policy=service.unpaid_policy,
        provider_id=service.provider_id,
        cost_price=money(service.cost_price),
        cost_setup=money(service.cost_setup),
        price=money(own.price if own else ZERO),
        setup_fee=money(own.setup_fee if own else ZERO),
    )


class CatalogConfigService(ServiceBase):
    __in_header__ = Auth

    @rpc(m.NewService.customize(min_occurs=1, nillable=False), _returns=m.ServiceInfo)
    def CreateService(ctx: Any, service: m.NewService) -> m.ServiceInfo:
        """Add a service to the operator's catalogue, sold to the level below at
        `price` per period (daily, weekly, monthly, yearly) plus a one-time
        `setup_fee`; `provider_id`, `cost_price`, `cost_setup`: what the provider
        charges the operator (recorded as the operator's cost of each period).
        `unpaid_policy`: `suspend` (default) or `negative`."""
        req = request(ctx)
        require_role(req.caller, "admin")
        row = catalog.create_service(req.uow, req.caller, catalog.new_service(service))
        req.uow.commit()
        return service_info(req.uow, row)

    @rpc(Integer, Offset, Limit, _returns=m.ServicePage)
    def ListServices(
        ctx: Any, owner_id: int | None, offset: int | None, limit: int | None
    ) -> m.ServicePage:
        """Every service of the tree (the operator's and each reseller's own), or one
        owner's; paged (limit 1..1000, default 100) with the total. DIDs' rent is in
        ListDids."""
        req = request(ctx)
        start, size = page_bounds(offset, limit)
        rows, total = operator_catalog.list_all(req.uow, req.caller, owner_id, start, size)
        items = [service_info(req.uow, r) for r in rows]
        return m.ServicePage(items=items, total=total, offset=start)

    @rpc(Id, _returns=m.ServiceInfo)
    def GetService(ctx: Any, service_id: int) -> m.ServiceInfo:
        """One service with its provider's cost and its owner's price."""
        req = request(ctx)
        return service_info(req.uow, operator_catalog.get(req.uow, req.caller, service_id))

    @rpc(Id, m.ServiceChanges.customize(min_occurs=1, nillable=False), _returns=m.ServiceInfo)
    def UpdateService(ctx: Any, service_id: int, changes: m.ServiceChanges) -> m.ServiceInfo:
        """Change the name, unpaid policy or provider's cost of one of the operator's
        services; only the fields sent. Periods charged already keep their amounts."""
        req = request(ctx)
        cmd = operator_catalog.ServiceChanges(
            name=changes.name,
            unpaid_policy=changes.unpaid_policy,
            provider_id=changes.provider_id,
            cost_price=changes.cost_price,
            cost_setup=changes.cost_setup,
        )
        row = operator_catalog.update(req.uow, req.caller, service_id, cmd)
        req.uow.commit()
        return service_info(req.uow, row)

    @rpc(Id, Money.customize(min_occurs=1, nillable=False), Money, _returns=m.ServiceInfo)
    def SetServicePrice(
        ctx: Any, service_id: int, price: Decimal, setup_fee: Decimal | None
    ) -> m.ServiceInfo:
        """The operator's price of one of its services for the level below it (per
        period, and the setup fee). A reseller sets its own in the reseller service."""
        req = request(ctx)
        service = operator_catalog.get(req.uow, req.caller, service_id)
        catalog.set_price(req.uow, req.caller, service.id, price, setup_fee or ZERO)
        req.uow.commit()
        return service_info(req.uow, service)
