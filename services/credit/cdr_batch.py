"""What settling a CDR looks up, once per batch: the memo of a batch of CDRs stored in
one transaction, and the reservation a CDR of a channel settles.

Storing one CDR asks a few things of the database (its channel's reservation, its
trunk, provider, plans, the exchange rates): fine for one, a few queries per CDR for
the listener's batches. Inside `batch` the reservations of the batch's channels are
fetched with one query and whatever goes through `remembered` is looked up once (or
handed over beforehand by services/cdr/prefetch.py through `remember`); outside it,
every call looks up afresh, so the one-CDR path needs no batch. The memo lives in
`session.info`: it ends with the batch, never outlives the transaction that read it.

A leaf of services/credit (it imports nothing of the rest): settlement, the trunk
match, pricing, currencies, bundles and DIDs all remember through it. Spyne-free.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator
from contextlib import contextmanager
from typing import NamedTuple, TypeVar, cast

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from db.by_key import for_each_key
from db.schema import Reservation

T = TypeVar("T")

# session.info key of what a batch of CDRs looked up once (see `batch`).
_MEMO = "siptar.cdr_batch"


@contextmanager
def batch(
    session: Session, uniqueids: Iterable[str], closed: Collection[int] = ()
) -> Iterator[None]:
    """For a batch of CDRs in one transaction: the reservations of their channels are
    fetched with one query, and what is looked up through `remembered` (accounts,
    trunks, providers, plans) once, instead of a few queries per CDR. `closed`: the
    reservations a transaction still open closes (services/cdr/pipeline.py), left out
    as they will be once it commits."""
    wanted = sorted({u for u in uniqueids if u})
    found: dict[str, Held] = {}
    if wanted and session.get_bind().dialect.name == "postgresql":
        chunks = [session.execute(_HELD_BY_UNIQUEID, {"uniqueids": wanted})]
    else:
        chunks = [
            session.execute(_HELD.where(Reservation.uniqueid.in_(wanted[start : start + 500])))
            for start in range(0, len(wanted), 500)
        ]
    for rows in chunks:
        for uniqueid, id_, account_id, trunk_id in rows:  # by id: the newest wins
            if id_ not in closed:
                found[uniqueid] = Held(id_, account_id, trunk_id)
    session.info[_MEMO] = {"reservations": found}
    try:
        yield
    finally:
        session.info.pop(_MEMO, None)


def remember(session: Session, values: dict[tuple[object, ...], object]) -> None:
    """Inside `batch`: what `remembered` will answer for these keys, looked up beforehand
    for the whole batch at once (services/cdr/prefetch.py). Outside it: nothing."""
    memo = session.info.get(_MEMO)
    if memo is not None:
        memo.update(values)


def remembered(session: Session, key: tuple[object, ...], load: Callable[[], T]) -> T:
    """`load()`, once per `key` inside `batch` (every time outside it)."""
    memo = session.info.get(_MEMO)
    if memo is None:
        return load()
    if key not in memo:
        memo[key] = load()
    return cast(T, memo[key])


def _open_reservations() -> Select[Reservation]:
    return (
        select(Reservation)
        .where(
            Reservation.parent_id.is_(None),
            Reservation.cdr_id.is_(None),
            # released: its channel was gone before its CDR came (a listener crash)
            Reservation.status.in_(("open", "expired", "released")),
        )
        .order_by(Reservation.id)
    )


# Rows, not ORM objects: a batch of 200 CDRs holds 200 reservations.
_HELD = _open_reservations().with_only_columns(
    Reservation.uniqueid, Reservation.id, Reservation.account_id, Reservation.trunk_id
)
# PostgreSQL: the same rows, found by the UniqueID index one channel after the other
# (db/by_key.py): with `uniqueid IN (...)` a table nobody had analyzed yet (right after a
# burst of calls, as in bench_ami) was read whole, ~5 ms a batch of 200 CDRs at 20,000
# rows.
_BY_UNIQUEID = for_each_key(_HELD.order_by(None), Reservation.uniqueid, "uniqueids")
_HELD_BY_UNIQUEID = _BY_UNIQUEID.order_by(_BY_UNIQUEID.selected_columns.id)


class Held(NamedTuple):
    """What settling needs of a reservation."""

    id: int
    account_id: int
    # Not its status: close_reservations reads that under the rows' locks.
    trunk_id: int | None  # the first trunk Authorize offered


def held_for(session: Session, uniqueid: str) -> Held | None:
    """The reservation a CDR of this channel settles: `reservation_for`, from the
    batch's memo inside `batch`."""
    memo = session.info.get(_MEMO)
    if memo is not None:
        return cast(Held | None, memo["reservations"].get(uniqueid))
    held = reservation_for(session, uniqueid)
    return None if held is None else Held(held.id, held.account_id, held.trunk_id)


def forget_held(session: Session, uniqueid: str) -> None:
    """Inside `batch`: the channel's reservation is being closed, so `held_for` no longer
    answers it (a ring group's second CDR must not settle it again). Outside it:
    nothing (the closed reservation is no longer open to `reservation_for`)."""
    memo = session.info.get(_MEMO)
    if memo is not None:
        memo["reservations"].pop(uniqueid, None)


def reservation_for(session: Session, uniqueid: str) -> Reservation | None:
    """The newest customer-level reservation of this channel not yet tied to a CDR."""
    return session.scalars(
        _open_reservations()
        .where(Reservation.uniqueid == uniqueid)
        .order_by(None)
        .order_by(Reservation.id.desc())
        .limit(1)
    ).first()
