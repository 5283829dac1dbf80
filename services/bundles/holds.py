"""Bundle units held by calls in progress: Authorize holds them on the counters (like
money on a reservation), the CDR turns them into consumption, and a reservation closed
without a rated CDR (unrated, expired, its channel gone) gives them back. Spyne-free.

Every change is one conditional UPDATE per counter, in counter id order; the database's
check (`consumed + reserved <= quantity`, never below zero) stands behind it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import cast

from sqlalchemy import Table, bindparam, delete, select, update
from sqlalchemy.orm import Session

from db.bundle_schema import AccountBundle, BundleCounter, BundleHold
from services.recurring.keyed import rowcount

COUNTERS = cast(Table, BundleCounter.__table__)
# The memo key (services/credit/cdr_batch.remembered) of `any_bundles` in a batch.
ANY_BUNDLES = ("any bundles",)
# More memo keys of a listener's batch (services/cdr/prefetch.py): which of its accounts
# hold a bundle; (HELD_KEY, reservation id): what a call holds; (USED_KEY, cdr id): what a CDR
# consumed before (nothing, for the batch's new CDRs).
BUNDLED = ("bundled accounts",)
HELD_KEY = "bundle holds"
USED_KEY = "bundle uses"
HOLDS = cast(Table, BundleHold.__table__)

_TAKE = (
    update(COUNTERS)
    .where(
        COUNTERS.c.id == bindparam("c_id"),
        COUNTERS.c.consumed + COUNTERS.c.reserved + bindparam("n") <= COUNTERS.c.quantity,
    )
    .values(reserved=COUNTERS.c.reserved + bindparam("n"))
)
_GIVE_BACK = (
    update(COUNTERS)
    .where(COUNTERS.c.id == bindparam("c_id"), COUNTERS.c.reserved >= bindparam("n"))
    .values(reserved=COUNTERS.c.reserved - bindparam("n"))
)


def any_bundles(session: Session) -> bool:
    """Whether any account holds a bundle at all: without one there is no counter and no
    hold, and the CDR path skips its bundle statements (asked once per listener batch)."""
    return session.scalar(select(AccountBundle.id).limit(1)) is not None


class HoldRefused(Exception):
    """A counter no longer had the units (a writer that did not lock it first)."""


def hold(session: Session, reservation_id: int, takes: Sequence[tuple[int, int]]) -> None:
    """Hold `amount` units of each counter for the reservation (the caller holds the
    counters' locks, taken after the account chain's)."""
    wanted = sorted((c, n) for c, n in takes if n > 0)
    for counter_id, amount in wanted:
        if rowcount(session.execute(_TAKE, {"c_id": counter_id, "n": amount})) != 1:
            raise HoldRefused(f"bundle counter {counter_id} has not {amount} units left")
    if wanted:
        session.execute(
            HOLDS.insert(),
            [{"reservation_id": reservation_id, "counter_id": c, "amount": n} for c, n in wanted],
        )


def holds_of(session: Session, reservation_id: int) -> dict[int, int]:
    """counter id -> units the reservation holds."""
    rows = session.execute(
        select(BundleHold.counter_id, BundleHold.amount).where(
            BundleHold.reservation_id == reservation_id
        )
    ).all()
    return {int(c): int(n) for c, n in rows}


def holds_of_calls(session: Session, reservation_ids: Sequence[int]) -> dict[int, dict[int, int]]:
    """`holds_of` for many reservations, one statement per 500: reservation id -> counter
    id -> units (absent: the call holds nothing)."""
    ids = sorted(set(reservation_ids))
    found: dict[int, dict[int, int]] = {}
    for start in range(0, len(ids), 500):
        rows = session.execute(
            select(BundleHold.reservation_id, BundleHold.counter_id, BundleHold.amount).where(
                BundleHold.reservation_id.in_(ids[start : start + 500])
            )
        )
        for reservation_id, counter_id, amount in rows:
            found.setdefault(int(reservation_id), {})[int(counter_id)] = int(amount)
    return found


def release(session: Session, reservation_ids: Iterable[int]) -> None:
    """Give back what the reservations still hold (their CDR consumed nothing of it, or
    never came) and forget the holds."""
    ids = sorted(set(reservation_ids))
    if not ids:
        return
    rows = session.execute(
        select(BundleHold.counter_id, BundleHold.amount)
        .where(BundleHold.reservation_id.in_(ids))
        .order_by(BundleHold.counter_id)
    ).all()
    if not rows:
        return
    for counter_id, amount in rows:
        session.execute(_GIVE_BACK, {"c_id": counter_id, "n": amount})
    session.execute(delete(BundleHold).where(BundleHold.reservation_id.in_(ids)))
