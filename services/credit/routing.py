"""Routes: which trunks may carry a call to a number, in which order (docs/design.md, "Routes").

A route maps a prefix (the longest one matching the number wins; "" is the default
route) to trunks with a strategy:

- `lcr`: cheapest buy cost first, from each trunk's provider buy sheet;
- `priority`: route_trunks.priority ascending (fixed failover order);
- `balance`: the trunk offered first least often (per unit of weight) over the last
  `BALANCE_WINDOW` first (reservations record the first trunk offered), so calls spread
  evenly; the "ACD" of the original product;
- `quality`: best answer-seizure ratio, then best average call duration, over the CDRs
  each trunk carried in the last `QUALITY_WINDOW`; trunks with no calls come last.

Ties fall back to priority, then trunk id. Trunks (or providers) not `active`, trunks
whose provider has no buy rate for the number, and trunks whose buy cost is above the
operator's sell price are left out (the loss guard, unless the route has `allow_loss`).
Both are compared as the cost of a one-minute call (`PROBE_SECONDS`), so connect fees
and first blocks count. The operator's sell price is the sheet of the top account of
the caller's chain (the one directly below the admin): what the operator is paid.

Trunk channel limits: a trunk is full when its open reservations (calls authorized with
it as first choice and not yet settled; `trunks.open_calls`) reach `channel_limit`; a
full trunk is left out.
Spyne-free.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import bindparam, case, func, literal, select, union_all
from sqlalchemy.orm import Session

from db.rates import plans
from db.schema import Cdr, RateSheet, Reservation, Route, Trunk
from rating import RatingPlan
from rating.errors import BillingError, NotFound
from rating.model import CallToRate
from services.credit.route_cache import CachedRoute, Link, Live, links_of, live_ids, route_cache

logger = logging.getLogger(__name__)

PROBE_SECONDS = 60
BALANCE_WINDOW = timedelta(hours=24)
QUALITY_WINDOW = timedelta(hours=24)


@dataclass(frozen=True)
class TrunkChoice:
    trunk_id: int
    name: str
    provider_id: int
    provider: str
    dial_string: str  # with the number filled in
    buy_cost: Decimal | None  # cost of a PROBE_SECONDS call at the provider's buy sheet
    channel_limit: int | None
    channels_in_use: int


@dataclass(frozen=True)
class RoutePlan:
    route_id: int | None
    prefix: str
    strategy: str
    allow_loss: bool
    sell_cost: Decimal | None  # cost of a PROBE_SECONDS call at the operator's sell sheet
    trunks: tuple[TrunkChoice, ...]  # usable, in dialling order
    excluded: tuple[tuple[TrunkChoice, str], ...]  # left out, with why


def find_route(session: Session, number: str) -> Route | None:
    """The active route with the longest prefix of `number` ("" matches every number);
    a disabled or retired route is passed over for the next shorter one."""
    candidates = [number[:i] for i in range(len(number) + 1)]
    return session.scalars(
        select(Route)
        .where(Route.prefix.in_(candidates), Route.status == "active")
        .order_by(func.length(Route.prefix).desc())
        .limit(1)
    ).first()


# The buy sheets' versions and the trunks' open calls of a route: one statement.
_LIVE = union_all(
    select(literal("s"), RateSheet.id, RateSheet.version).where(
        RateSheet.id.in_(bindparam("sheets", expanding=True))
    ),
    select(literal("t"), Trunk.id, Trunk.open_calls).where(
        Trunk.id.in_(bindparam("trunks", expanding=True))
    ),
)


def plan_route(
    session: Session,
    number: str,
    start: datetime,
    sell_sheet_id: int | None,
    routing_version: int | None = None,
    live: Live | None = None,
    freed: Mapping[int, int] | None = None,
) -> RoutePlan:
    """The route of `number` and its trunks in dialling order. `routing_version`: the
    'routing' stamp the caller has read (Authorize: with its chain's lock), to take the
    routes from the per-process cache; None reads them from the database. `live`: the
    route's live figures already read, used if they are this route's. `freed`: the
    open calls per trunk that this transaction closed but has not yet taken off
    `trunks.open_calls` (negative counts: Authorize's expiry, applied with its claim),
    so that a channel freed by that expiry counts as free."""
    if routing_version is not None:
        route = route_cache.find(session, routing_version, number)
    else:
        found = find_route(session, number)
        route = None
        if found is not None:
            links = links_of(session, [found.id]).get(found.id, [])
            route = CachedRoute(
                found.id, found.prefix, found.strategy, found.allow_loss, tuple(links)
            )
    if route is None:
        return RoutePlan(None, "", "", False, None, (), ())
    sell = _probe(session, sell_sheet_id, number, start) if sell_sheet_id else None
    # Every buy sheet's version and every trunk's open calls (kept by every writer of
    # reservations, services/credit/holds.py) in one statement, unless already read.
    if live is not None and live.route is route:
        in_use, versions = live.in_use, live.versions
    else:
        in_use, versions = _live(session, route)
    remember_plans(session, versions)
    usable: list[tuple[TrunkChoice, Link]] = []
    excluded: list[tuple[TrunkChoice, str]] = []
    for link in route.links:
        choice = TrunkChoice(
            trunk_id=link.trunk_id,
            name=link.name,
            provider_id=link.provider_id,
            provider=link.provider,
            dial_string=link.dial_string.replace("${NUMBER}", number),
            buy_cost=_probe(session, link.buy_sheet_id, number, start),
            channel_limit=link.channel_limit,
            channels_in_use=in_use.get(link.trunk_id, 0) + (freed or {}).get(link.trunk_id, 0),
        )
        why = _why_excluded(choice, link, sell, route.allow_loss)
        if why:
            excluded.append((choice, why))
        else:
            usable.append((choice, link))
    ordered = _order(session, route.strategy, usable, start)
    return RoutePlan(
        route.route_id,
        route.prefix,
        route.strategy,
        route.allow_loss,
        sell,
        ordered,
        tuple(excluded),
    )


def _live(session: Session, route: CachedRoute) -> tuple[dict[int, int], list[tuple[int, int]]]:
    sheets, trunks = live_ids(route)
    in_use: dict[int, int] = {}
    versions: list[tuple[int, int]] = []
    for kind, row_id, value in session.execute(_LIVE, {"sheets": sheets, "trunks": trunks}):
        if kind == "t":
            in_use[int(row_id)] = int(value)
        else:
            versions.append((int(row_id), int(value)))
    return in_use, versions


def _why_excluded(choice: TrunkChoice, link: Link, sell: Decimal | None, loss: bool) -> str:
    if link.status != "active" or link.provider_status != "active":
        return "inactive"
    if choice.buy_cost is None:
        return "no buy rate"
    if not loss and sell is not None and choice.buy_cost > sell:
        return "loss"
    if choice.channel_limit is not None and choice.channels_in_use >= choice.channel_limit:
        return "channel limit"
    return ""


def plan_for(session: Session, sheet_id: int) -> RatingPlan:
    """The sheet's compiled plan, its version checked once per session (transaction)
    rather than at every use: Authorize needs the same sheets several times. Credit
    control takes a big sheet's previous plan while its new version compiles
    (db/rates.PlanCache)."""
    memo: dict[int, RatingPlan] = session.info.setdefault("siptar_plans", {})
    plan = memo.get(sheet_id)
    if plan is None:
        found = plans.plans(session, [sheet_id])
        if sheet_id not in found:
            raise NotFound(f"rate sheet {sheet_id} not found")
        plan = memo[sheet_id] = found[sheet_id]
    return plan


def preload_plans(session: Session, sheet_ids: list[int]) -> None:
    """Fill this session's memo of plans (`plan_for`) for several sheets at once: one
    statement checks all their versions."""
    memo: dict[int, RatingPlan] = session.info.setdefault("siptar_plans", {})
    missing = [i for i in sheet_ids if i not in memo]
    if missing:
        memo.update(plans.plans(session, missing))


def remember_plans(session: Session, versions: Iterable[tuple[int, int]]) -> None:
    """`preload_plans` from (sheet id, version) pairs read by a statement that runs
    anyway (Authorize's chain lock, the route's live statement): no statement here."""
    memo: dict[int, RatingPlan] = session.info.setdefault("siptar_plans", {})
    missing = [(i, v) for i, v in versions if i not in memo]
    if missing:
        memo.update(plans.at_versions(session, missing))


def _probe(session: Session, sheet_id: int | None, number: str, start: datetime) -> Decimal | None:
    """The cost of a PROBE_SECONDS call at a sheet; None if it has no rate."""
    if sheet_id is None:
        return None
    try:
        plan = plan_for(session, sheet_id)
        return plan.rate_call(CallToRate(number, start, PROBE_SECONDS, True)).cost
    except BillingError:
        return None


def open_channels(session: Session, trunk_ids: list[int]) -> dict[int, int]:
    if not trunk_ids:
        return {}
    rows = session.execute(
        select(Reservation.trunk_id, func.count())
        .where(
            Reservation.trunk_id.in_(trunk_ids),
            Reservation.status == "open",
            Reservation.parent_id.is_(None),
        )
        .group_by(Reservation.trunk_id)
    ).all()
    return {int(t): int(n) for t, n in rows if t is not None}


def _order(
    session: Session,
    strategy: str,
    usable: list[tuple[TrunkChoice, Link]],
    now: datetime,
) -> tuple[TrunkChoice, ...]:
    def fallback(c: TrunkChoice, link: Link) -> tuple[int, int]:
        return (link.priority, c.trunk_id)

    ids = [c.trunk_id for c, _ in usable]
    if strategy == "lcr":
        usable.sort(key=lambda p: (p[0].buy_cost, *fallback(*p)))
    elif strategy == "balance":
        used = _first_offers(session, ids, now - BALANCE_WINDOW)
        usable.sort(
            key=lambda p: (Decimal(used[p[0].trunk_id]) / max(p[1].weight, 1), *fallback(*p))
        )
    elif strategy == "quality":
        stats = trunk_quality(session, ids, now - QUALITY_WINDOW)
        usable.sort(key=lambda p: (*_quality_key(stats.get(p[0].trunk_id)), *fallback(*p)))
    else:  # priority
        usable.sort(key=lambda p: fallback(*p))
    return tuple(c for c, _ in usable)


def _first_offers(session: Session, trunk_ids: list[int], since: datetime) -> Counter[int]:
    rows = session.execute(
        select(Reservation.trunk_id, func.count())
        .where(
            Reservation.trunk_id.in_(trunk_ids),
            Reservation.parent_id.is_(None),
            Reservation.created_at >= since,
        )
        .group_by(Reservation.trunk_id)
    ).all()
    return Counter({int(t): int(n) for t, n in rows if t is not None})


@dataclass(frozen=True)
class Quality:
    calls: int
    answered: int
    billsec: int

    @property
    def asr(self) -> Decimal:
        return Decimal(self.answered) / self.calls if self.calls else Decimal(0)

    @property
    def acd(self) -> Decimal:
        return Decimal(self.billsec) / self.answered if self.answered else Decimal(0)


def trunk_quality(session: Session, trunk_ids: list[int], since: datetime) -> dict[int, Quality]:
    """ASR and ACD per trunk from the CDRs it carried since `since`."""
    if not trunk_ids:
        return {}
    answered = case((Cdr.disposition == "ANSWERED", 1), else_=0)
    rows = session.execute(
        select(
            Cdr.trunk_id,
            func.count(),
            func.coalesce(func.sum(answered), 0),
            func.coalesce(func.sum(Cdr.billsec), 0),
        )
        .where(Cdr.trunk_id.in_(trunk_ids), Cdr.start_time >= since)
        .group_by(Cdr.trunk_id)
    ).all()
    return {int(t): Quality(int(n), int(a), int(b)) for t, n, a, b in rows}


def _quality_key(q: Quality | None) -> tuple[int, Decimal, Decimal]:
    if q is None or q.calls == 0:
        return (1, Decimal(0), Decimal(0))  # no data: after every trunk with data
    return (0, -q.asr, -q.acd)
