"""Authorize's routes, cached: every active route with its trunks, per process and
database, valid while the 'routing' stamp is unchanged (db/routing_triggers.py keeps it:
every change of providers, trunks but their open calls, routes and route trunks bumps
it). What services/credit/routing.py plans a call's route from. Spyne-free.
"""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from db.schema import Provider, Route, RouteTrunk, Trunk


@dataclass(frozen=True)
class Link:
    """A trunk of a route as configured (its provider's part included): what the route
    cache keeps. Not its open calls, which change with every call."""

    priority: int
    weight: int
    trunk_id: int
    name: str
    dial_string: str
    channel_limit: int | None
    status: str
    provider_id: int
    provider: str
    provider_status: str
    buy_sheet_id: int | None


@dataclass(frozen=True)
class CachedRoute:
    route_id: int
    prefix: str
    strategy: str
    allow_loss: bool
    links: tuple[Link, ...]


_LINKS = (
    select(
        RouteTrunk.route_id,
        RouteTrunk.priority,
        RouteTrunk.weight,
        Trunk.id,
        Trunk.name,
        Trunk.dial_string,
        Trunk.channel_limit,
        Trunk.status,
        Provider.id,
        Provider.name,
        Provider.status,
        Provider.buy_sheet_id,
    )
    .join(Trunk, RouteTrunk.trunk_id == Trunk.id)
    .join(Provider, Trunk.provider_id == Provider.id)
)


def links_of(session: Session, route_ids: list[int]) -> dict[int, list[Link]]:
    found: dict[int, list[Link]] = {}
    for route_id, *fields in session.execute(_LINKS.where(RouteTrunk.route_id.in_(route_ids))):
        found.setdefault(route_id, []).append(Link(*fields))
    return found


class RouteCache:
    """Every active route with its trunks, per process and database, valid while the
    'routing' stamp is unchanged: database triggers bump it on any change of providers,
    trunks (but their open calls), routes and route_trunks (db/routing_triggers.py).
    Authorize reads the stamp with the lock of its account chain, so an ordinary call
    sends no statement for its route; a changed stamp reloads all routes (two
    statements), which a change of configuration makes rare."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_engine: weakref.WeakKeyDictionary[Engine, tuple[int, dict[str, CachedRoute]]]
        self._by_engine = weakref.WeakKeyDictionary()

    def routes(self, session: Session, version: int) -> dict[str, CachedRoute]:
        bind = session.get_bind()
        engine = bind if isinstance(bind, Engine) else bind.engine
        with self._lock:
            cached = self._by_engine.get(engine)
        if cached is not None and cached[0] == version:
            return cached[1]
        routes = session.execute(
            select(Route.id, Route.prefix, Route.strategy, Route.allow_loss).where(
                Route.status == "active"
            )
        ).all()
        links = links_of(session, [r.id for r in routes])
        loaded = {
            r.prefix: CachedRoute(
                r.id, r.prefix, r.strategy, r.allow_loss, tuple(links.get(r.id, ()))
            )
            for r in routes
        }
        with self._lock:
            self._by_engine[engine] = (version, loaded)
        return loaded

    def peek(self, session: Session, number: str) -> tuple[int, CachedRoute] | None:
        """The route of `number` as this process last loaded them, with the stamp it was
        loaded at, or None (nothing loaded yet, or no route): no statement. Authorize
        reads the route's live figures with its lock on this guess, and uses them only
        if the stamp it then reads is this one (services/credit/chain_lock.py)."""
        bind = session.get_bind()
        engine = bind if isinstance(bind, Engine) else bind.engine
        with self._lock:
            cached = self._by_engine.get(engine)
        if cached is None:
            return None
        route = _longest(cached[1], number)
        return None if route is None else (cached[0], route)

    def find(self, session: Session, version: int, number: str) -> CachedRoute | None:
        """As `find_route`: the active route of the longest prefix of `number`."""
        return _longest(self.routes(session, version), number)


def _longest(routes: dict[str, CachedRoute], number: str) -> CachedRoute | None:
    for end in range(len(number), -1, -1):
        route = routes.get(number[:end])
        if route is not None:
            return route
    return None


# One per process: each gunicorn worker and the AMI listener keep their own.
route_cache = RouteCache()


@dataclass(frozen=True)
class Live:
    """A route's live figures, read by a statement that ran anyway (PostgreSQL's
    identify-and-lock): its buy sheets' (id, version) and its trunks' open calls."""

    route: CachedRoute
    versions: list[tuple[int, int]]
    in_use: dict[int, int]


def live_ids(route: CachedRoute) -> tuple[list[int], list[int]]:
    """The buy sheets and the trunks whose live figures `plan_route` needs."""
    sheets = sorted({link.buy_sheet_id for link in route.links if link.buy_sheet_id})
    return sheets, [link.trunk_id for link in route.links]
