"""Bundles in Authorize: the free seconds a level still has count in the longest call
it can pay for, and are held for the call like money, so that parallel calls can't each
be promised the same last seconds. Spyne-free. See docs/bundles.md.

Two hooks in services/credit/authorize.py, both under the account chain's locks:
`max_duration` (per level, in place of the plan's own) and `hold` (after the
reservation rows are written). What the first learns for the second is kept in
`session.info` for the transaction.

Free units are held for the call's whole free part at once (not by slices, as money
is): a slice of free seconds would let every parallel call be promised the same ones.
The call's first reserved stretch covers at least its free part, so the listener does
not need to extend a call while it is free.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import cast

from sqlalchemy import Table, bindparam, update
from sqlalchemy.orm import Session

from db.schema import Account, Reservation
from rating import RatingPlan
from rating.bundles import Allowance, max_seconds_with_bundles, split_call
from rating.model import CallToRate
from rating.money import ZERO
from services.bundles.cdr import allowances
from services.bundles.counters import Counter, counters
from services.bundles.holds import hold as hold_units
from services.credit.expiry import EXPIRY_MARGIN
from services.credit.routing import plan_for

_KEY = "siptar.bundles.authorize"
RESERVATIONS = cast(Table, Reservation.__table__)
_AMOUNTS = (
    update(RESERVATIONS)
    .where(RESERVATIONS.c.id == bindparam("r_id"))
    .values(
        amount=bindparam("r_amount"),
        reserved_seconds=bindparam("r_seconds"),
        expires_at=bindparam("r_expires"),
    )
)


@dataclass(frozen=True)
class _Level:
    plan: RatingPlan
    allowances: list[Allowance]


@dataclass
class _Chain:
    """One Authorize's bundles: the counters of its chain, and what each level offered."""

    found: dict[int, list[Counter]]
    levels: dict[int, _Level] = field(default_factory=dict)


def max_duration(
    session: Session,
    chain: list[Account],
    account: Account,
    plan: RatingPlan,
    number: str,
    now: datetime,
    money: Decimal,
    cap: int,
) -> int:
    """The longest call (within `cap`) that the level's bundles and then its money pay
    for; without a bundle in force, the plan's own answer. The chain's rows are locked,
    so the counters of the whole chain are locked after them, in id order, once per
    Authorize (at its first level: one statement whatever the depth)."""
    state = session.info.get(_KEY)
    if account.id == chain[0].id or not isinstance(state, _Chain):
        day = now.astimezone(UTC).date()
        state = _Chain(counters(session, [a.id for a in chain], day, lock=True))
        session.info[_KEY] = state
    mine = state.found.get(account.id)
    if not mine:
        return plan.max_duration(number, now, money, cap)
    offered = allowances(mine, {})
    seconds, _ = max_seconds_with_bundles(plan, number, now, max(money, ZERO), cap, offered)
    state.levels[account.id] = _Level(plan, offered)
    return seconds


def hold(
    session: Session,
    chain: list[Account],
    reservation_id: int,
    call: CallToRate,
    held: int,
    amount: Decimal,
) -> tuple[Decimal, int]:
    """Hold, for the reservation, the bundle units of each level's free part of a call
    of `call.billsec` seconds (its max duration); make its first reserved stretch cover
    at least that free part, each level's money being the cost of the paid rest of it.
    `held`, `amount`: the first slice's seconds and the customer's money as reserved.
    Returns them as they now stand. Nothing to do without bundles."""
    state = session.info.pop(_KEY, None)
    remembered = state.levels if isinstance(state, _Chain) else {}
    levels = [(a, remembered.get(a.id)) for a in chain]
    if not any(level for _, level in levels):
        return amount, held
    takes: list[tuple[int, int]] = []
    stretch = held
    for _, level in levels:
        if level is None:
            continue
        split = split_call(level.plan, call, level.allowances)
        takes += [(c.bundle_id, c.amount) for c in split.consumed if c.amount]
        stretch = max(stretch, min(split.free_seconds, call.billsec))
    hold_units(session, reservation_id, takes)
    first = CallToRate(call.number, call.start, stretch, True)
    rows = session.execute(
        RESERVATIONS.select()
        .with_only_columns(RESERVATIONS.c.id, RESERVATIONS.c.account_id)
        .where((RESERVATIONS.c.id == reservation_id) | (RESERVATIONS.c.parent_id == reservation_id))
    ).all()
    by_account = {int(a): int(r) for r, a in rows}
    expires = call.start + timedelta(seconds=stretch) + EXPIRY_MARGIN
    changes = []
    customer_amount = amount
    for account, level in levels:
        assert account.rate_sheet_id is not None  # checked by Authorize
        plan = level.plan if level else plan_for(session, account.rate_sheet_id)
        cost = (
            split_call(plan, first, level.allowances).paid if level else plan.rate_call(first)
        ).cost
        changes.append(
            {
                "r_id": by_account[account.id],
                "r_amount": cost,
                "r_seconds": stretch,
                "r_expires": expires,
            }
        )
        if account.id == chain[0].id:
            customer_amount = cost
    session.execute(_AMOUNTS, changes)
    return customer_amount, stretch
