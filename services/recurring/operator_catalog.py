"""The operator's view of the catalogue (the config service, admin logins only): every
service of the tree, with what the provider charges for it, and changes to the
admin's own services. A reseller manages its own services in the reseller service
(services/recurring/catalog.py). Spyne-free."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select

from db.recurring_schema import CatalogService
from db.schema import Account, Provider
from db.session import UnitOfWork
from rating.errors import InvalidInput, NotFound
from services.common.caller import Caller, require_role
from services.recurring.catalog import check_amount, flush_renamed, rename_and_policy


@dataclass(frozen=True)
class ServiceChanges:
    """Only the fields given (not None) change. Periods charged already keep their
    amounts; the next periods are charged (and cost) at the new figures."""

    name: str | None = None
    unpaid_policy: str | None = None
    provider_id: int | None = None
    cost_price: Decimal | None = None
    cost_setup: Decimal | None = None


def list_all(
    uow: UnitOfWork, caller: Caller, owner_id: int | None, offset: int, limit: int
) -> tuple[list[CatalogService], int]:
    """Every service (not DIDs' rent: ListDids shows those) by id, or one owner's."""
    require_role(caller, "admin")
    where = [CatalogService.kind == "service"]
    if owner_id is not None:
        if uow.session.get(Account, owner_id) is None:
            raise NotFound(f"account {owner_id} not found")
        where.append(CatalogService.owner_id == owner_id)
    total = uow.session.scalar(select(func.count()).select_from(CatalogService).where(*where))
    rows = uow.session.scalars(
        select(CatalogService).where(*where).order_by(CatalogService.id).offset(offset).limit(limit)
    )
    return list(rows), int(total or 0)


def get(uow: UnitOfWork, caller: Caller, service_id: int) -> CatalogService:
    require_role(caller, "admin")
    service = uow.session.get(CatalogService, service_id)
    if service is None or service.kind != "service":
        raise NotFound(f"service {service_id} not found")
    return service


def update(
    uow: UnitOfWork, caller: Caller, service_id: int, changes: ServiceChanges
) -> CatalogService:
    """Change one of the admin's own services (a reseller's belongs to the reseller)."""
    service = get(uow, caller, service_id)
    if service.owner_id != caller.account_id:
        raise InvalidInput(f"service {service_id} is a reseller's own: only it may change it")
    rename_and_policy(service, changes.name, changes.unpaid_policy)
    if changes.provider_id is not None:
        if uow.session.get(Provider, changes.provider_id) is None:
            raise NotFound(f"provider {changes.provider_id} not found")
        service.provider_id = changes.provider_id
    if changes.cost_price is not None:
        service.cost_price = check_amount("cost_price", changes.cost_price)
    if changes.cost_setup is not None:
        service.cost_setup = check_amount("cost_setup", changes.cost_setup)
    flush_renamed(uow, service)
    return service
