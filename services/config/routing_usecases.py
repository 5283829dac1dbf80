"""Configuration use cases (admin): providers, trunks, routes, and TestRoute.
No spyne here."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from db import schema
from db.paging import page_scalars
from db.session import UnitOfWork
from rating import normalise_number
from rating.errors import AlreadyExists, InvalidInput, NotFound
from services.common.caller import Caller, require_role, visible_account
from services.credit.routing import RoutePlan, plan_route

STRATEGIES = ("lcr", "priority", "balance", "quality")
PLACEHOLDER = "${NUMBER}"
T = TypeVar("T")


@dataclass(frozen=True)
class RouteTrunkLink:
    trunk_id: int
    priority: int = 0
    weight: int = 1


@dataclass(frozen=True)
class NewRoute:
    prefix: str
    name: str
    strategy: str
    allow_loss: bool
    trunks: tuple[RouteTrunkLink, ...]


def create_provider(
    uow: UnitOfWork, caller: Caller, name: str, buy_sheet_id: int | None
) -> schema.Provider:
    require_role(caller, "admin")
    if buy_sheet_id is not None and uow.session.get(schema.RateSheet, buy_sheet_id) is None:
        raise NotFound(f"rate sheet {buy_sheet_id} not found")
    provider = schema.Provider(name=clean_name(name), buy_sheet_id=buy_sheet_id)
    return _insert(uow, provider, f"a provider named {name.strip()!r} already exists")


def list_providers(
    uow: UnitOfWork, caller: Caller, offset: int, limit: int
) -> tuple[list[schema.Provider], int]:
    require_role(caller, "admin")
    query = select(schema.Provider).order_by(schema.Provider.id)
    return page_scalars(uow.session, query, offset, limit)


_HOST = re.compile(r"[A-Za-z0-9][A-Za-z0-9.\-_]{0,254}")


def create_trunk(
    uow: UnitOfWork,
    caller: Caller,
    provider_id: int,
    name: str,
    dial_string: str,
    channel_limit: int | None,
    *,
    sip_host: str = "",
) -> schema.Trunk:
    require_role(caller, "admin")
    if uow.session.get(schema.Provider, provider_id) is None:
        raise NotFound(f"provider {provider_id} not found")
    dial = dial_string.strip()
    if PLACEHOLDER not in dial or len(dial) > 255:
        raise InvalidInput(f"dial_string: up to 255 characters, with {PLACEHOLDER} in it")
    if channel_limit is not None and channel_limit < 0:
        raise InvalidInput("channel_limit: 0 or more (empty: no limit)")
    trunk = schema.Trunk(
        provider_id=provider_id,
        name=clean_name(name),
        dial_string=dial,
        channel_limit=channel_limit,
        sip_host=clean_host(sip_host, name),
    )
    return _insert(uow, trunk, f"a trunk named {name.strip()!r} already exists")


def list_trunks(
    uow: UnitOfWork, caller: Caller, offset: int, limit: int
) -> tuple[list[schema.Trunk], int]:
    require_role(caller, "admin")
    query = select(schema.Trunk).order_by(schema.Trunk.id)
    return page_scalars(uow.session, query, offset, limit)


def create_route(uow: UnitOfWork, caller: Caller, cmd: NewRoute) -> schema.Route:
    require_role(caller, "admin")
    if cmd.strategy not in STRATEGIES:
        raise InvalidInput(f"strategy: one of {', '.join(STRATEGIES)}")
    prefix = normalise_number(cmd.prefix) if cmd.prefix.strip() else ""
    check_links(uow, cmd.trunks)
    route = schema.Route(
        prefix=prefix, name=cmd.name.strip()[:128], strategy=cmd.strategy, allow_loss=cmd.allow_loss
    )
    uow.session.add(route)
    try:
        uow.session.flush()
    except IntegrityError:
        raise AlreadyExists(f"a route for prefix {prefix!r} already exists") from None
    uow.session.add_all(
        schema.RouteTrunk(
            route_id=route.id, trunk_id=link.trunk_id, priority=link.priority, weight=link.weight
        )
        for link in cmd.trunks
    )
    uow.commit()
    return route


def check_links(uow: UnitOfWork, links: tuple[RouteTrunkLink, ...]) -> None:
    ids = [link.trunk_id for link in links]
    if len(set(ids)) != len(ids):
        raise InvalidInput("trunks: each trunk once")
    for link in links:
        if uow.session.get(schema.Trunk, link.trunk_id) is None:
            raise NotFound(f"trunk {link.trunk_id} not found")
        if link.weight < 1:
            raise InvalidInput("weight: 1 or more")
        if link.priority < 0:
            raise InvalidInput("priority: 0 or more")


def clean_host(sip_host: str, trunk_name: str) -> str:
    """The trunk's SIP host ("" for none); a provisioned trunk's name is its endpoint."""
    host = sip_host.strip()
    if host and not _HOST.fullmatch(host):
        raise InvalidInput("sip_host: a host name or IP address (letters, digits, . and -)")
    if host and not _HOST.fullmatch(trunk_name.strip()):
        raise InvalidInput("name: a provisioned trunk's name is its PJSIP endpoint: no spaces")
    return host


RouteWithTrunks = tuple[schema.Route, list[schema.RouteTrunk]]


def list_routes(
    uow: UnitOfWork, caller: Caller, offset: int, limit: int
) -> tuple[list[RouteWithTrunks], int]:
    require_role(caller, "admin")
    query = select(schema.Route).order_by(schema.Route.prefix, schema.Route.id)
    routes, total = page_scalars(uow.session, query, offset, limit)
    links = route_trunks(uow, [r.id for r in routes])
    return [(r, [x for x in links if x.route_id == r.id]) for r in routes], total


def route_trunks(uow: UnitOfWork, route_ids: list[int]) -> list[schema.RouteTrunk]:
    """The trunks of these routes (one statement for a page), in priority order."""
    return list(
        uow.session.scalars(
            select(schema.RouteTrunk)
            .where(schema.RouteTrunk.route_id.in_(route_ids))
            .order_by(schema.RouteTrunk.priority, schema.RouteTrunk.trunk_id)
        )
    )


def try_route(uow: UnitOfWork, caller: Caller, number: str, account_id: int | None) -> RoutePlan:
    """The trunks a call to `number` by the account would be offered, in order, with
    their buy costs, and the trunks left out with why; reserves nothing."""
    require_role(caller, "admin")
    digits = normalise_number(number)
    if not digits:
        raise InvalidInput("number: required")
    sheet_id = None
    if account_id is not None:
        sheet_id = operator_sheet(uow, visible_account(uow.session, caller, account_id))
    return plan_route(uow.session, digits, datetime.now(UTC), sheet_id)


def operator_sheet(uow: UnitOfWork, account: schema.Account) -> int | None:
    """What the operator sells at: the sheet of the account's topmost non-admin
    ancestor (the account itself when its parent is the admin)."""
    for account_id in (int(i) for i in account.path.strip("/").split("/") if i):
        found = uow.session.get(schema.Account, account_id)
        if found is not None and found.role != "admin":
            return found.rate_sheet_id
    return account.rate_sheet_id


def clean_name(name: str) -> str:
    cleaned = name.strip()
    if not cleaned or len(cleaned) > 128:
        raise InvalidInput("name: 1 to 128 characters")
    return cleaned


def _insert(uow: UnitOfWork, row: T, taken: str) -> T:
    uow.session.add(row)
    try:
        uow.session.flush()
    except IntegrityError:
        raise AlreadyExists(taken) from None
    uow.commit()
    return row
