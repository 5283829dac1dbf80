"""The catalogue of priced services: the admin's, and those a reseller sells to its own
subtree at its own price. Spyne-free."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from db.recurring_schema import CatalogService, ServicePrice
from db.schema import Provider
from db.session import UnitOfWork
from rating.errors import AccessDenied, AlreadyExists, InvalidInput, NotFound
from rating.periods import PERIODS
from services.common.caller import Caller, require_role
from services.recurring.levels import path_ids

POLICIES = ("suspend", "negative")
ZERO = Decimal(0)


@dataclass(frozen=True)
class NewService:
    name: str
    period: str = "monthly"
    price: Decimal = ZERO
    setup_fee: Decimal = ZERO
    unpaid_policy: str = "suspend"
    provider_id: int | None = None
    cost_price: Decimal = ZERO
    cost_setup: Decimal = ZERO


def new_service(fields: Any) -> NewService:
    """A NewService from the wire's (either service's NewService type): what the caller
    left out takes its default."""
    return NewService(
        name=fields.name,
        period=fields.period or "monthly",
        price=fields.price or ZERO,
        setup_fee=fields.setup_fee or ZERO,
        unpaid_policy=fields.unpaid_policy or "suspend",
        provider_id=fields.provider_id,
        cost_price=fields.cost_price or ZERO,
        cost_setup=fields.cost_setup or ZERO,
    )


def check_amount(name: str, value: Decimal) -> Decimal:
    if value < 0 or value > Decimal("1000000000"):
        raise InvalidInput(f"{name}: 0 to 1,000,000,000")
    return value


def create_service(
    uow: UnitOfWork, caller: Caller, new: NewService, kind: str = "service"
) -> CatalogService:
    require_role(caller, "admin", "reseller")
    name = new.name.strip()
    if not name or len(name) > 128:
        raise InvalidInput("name: 1 to 128 characters")
    if new.period not in PERIODS:
        raise InvalidInput(f"period: one of {', '.join(PERIODS)}")
    if new.unpaid_policy not in POLICIES:
        raise InvalidInput(f"unpaid_policy: one of {', '.join(POLICIES)}")
    if new.provider_id is not None:
        if not caller.is_admin:
            raise AccessDenied("only the admin's services carry a provider's cost")
        if uow.session.get(Provider, new.provider_id) is None:
            raise NotFound(f"provider {new.provider_id} not found")
    service = CatalogService(
        owner_id=caller.account_id,
        name=name,
        kind=kind,
        period=new.period,
        unpaid_policy=new.unpaid_policy,
        provider_id=new.provider_id,
        cost_price=check_amount("cost_price", new.cost_price),
        cost_setup=check_amount("cost_setup", new.cost_setup),
    )
    uow.session.add(service)
    try:
        uow.session.flush()
    except IntegrityError:
        raise AlreadyExists(f"a service named {name!r} exists already") from None
    uow.session.add(
        ServicePrice(
            service_id=service.id,
            seller_id=caller.account_id,
            price=check_amount("price", new.price),
            setup_fee=check_amount("setup_fee", new.setup_fee),
        )
    )
    uow.session.flush()
    return service


def rename_and_policy(service: CatalogService, name: str | None, policy: str | None) -> None:
    """The changes any owner may make to its own service (only those given)."""
    if name is not None:
        name = name.strip()
        if not name or len(name) > 128:
            raise InvalidInput("name: 1 to 128 characters")
        service.name = name
    if policy is not None:
        if policy not in POLICIES:
            raise InvalidInput(f"unpaid_policy: one of {', '.join(POLICIES)}")
        service.unpaid_policy = policy


def update_own(
    uow: UnitOfWork, caller: Caller, service_id: int, name: str | None, policy: str | None
) -> CatalogService:
    """A reseller's change to a service of its own: its name, its unpaid policy (the
    next periods' decisions follow it; periods charged already stay as they are). A
    service of a level above is the caller's to resell, not to change."""
    require_role(caller, "admin", "reseller")
    service = sellable_service(uow, caller, service_id)
    if service.kind != "service":
        raise NotFound(f"service {service_id} not found")
    if service.owner_id != caller.account_id:
        raise AccessDenied(f"service {service_id} belongs to its seller: only it may change it")
    rename_and_policy(service, name, policy)
    flush_renamed(uow, service)
    return service


def flush_renamed(uow: UnitOfWork, service: CatalogService) -> None:
    """Flush a change of `service`; a name its owner uses already is AlreadyExists."""
    name = service.name  # read now: a failed flush expires the object
    try:
        uow.session.flush()
    except IntegrityError:
        raise AlreadyExists(f"a service named {name!r} exists already") from None


def sellable_service(uow: UnitOfWork, caller: Caller, service_id: int) -> CatalogService:
    """A service the caller owns or may resell (its owner is the caller or above it)."""
    service = uow.session.get(CatalogService, service_id)
    if service is None or service.owner_id not in path_ids(caller.path):
        raise NotFound(f"service {service_id} not found")
    return service


def set_price(
    uow: UnitOfWork,
    caller: Caller,
    service_id: int,
    price: Decimal,
    setup_fee: Decimal,
    inbound_price: Decimal = ZERO,
) -> ServicePrice:
    """The caller's own price of a service for the level below it."""
    require_role(caller, "admin", "reseller")
    service = sellable_service(uow, caller, service_id)
    row = uow.session.get(ServicePrice, (service.id, caller.account_id))
    if row is None:
        row = ServicePrice(service_id=service.id, seller_id=caller.account_id)
        uow.session.add(row)
    row.price = check_amount("price", price)
    row.setup_fee = check_amount("setup_fee", setup_fee)
    row.inbound_price = check_amount("inbound_price", inbound_price)
    uow.session.flush()
    return row


def price_for(uow: UnitOfWork, caller: Caller, service: CatalogService) -> ServicePrice | None:
    """The price the caller sells at: its own, else the nearest one above it."""
    return _nearest_price(uow, path_ids(caller.path), service)


def buy_price_for(uow: UnitOfWork, caller: Caller, service: CatalogService) -> ServicePrice | None:
    """What the caller pays for a service it resells: the price of its nearest seller
    above it; None for its own service (and for the admin, who buys from nobody)."""
    above = path_ids(caller.path)[:-1]
    if service.owner_id not in above:
        return None
    return _nearest_price(uow, above, service)


def _nearest_price(
    uow: UnitOfWork, chain: list[int], service: CatalogService
) -> ServicePrice | None:
    """The price row of the last seller of `chain` (root first) that set one."""
    rows = {
        p.seller_id: p
        for p in uow.session.scalars(
            select(ServicePrice).where(ServicePrice.service_id == service.id)
        )
    }
    return next((rows[a] for a in reversed(chain) if a in rows), None)


def list_services(
    uow: UnitOfWork, caller: Caller, offset: int, limit: int
) -> tuple[list[CatalogService], int]:
    """The services the caller may sell (its own and those of the levels above it)."""
    require_role(caller, "admin", "reseller")
    where = (CatalogService.owner_id.in_(path_ids(caller.path)), CatalogService.kind == "service")
    total = uow.session.scalar(select(func.count()).select_from(CatalogService).where(*where))
    rows = uow.session.scalars(
        select(CatalogService).where(*where).order_by(CatalogService.id).offset(offset).limit(limit)
    )
    return list(rows), int(total or 0)
