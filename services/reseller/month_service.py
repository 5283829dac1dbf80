"""Reseller Manager: services, subscriptions and DIDs (admin and reseller logins).
See docs/recurring.md and docs/dids.md.

Faults: Client.AuthenticationFailed, Client.AccessDenied, Client.NotFound (also
anything outside your subtree), Client.AlreadyExists, Client.InvalidInput,
Client.SchemaValidationError, Server.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from spyne import Integer, ServiceBase, Unicode, rpc

from db.recurring_schema import CatalogService, Subscription
from services.common.app import request
from services.common.wire import Auth, Limit, Money, Offset, UtcDateTime, money, page_bounds, utc
from services.dids import assignment
from services.recurring import catalog, subscriptions
from services.reseller import month_models as m

Id = Integer(min_occurs=1, nillable=False)
Required = UtcDateTime.customize(min_occurs=1, nillable=False)
ZERO = Decimal(0)


def _now() -> datetime:
    return datetime.now(UTC)


def _subscription(s: Subscription) -> m.SubscriptionInfo:
    return m.SubscriptionInfo(
        id=s.id,
        account_id=s.account_id,
        service_id=s.service_id,
        did_id=s.did_id,
        start=s.start,
        end=s.end,
        billing_day=s.billing_day,
        status=s.status,
        charged_through=s.charged_through,
    )


def _priced(p: assignment.PricedDid) -> m.AvailableDid:
    d = p.did
    return m.AvailableDid(
        id=d.id,
        number=d.number,
        status=d.status,
        account_id=d.account_id,
        destination_kind=d.destination_kind,
        destination=d.destination,
        free_after=utc(d.free_after),
        setup_fee=money(p.price.setup_fee if p.price else ZERO),
        monthly_fee=money(p.price.price if p.price else ZERO),
        inbound_price=money(p.price.inbound_price if p.price else ZERO),
    )


class MonthService(ServiceBase):
    __in_header__ = Auth

    @rpc(m.NewService.customize(min_occurs=1, nillable=False), _returns=m.ServiceInfo)
    def CreateService(ctx: Any, service: m.NewService) -> m.ServiceInfo:
        """Add a priced service to your catalogue, sold to your subtree at `price` per
        period (daily, weekly, monthly, yearly) plus a one-time `setup_fee`.
        `unpaid_policy`: `suspend` (default; a prepaid account that can't pay is
        suspended until a payment covers it) or `negative` (the balance may go below
        zero). `provider_id`/`cost_*`: the admin's only, the operator's own cost."""
        req = request(ctx)
        row = catalog.create_service(req.uow, req.caller, catalog.new_service(service))
        req.uow.commit()
        return self_info(req, row)

    @rpc(Offset, Limit, _returns=m.ServicePage)
    def ListServices(ctx: Any, offset: int | None, limit: int | None) -> m.ServicePage:
        """The services you may sell: yours and those of the levels above you, each
        with your selling price; paged (limit 1..1000, default 100) with the total."""
        req = request(ctx)
        start, size = page_bounds(offset, limit)
        rows, total = catalog.list_services(req.uow, req.caller, start, size)
        return m.ServicePage(items=[self_info(req, r) for r in rows], total=total, offset=start)

    @rpc(Id, Money.customize(min_occurs=1, nillable=False), Money, _returns=m.ServiceInfo)
    def SetServicePrice(
        ctx: Any, service_id: int, price: Decimal, setup_fee: Decimal | None
    ) -> m.ServiceInfo:
        """Your own price of a service for your subtree (what the level below you pays
        per period, and its setup fee)."""
        req = request(ctx)
        catalog.set_price(req.uow, req.caller, service_id, price, setup_fee or ZERO)
        req.uow.commit()
        return self_info(req, catalog.sellable_service(req.uow, req.caller, service_id))

    @rpc(Id, m.ServiceChanges.customize(min_occurs=1, nillable=False), _returns=m.ServiceInfo)
    def UpdateService(ctx: Any, service_id: int, changes: m.ServiceChanges) -> m.ServiceInfo:
        """Rename one of your own services or change its unpaid policy; only the
        fields sent. A service of a level above you is yours to resell, not to change
        (Client.AccessDenied)."""
        req = request(ctx)
        row = catalog.update_own(
            req.uow, req.caller, service_id, changes.name, changes.unpaid_policy
        )
        req.uow.commit()
        return self_info(req, row)

    @rpc(Id, Id, Required, Integer(ge=1, le=31), _returns=m.SubscriptionInfo)
    def Subscribe(
        ctx: Any, account_id: int, service_id: int, start: datetime, billing_day: int | None
    ) -> m.SubscriptionInfo:
        """Subscribe an account below you to a service from `start` (its UTC day).
        Monthly periods start on `billing_day` (default: the start's day; 29-31 fall on
        a short month's last day). The first period is prorated by the day."""
        req = request(ctx)
        sub = subscriptions.subscribe(
            req.uow, req.caller, account_id, service_id, start, billing_day
        )
        return _subscription(sub)

    @rpc(Id, Required, _returns=m.SubscriptionInfo)
    def Unsubscribe(ctx: Any, subscription_id: int, end: datetime) -> m.SubscriptionInfo:
        """End a subscription: `end`'s UTC day is the first day not paid. Unused days
        of a period charged already are credited at every level."""
        req = request(ctx)
        sub = subscriptions.unsubscribe(req.uow, req.caller, subscription_id, end, _now())
        return _subscription(sub)

    @rpc(Integer, Offset, Limit, _returns=m.SubscriptionPage)
    def ListSubscriptions(
        ctx: Any, account_id: int | None, offset: int | None, limit: int | None
    ) -> m.SubscriptionPage:
        """Subscriptions of your subtree (or of one account of it), DIDs' included;
        paged (limit 1..1000, default 100) with the total."""
        req = request(ctx)
        start, size = page_bounds(offset, limit)
        rows, total = subscriptions.list_subscriptions(req.uow, req.caller, account_id, start, size)
        return m.SubscriptionPage(items=[_subscription(s) for s in rows], total=total, offset=start)

    @rpc(Unicode(max_len=32), Offset, Limit, _returns=m.AvailableDidPage)
    def ListAvailableDids(
        ctx: Any, prefix: str | None, offset: int | None, limit: int | None
    ) -> m.AvailableDidPage:
        """Free DIDs (optionally by number prefix) with the price your level below
        would pay; paged (limit 1..1000, default 100) with the total."""
        req = request(ctx)
        start, size = page_bounds(offset, limit)
        rows, total = assignment.list_available(req.uow, req.caller, prefix, _now(), start, size)
        return m.AvailableDidPage(items=[_priced(p) for p in rows], total=total, offset=start)

    @rpc(Id, Money.customize(min_occurs=1, nillable=False), Money, Money, _returns=m.AvailableDid)
    def SetDidPrice(
        ctx: Any,
        did_id: int,
        monthly_fee: Decimal,
        setup_fee: Decimal | None,
        inbound_price: Decimal | None,
    ) -> m.AvailableDid:
        """Your own price of a DID for your subtree: monthly fee, setup fee, and the
        per-minute price of inbound calls."""
        req = request(ctx)
        now = _now()
        assignment.set_did_price(
            req.uow, req.caller, did_id, monthly_fee, setup_fee or ZERO, inbound_price or ZERO, now
        )
        return _priced_one(req, did_id, now)

    @rpc(Id, Id, _returns=m.AvailableDid)
    def AssignDid(ctx: Any, did_id: int, account_id: int) -> m.AvailableDid:
        """Give a free DID to an account below you. Its monthly subscription starts
        today (billing day: today), charged at every level at each level's price."""
        req = request(ctx)
        now = _now()
        assignment.assign_did(req.uow, req.caller, did_id, account_id, now)
        return _priced_one(req, did_id, now)

    @rpc(Id, Integer(ge=0, le=365), _returns=m.AvailableDid)
    def ReleaseDid(ctx: Any, did_id: int, quarantine_days: int | None) -> m.AvailableDid:
        """Take a DID back from its account: its subscription ends (today is the last
        day paid); the number is free again after `quarantine_days` (default 0)."""
        req = request(ctx)
        now = _now()
        did = assignment.release_did(req.uow, req.caller, did_id, quarantine_days or 0, now)
        return _priced(assignment.PricedDid(did, None))

    @rpc(
        Id,
        m.DestinationKind.customize(min_occurs=1),
        Unicode(min_occurs=1, max_len=80),
        _returns=m.AvailableDid,
    )
    def SetDidDestination(ctx: Any, did_id: int, kind: str, destination: str) -> m.AvailableDid:
        """Where calls to the DID go: `peer` (a SIP peer of its account), `extension`,
        or `external` (a number outside, called and charged to the DID's owner as an
        outbound call)."""
        req = request(ctx)
        now = _now()
        assignment.set_destination(req.uow, req.caller, did_id, kind, destination, now)
        return _priced_one(req, did_id, now)


def self_info(req: Any, service: CatalogService) -> m.ServiceInfo:
    price = catalog.price_for(req.uow, req.caller, service)
    bought = catalog.buy_price_for(req.uow, req.caller, service)
    return m.ServiceInfo(
        id=service.id,
        owner_id=service.owner_id,
        name=service.name,
        period=service.period,
        unpaid_policy=service.unpaid_policy,
        price=money(price.price if price else ZERO),
        setup_fee=money(price.setup_fee if price else ZERO),
        buy_price=money(bought.price) if bought else None,
        buy_setup_fee=money(bought.setup_fee) if bought else None,
    )


def _priced_one(req: Any, did_id: int, now: datetime) -> m.AvailableDid:
    did = assignment.visible_did(req.uow, req.caller, did_id, now)
    service = req.uow.session.get(CatalogService, did.service_id)
    return _priced(assignment.PricedDid(did, catalog.price_for(req.uow, req.caller, service)))
