"""Bundles on the CDR path: at each level of the chain that holds bundles covering the
number, the call is split (rating/bundles.py) into the part the bundles cover and the
part that is paid; the level is charged the paid part only, and the free part is
consumed from its counters in the same transaction. A level without a bundle pays its
own sheet as before. Spyne-free. See docs/bundles.md.

The free part a CDR may take is what its counters have left plus what its own call
holds (Authorize's hold, `bundle_holds`) plus what this same CDR took before (a
re-rating): so a settled call is never refused the seconds it was promised, and a
re-rated one is not charged its free seconds twice.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC
from typing import TYPE_CHECKING, cast

from sqlalchemy import Table, bindparam, delete, func, select, update
from sqlalchemy.orm import Session

from db.bundle_schema import AccountBundle, BundleCounter, BundleHold, BundleUse
from db.ledger import Posting
from db.schema import Account
from rating import RatingPlan
from rating.bundles import Allowance, split_call
from rating.model import CallToRate
from rating.money import ZERO
from services.bundles.counters import Counter, counters
from services.bundles.holds import ANY_BUNDLES, BUNDLED, HELD_KEY, USED_KEY, any_bundles, holds_of
from services.cdr.commands import CdrRecord
from services.credit import cdr_batch
from services.recurring.keyed import rowcount

if TYPE_CHECKING:
    from services.cdr.pricing import LevelCharge

COUNTERS = cast(Table, BundleCounter.__table__)
USES = cast(Table, BundleUse.__table__)

# Consume `d` more (negative: give back, a re-rating) and drop the call's hold `h`,
# never below zero nor past the quantity (the table's check stands behind it too).
_CONSUME = (
    update(COUNTERS)
    .where(
        COUNTERS.c.id == bindparam("c_id"),
        COUNTERS.c.consumed + bindparam("d") >= 0,
        COUNTERS.c.reserved - bindparam("h") >= 0,
        COUNTERS.c.consumed + bindparam("d") + COUNTERS.c.reserved - bindparam("h")
        <= COUNTERS.c.quantity,
    )
    .values(
        consumed=COUNTERS.c.consumed + bindparam("d"),
        reserved=COUNTERS.c.reserved - bindparam("h"),
    )
)


class CounterMoved(Exception):
    """A counter changed under us although its row was locked: never expected."""


def allowances(found: Sequence[Counter], extra: dict[int, int]) -> list[Allowance]:
    """What each counter gives this call, in consumption order (the counter id names
    it); `extra`: units of a counter that are this call's already (its hold, its
    earlier consumption)."""
    return [
        Allowance(
            bundle_id=c.counter_id,
            unit=c.unit,
            remaining=c.remaining + extra.get(c.counter_id, 0),
            per_second=c.per_second,
            prefixes=c.prefixes,
            inbound=c.inbound,
        )
        for c in found
    ]


def split_levels(
    session: Session,
    levels: list[LevelCharge],
    call: CallToRate,
    plan_of: Callable[[LevelCharge], RatingPlan | None],
    record: CdrRecord,
    cdr_id: int | None,
    inbound: bool = False,
) -> list[LevelCharge]:
    """The levels' charges with the bundles of each level taken off, and the counters
    moved. `plan_of`: the plan a level pays by (None: it is not split). `cdr_id` None
    (a quote): nothing is written. `inbound`: a call to the account's DID (only
    `inbound` bundles cover it). A call with no bundle in play costs one query."""
    accounts = [lc.account.id for lc in levels if lc.provider_id is None]
    day = call.start.astimezone(UTC).date()
    if not accounts or not in_play(session, accounts):
        return levels
    # Once per chain in a listener's batch: a lock is held to the end of the transaction.
    cdr_batch.remembered(
        session, ("bundle chain locked", tuple(accounts)), lambda: _lock_chain(session, accounts)
    )
    found = counters(session, accounts, day, lock=True)
    if not found:
        return levels
    # The call's own reservation (its hold), if Authorize made one and no CDR closed it.
    open_ = cdr_batch.held_for(session, record.uniqueid) if record.uniqueid else None
    reservation_id = open_.id if open_ is not None else None
    held = _holds_of(session, reservation_id) if reservation_id is not None else {}
    before = _uses_of(session, cdr_id)
    out: list[LevelCharge] = []
    moves: dict[int, int] = {}
    uses: list[dict[str, object]] = []
    for lc in levels:
        mine = found.get(lc.account.id) if lc.provider_id is None else None
        plan = plan_of(lc) if mine else None
        if not mine or plan is None:
            out.append(lc)
            continue
        extra = {
            c.counter_id: held.get(c.counter_id, 0) + before.get(c.counter_id, 0) for c in mine
        }
        split = split_call(plan, call, allowances(mine, extra), inbound)
        names = {c.counter_id: c.name for c in mine}
        taken = tuple(
            (u.bundle_id, names[u.bundle_id], u.amount) for u in split.consumed if u.amount
        )
        for counter_id, _, amount in taken:
            moves[counter_id] = moves.get(counter_id, 0) + amount
            uses.append(
                {
                    "cdr_id": cdr_id,
                    "counter_id": counter_id,
                    "account_id": lc.account.id,
                    "level": lc.level,
                    "amount": amount,
                }
            )
        out.append(replace(lc, cost=split.paid, bundles=taken, free_seconds=split.free_seconds))
    if cdr_id is not None:
        _apply(session, cdr_id, reservation_id, moves, (held, before), uses)
    return out


def postings(cdr_id: int, levels: Sequence[LevelCharge]) -> list[Posting]:
    """One ledger row of kind `bundle`, amount 0, per bundle a level's call used: the
    invoice lists them as "Bundle usage (no charge)", grouped by bundle."""
    return [
        Posting(lc.account.id, "bundle", ZERO, name, cdr_id)
        for lc in levels
        for _, name, _ in lc.bundles
    ]


def in_play(session: Session, account_ids: list[int]) -> bool:
    """Whether a level of the chain holds a bundle. Inside the listener's batch, asked
    once for the batch whether any account holds one, then once per chain."""
    if not cdr_batch.remembered(session, ANY_BUNDLES, lambda: any_bundles(session)):
        return False
    # The batch's accounts, asked in one statement (services/cdr/prefetch.py).
    nothing: tuple[frozenset[int], frozenset[int]] = (frozenset(), frozenset())
    known, bundled = cdr_batch.remembered(session, BUNDLED, lambda: nothing)
    if known.issuperset(account_ids):
        return not bundled.isdisjoint(account_ids)
    key = ("bundles", tuple(account_ids))
    return cdr_batch.remembered(session, key, lambda: _any_bundle(session, account_ids))


def _any_bundle(session: Session, account_ids: list[int]) -> bool:
    return (
        session.scalar(
            select(func.count())
            .select_from(AccountBundle)
            .where(AccountBundle.account_id.in_(account_ids))
        )
        or 0
    ) > 0


def _lock_chain(session: Session, account_ids: list[int]) -> None:
    """The chain's account rows first, customer first (the one lock order of every
    writer of balances, services/credit/chain_lock.lock_chain), then the counters."""
    session.execute(
        select(Account.id)
        .where(Account.id.in_(account_ids))
        .order_by(func.length(Account.path).desc())
        .with_for_update()
    ).all()


def _holds_of(session: Session, reservation_id: int) -> dict[int, int]:
    key = (HELD_KEY, reservation_id)  # a batch's: one statement for all its calls
    return cdr_batch.remembered(session, key, lambda: holds_of(session, reservation_id))


def _uses_of(session: Session, cdr_id: int | None) -> dict[int, int]:
    if cdr_id is None:
        return {}
    # A batch's new CDR consumed nothing before (services/cdr/prefetch.py).
    return cdr_batch.remembered(session, (USED_KEY, cdr_id), lambda: _uses_loaded(session, cdr_id))


def _uses_loaded(session: Session, cdr_id: int) -> dict[int, int]:
    rows = session.execute(
        select(BundleUse.counter_id, func.sum(BundleUse.amount))
        .where(BundleUse.cdr_id == cdr_id)
        .group_by(BundleUse.counter_id)
    ).all()
    return {int(c): int(n) for c, n in rows}


def _apply(
    session: Session,
    cdr_id: int,
    reservation_id: int | None,
    moves: dict[int, int],
    mine: tuple[dict[int, int], dict[int, int]],
    uses: list[dict[str, object]],
) -> None:
    """Counters in id order: consume the call's part (less what it took before) and
    drop its hold; the call's uses replace any earlier ones; its holds are gone.
    `mine`: what the call holds and what it took before, by counter."""
    held, before = mine
    for counter_id in sorted(set(moves) | set(held) | set(before)):
        d = moves.get(counter_id, 0) - before.get(counter_id, 0)
        h = held.get(counter_id, 0)
        if d == 0 and h == 0:
            continue
        done = session.execute(_CONSUME, {"c_id": counter_id, "d": d, "h": h})
        if rowcount(done) != 1:
            raise CounterMoved(f"bundle counter {counter_id} can't take {d} more")
    if before:
        session.execute(delete(BundleUse).where(BundleUse.cdr_id == cdr_id))
    if held:
        session.execute(delete(BundleHold).where(BundleHold.reservation_id == reservation_id))
        # A second CDR of the same channel in the batch finds the holds gone, as in the table.
        cdr_batch.remember(session, {(HELD_KEY, reservation_id): {}})
    if uses:
        session.execute(USES.insert(), uses)
