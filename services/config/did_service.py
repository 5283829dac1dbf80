"""Configuration Manager, DIDs (admin logins only): the inventory of numbers bought
from providers. See docs/dids.md.

Faults: Client.AuthenticationFailed, Client.AccessDenied, Client.NotFound,
Client.AlreadyExists, Client.InvalidInput (an import names its bad line),
Client.SchemaValidationError, Server.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from spyne import Integer, ServiceBase, Unicode, rpc

from db.recurring_schema import CatalogService, Did
from db.session import UnitOfWork
from services.common.app import request
from services.common.wire import Auth, Limit, Offset, money, page_bounds, utc
from services.config import did_models as m
from services.dids import inventory

DidId = Integer(min_occurs=1, nillable=False)


def did_info(uow: UnitOfWork, did: Did) -> m.DidInfo:
    service = uow.session.get(CatalogService, did.service_id)
    assert service is not None
    price = inventory.admin_price(uow, did)
    return m.DidInfo(
        id=did.id,
        number=did.number,
        provider_id=did.provider_id,
        status=did.status,
        account_id=did.account_id,
        subscription_id=did.subscription_id,
        free_after=utc(did.free_after),
        destination_kind=did.destination_kind,
        destination=did.destination,
        setup_cost=money(service.cost_setup),
        monthly_cost=money(service.cost_price),
        inbound_cost=money(did.inbound_cost),
        setup_fee=money(price.setup_fee),
        monthly_fee=money(price.price),
        inbound_price=money(price.inbound_price),
    )


def _amounts(wire: Any) -> dict[str, Decimal]:
    return {
        name: getattr(wire, name)
        for name in inventory.AMOUNTS
        if getattr(wire, name, None) is not None
    }


class DidService(ServiceBase):
    __in_header__ = Auth

    @rpc(m.NewDid.customize(min_occurs=1, nillable=False), _returns=m.DidInfo)
    def CreateDid(ctx: Any, did: m.NewDid) -> m.DidInfo:
        """Add a number bought from a provider: its costs (what the provider charges:
        setup, monthly, per inbound minute) and the admin's prices for the level below
        (setup fee, monthly fee, inbound price per minute). The DID starts free."""
        req = request(ctx)
        new = inventory.NewDid(did.number, did.provider_id, **_amounts(did))
        return did_info(req.uow, inventory.create_did(req.uow, req.caller, new))

    @rpc(Unicode(min_occurs=1, nillable=False), _returns=Integer)
    def ImportDids(ctx: Any, csv: str) -> int:
        """Add many DIDs from CSV with a header: `number,provider_id` and any of
        setup_cost, monthly_cost, inbound_cost, setup_fee, monthly_fee, inbound_price.
        All or nothing: the first bad line is named (`line 3: ...`). Answers the count."""
        req = request(ctx)
        return inventory.import_dids(req.uow, req.caller, csv)

    @rpc(m.DidStatus, Unicode(max_len=32), Integer, Offset, Limit, _returns=m.DidPage)
    def ListDids(
        ctx: Any,
        status: str | None,
        prefix: str | None,
        provider_id: int | None,
        offset: int | None,
        limit: int | None,
    ) -> m.DidPage:
        """DIDs by number, filtered by status (free, assigned, quarantine), number
        prefix and provider; paged (limit 1..1000, default 100) with the total."""
        req = request(ctx)
        start, size = page_bounds(offset, limit)
        rows, total = inventory.list_dids(
            req.uow, req.caller, status, prefix, provider_id, start, size
        )
        return m.DidPage(items=[did_info(req.uow, d) for d in rows], total=total, offset=start)

    @rpc(DidId, _returns=m.DidInfo)
    def GetDid(ctx: Any, did_id: int) -> m.DidInfo:
        """One DID with its costs, prices, owner and destination."""
        req = request(ctx)
        return did_info(req.uow, inventory.get_did(req.uow, req.caller, did_id))

    @rpc(DidId, m.DidChanges.customize(min_occurs=1, nillable=False), _returns=m.DidInfo)
    def UpdateDid(ctx: Any, did_id: int, changes: m.DidChanges) -> m.DidInfo:
        """Change costs, the admin's prices or the provider (moving the number to
        another carrier). Periods and inbound calls charged already keep their amounts
        and provider; the new ones apply from the next period charged and to inbound
        calls rated from now on."""
        req = request(ctx)
        did = inventory.update_did(
            req.uow, req.caller, did_id, _amounts(changes), changes.provider_id
        )
        return did_info(req.uow, did)

    @rpc(DidId)
    def RemoveDid(ctx: Any, did_id: int) -> None:
        """Take a free DID out of the inventory (an assigned one: release it first)."""
        req = request(ctx)
        inventory.remove_did(req.uow, req.caller, did_id)
