"""Bundles in Authorize: the free seconds a level still has count in the longest call
it can pay for, and are held for the call like money, so that parallel calls can't each
be promised the same last seconds. Spyne-free. See docs/bundles.md.

Two hooks in services/credit/authorize.py, both under the account chain's locks:
`max_duration` (per level, in place of the plan's own) and `free_part` (what Authorize's
`price_hold` writes the reservation rows from; it then holds the units). What the first
learns for the second is kept in `session.info` for the transaction.

Free units are held for the call's whole free part at once (not by slices, as money
is): a slice of free seconds would let every parallel call be promised the same ones.
The call's first reserved stretch covers at least its free part, so the listener does
not need to extend a call while it is free.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy.orm import Session

from rating import RatingPlan
from rating.bundles import Allowance, max_seconds_with_bundles, split_call
from rating.model import CallCost, CallToRate
from rating.money import ZERO
from services.bundles.cdr import allowances
from services.bundles.counters import Counter, counters
from services.bundles.holds import any_bundles
from services.credit.levels import ChainAccount

_KEY = "siptar.bundles.authorize"


@dataclass(frozen=True)
class _Level:
    plan: RatingPlan
    allowances: list[Allowance]


@dataclass
class _Chain:
    """One Authorize's bundles: the counters of its chain, and what each level offered."""

    found: dict[int, list[Counter]]
    levels: dict[int, _Level] = field(default_factory=dict)


def open_chain(
    session: Session, chain: Sequence[ChainAccount], now: datetime, bundled: bool
) -> _Chain:
    """Start one Authorize's bundles: the counters of the whole chain locked, after the
    chain's rows, in id order (one statement whatever the depth); none and no statement
    when no level holds a bundle (`bundled`: read by Authorize's lock statement)."""
    day = now.astimezone(UTC).date()
    found = counters(session, [a.id for a in chain], day, lock=True) if bundled else {}
    state = session.info[_KEY] = _Chain(found)
    return state


def max_duration(
    session: Session,
    chain: Sequence[ChainAccount],
    account: ChainAccount,
    plan: RatingPlan,
    number: str,
    now: datetime,
    money: Decimal,
    cap: int,
) -> int:
    """The longest call (within `cap`) that the level's bundles and then its money pay
    for; without a bundle in force, the plan's own answer. The chain's rows are locked,
    so the counters of the whole chain are locked after them by `open_chain`, which
    Authorize calls first (else here, at the first level)."""
    state = session.info.get(_KEY)
    if not isinstance(state, _Chain):
        state = open_chain(session, chain, now, bundled=True)
    mine = state.found.get(account.id)
    if not mine:
        return plan.max_duration(number, now, money, cap)
    offered = allowances(mine, {})
    seconds, _ = max_seconds_with_bundles(plan, number, now, max(money, ZERO), cap, offered)
    state.levels[account.id] = _Level(plan, offered)
    return seconds


@dataclass(frozen=True)
class FreePart:
    """What the bundles of one Authorize hold for its call: the units per counter, the
    first reserved stretch (at least the free part), and each level's offer."""

    takes: list[tuple[int, int]]
    stretch: int
    levels: dict[int, _Level]

    def cost(self, account: ChainAccount, plan: RatingPlan, first: CallToRate) -> Decimal:
        """What `account` holds in money for the first stretch: the paid rest only."""
        level = self.levels.get(account.id)
        if level is None:
            return plan.rate_call(first).cost
        return split_call(level.plan, first, level.allowances).paid.cost


def free_part(
    session: Session, chain: Sequence[ChainAccount], call: CallToRate, held: int
) -> FreePart | None:
    """The free part of a call of `call.billsec` seconds (its max duration) at each level
    that offered bundles to `max_duration` in this transaction; None without any.
    `held`: the first slice's seconds. Authorize (services/credit/reserve.price_hold)
    writes the reservation rows from it, then `hold` (services/bundles/holds.py) the
    units under the customer's reservation."""
    state = session.info.pop(_KEY, None)
    levels = state.levels if isinstance(state, _Chain) else {}
    if not levels:
        return None
    takes: list[tuple[int, int]] = []
    stretch = held
    for account in chain:
        level = levels.get(account.id)
        if level is None:
            continue
        split = split_call(level.plan, call, level.allowances)
        takes += [(c.bundle_id, c.amount) for c in split.consumed if c.amount]
        stretch = max(stretch, min(split.free_seconds, call.billsec))
    return FreePart(takes, stretch, dict(levels))


def extension_cost(plan: RatingPlan, call: CallToRate, offered: list[Allowance] | None) -> Decimal:
    """What a level holds in money for `call` (its new reserved length): the paid rest."""
    return split_call(plan, call, offered).paid.cost if offered else plan.rate_call(call).cost


def extension_seconds(
    plan: RatingPlan,
    number: str,
    start: datetime,
    money: Decimal,
    cap: int,
    offered: list[Allowance] | None,
) -> int:
    """The longest call (within `cap`) the level's held units and then its money pay for."""
    if not offered:
        return plan.max_duration(number, start, money, cap)
    return max_seconds_with_bundles(plan, number, start, max(money, ZERO), cap, offered)[0]


def quoted(
    session: Session, account_id: int, plan: RatingPlan, call: CallToRate
) -> tuple[CallCost, int] | None:
    """What `call` would cost the account with its bundles as they stand now (nothing is
    held or consumed): the paid part and the free seconds; None when no bundle of the
    account covers any of it (QuoteCall by account, docs/bundles.md)."""
    if not any_bundles(session):
        return None
    mine = counters(session, [account_id], call.start.astimezone(UTC).date()).get(account_id)
    if not mine:
        return None
    split = split_call(plan, call, allowances(mine, {}))
    return (split.paid, split.free_seconds) if split.free_seconds else None


__all__ = [
    "FreePart",
    "any_bundles",
    "extension_cost",
    "extension_seconds",
    "free_part",
    "max_duration",
    "open_chain",
    "quoted",
]
