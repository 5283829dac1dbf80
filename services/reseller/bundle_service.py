"""Reseller Manager, bundles (admin and reseller logins): what a level sells to the
accounts right below it, free seconds or calls per period, and who holds which. See
docs/bundles.md.

Faults: Client.AuthenticationFailed, Client.AccessDenied, Client.NotFound (also for
anything outside your subtree), Client.AlreadyExists, Client.InvalidInput,
Client.SchemaValidationError, Server.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from spyne import Integer, ServiceBase, rpc

from db.bundle_schema import AccountBundle, Bundle
from services.bundles import catalog
from services.common.app import request
from services.common.wire import Auth, Limit, Offset, UtcDateTime, page_bounds
from services.reseller import bundle_models as m

Id = Integer(min_occurs=1, nillable=False)
Required = UtcDateTime.customize(min_occurs=1, nillable=False)


def _bundle(b: Bundle) -> m.BundleInfo:
    return m.BundleInfo(
        id=b.id,
        owner_id=b.owner_id,
        name=b.name,
        unit=b.unit,
        quantity=b.quantity,
        period=b.period,
        prefixes=list(catalog.prefix_list(b.prefixes)),
        per_second=b.per_second,
        carry_over=b.carry_over,
        inbound=b.inbound,
        service_id=b.service_id,
    )


def _held(h: AccountBundle, name: str) -> m.AccountBundleInfo:
    return m.AccountBundleInfo(
        id=h.id,
        account_id=h.account_id,
        bundle_id=h.bundle_id,
        name=name,
        position=h.position,
        start=h.start,
        end=h.end,
        subscription_id=h.subscription_id,
    )


class BundleService(ServiceBase):
    __in_header__ = Auth

    @rpc(m.NewBundle.customize(min_occurs=1, nillable=False), _returns=m.BundleInfo)
    def CreateBundle(ctx: Any, bundle: m.NewBundle) -> m.BundleInfo:
        """A bundle you sell to the accounts right below you: `quantity` seconds (or
        calls) per period (daily, weekly, monthly) to the destinations of `prefixes`
        (none: every destination). Its price is the service `service_id`, if given."""
        req = request(ctx)
        new = catalog.NewBundle(
            name=bundle.name,
            quantity=bundle.quantity,
            unit=bundle.unit or "seconds",
            period=bundle.period or "monthly",
            prefixes=tuple(bundle.prefixes or ()),
            per_second=bool(bundle.per_second),
            carry_over=bool(bundle.carry_over),
            inbound=bool(bundle.inbound),
            service_id=bundle.service_id,
        )
        return _bundle(catalog.create_bundle(req.uow, req.caller, new))

    @rpc(Offset, Limit, _returns=m.BundlePage)
    def ListBundles(ctx: Any, offset: int | None, limit: int | None) -> m.BundlePage:
        """Your own bundles, by id; paged (limit 1..1000, default 100) with the total."""
        req = request(ctx)
        start, size = page_bounds(offset, limit)
        rows, total = catalog.list_bundles(req.uow, req.caller, start, size)
        return m.BundlePage(items=[_bundle(b) for b in rows], total=total, offset=start)

    @rpc(Id, Id, Integer(ge=0, le=1000), Required, _returns=m.AccountBundleInfo)
    def AssignBundle(
        ctx: Any, account_id: int, bundle_id: int, position: int | None, start: datetime
    ) -> m.AccountBundleInfo:
        """Give one of your bundles to an account right below you from `start` (its UTC
        day; monthly periods start on that day of the month). `position` orders the
        account's bundles (consumed lowest first; default: after the others)."""
        req = request(ctx)
        held = catalog.assign(req.uow, req.caller, account_id, bundle_id, position, start)
        return _held(held, catalog.own_bundle(req.uow, req.caller, bundle_id).name)

    @rpc(Id, Required, _returns=m.AccountBundleInfo)
    def UnassignBundle(ctx: Any, account_bundle_id: int, end: datetime) -> m.AccountBundleInfo:
        """End an account's bundle: `end`'s UTC day is the first day without it (and its
        subscription ends with it)."""
        req = request(ctx)
        now = datetime.now(UTC)
        held = catalog.unassign(req.uow, req.caller, account_bundle_id, end, now)
        return _held(held, catalog.own_bundle(req.uow, req.caller, held.bundle_id).name)

    @rpc(Id, Offset, Limit, _returns=m.AccountBundlePage)
    def ListAccountBundles(
        ctx: Any, account_id: int, offset: int | None, limit: int | None
    ) -> m.AccountBundlePage:
        """An account's bundles (one below you), in the order they are consumed, ended
        ones included; paged (limit 1..1000, default 100) with the total."""
        req = request(ctx)
        start, size = page_bounds(offset, limit)
        rows, total = catalog.list_account_bundles(req.uow, req.caller, account_id, start, size)
        return m.AccountBundlePage(
            items=[_held(h, b.name) for h, b in rows], total=total, offset=start
        )
