"""Changing and retiring providers, trunks and routes (admin). No spyne here.

Nothing a CDR, charge or invoice points at is ever deleted: a provider, trunk or route
is `disabled` (out of routing, may come back) or `retired` (out for good: a retired
one can't be changed any more). Every change bumps the routing version stamp in its
own transaction (database triggers: db/routing_triggers.py), so a worker that caches
routes drops them at its next request; routing itself reads the statuses in the
Authorize transaction, so a disabled trunk is offered to no call authorized after the
change answers, in any worker.
Each change is in the audit log through the session hooks (services/common/audit.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from db import schema
from db.session import UnitOfWork
from rating import normalise_number
from rating.errors import AlreadyExists, InvalidInput, NotFound
from services.common.caller import Caller, require_role
from services.config.routing_usecases import (
    PLACEHOLDER,
    STRATEGIES,
    RouteTrunkLink,
    check_links,
    clean_host,
    clean_name,
)

STATUSES = ("active", "disabled", "retired")


@dataclass(frozen=True)
class ProviderChanges:
    name: str | None = None
    buy_sheet_id: int | None = None
    status: str | None = None


@dataclass(frozen=True)
class TrunkChanges:
    name: str | None = None
    dial_string: str | None = None
    # channel_limit: None = unchanged; clear_channel_limit removes the limit.
    channel_limit: int | None = None
    clear_channel_limit: bool = False
    sip_host: str | None = None
    status: str | None = None


@dataclass(frozen=True)
class RouteChanges:
    prefix: str | None = None
    name: str | None = None
    strategy: str | None = None
    allow_loss: bool | None = None
    status: str | None = None
    trunks: tuple[RouteTrunkLink, ...] | None = None  # given: replaces the route's trunks


def update_provider(
    uow: UnitOfWork, caller: Caller, provider_id: int, changes: ProviderChanges
) -> schema.Provider:
    require_role(caller, "admin")
    provider = _get(uow, schema.Provider, provider_id, "provider")
    _status(provider, changes.status)
    if changes.name is not None:
        provider.name = clean_name(changes.name)
    if changes.buy_sheet_id is not None:
        if uow.session.get(schema.RateSheet, changes.buy_sheet_id) is None:
            raise NotFound(f"rate sheet {changes.buy_sheet_id} not found")
        # Buy costs already stored on CDRs and provider charges keep the old sheet's.
        provider.buy_sheet_id = changes.buy_sheet_id
    return _commit(uow, provider, f"a provider named {changes.name!r} already exists")


def update_trunk(
    uow: UnitOfWork, caller: Caller, trunk_id: int, changes: TrunkChanges
) -> schema.Trunk:
    require_role(caller, "admin")
    trunk = _get(uow, schema.Trunk, trunk_id, "trunk")
    _status(trunk, changes.status)
    if changes.name is not None:
        trunk.name = clean_name(changes.name)
    if changes.dial_string is not None:
        dial = changes.dial_string.strip()
        if PLACEHOLDER not in dial or len(dial) > 255:
            raise InvalidInput(f"dial_string: up to 255 characters, with {PLACEHOLDER} in it")
        trunk.dial_string = dial
    if changes.channel_limit is not None:
        if changes.channel_limit < 0:
            raise InvalidInput("channel_limit: 0 or more")
        trunk.channel_limit = changes.channel_limit
    if changes.clear_channel_limit:
        trunk.channel_limit = None
    if changes.sip_host is not None:
        trunk.sip_host = clean_host(changes.sip_host, trunk.name)
    return _commit(uow, trunk, f"a trunk named {changes.name!r} already exists")


def update_route(
    uow: UnitOfWork, caller: Caller, route_id: int, changes: RouteChanges
) -> schema.Route:
    require_role(caller, "admin")
    route = _get(uow, schema.Route, route_id, "route")
    _status(route, changes.status)
    if changes.strategy is not None:
        if changes.strategy not in STRATEGIES:
            raise InvalidInput(f"strategy: one of {', '.join(STRATEGIES)}")
        route.strategy = changes.strategy
    if changes.prefix is not None:
        route.prefix = normalise_number(changes.prefix) if changes.prefix.strip() else ""
    if changes.name is not None:
        route.name = changes.name.strip()[:128]
    if changes.allow_loss is not None:
        route.allow_loss = changes.allow_loss
    if changes.trunks is not None:
        check_links(uow, changes.trunks)
        # Links are configuration only (a CDR names its trunk, never a link).
        uow.session.execute(delete(schema.RouteTrunk).where(schema.RouteTrunk.route_id == route.id))
        uow.session.add_all(
            schema.RouteTrunk(
                route_id=route.id, trunk_id=x.trunk_id, priority=x.priority, weight=x.weight
            )
            for x in changes.trunks
        )
    return _commit(uow, route, f"a route for prefix {route.prefix!r} already exists")


def _get(uow: UnitOfWork, model: Any, row_id: int, what: str) -> Any:
    row = uow.session.get(model, row_id, with_for_update=True)
    if row is None:
        raise NotFound(f"{what} {row_id} not found")
    if row.status == "retired":
        raise InvalidInput(f"{what} {row_id} is retired: it can't be changed any more")
    return row


def _status(row: Any, status: str | None) -> None:
    if status is None:
        return
    if status not in STATUSES:
        raise InvalidInput(f"status: one of {', '.join(STATUSES)}")
    row.status = status


def _commit(uow: UnitOfWork, row: Any, taken: str) -> Any:
    try:
        uow.session.flush()
    except IntegrityError:
        uow.rollback()
        raise AlreadyExists(taken) from None
    uow.commit()
    return row
