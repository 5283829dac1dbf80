"""Expiry of reservations that no CDR settled (a lost CDR, a crashed switch).

A reservation expires a margin (the setting credit.expiry_margin_seconds, default
`EXPIRY_MARGIN`) after the seconds it holds have run out
(`expires_at`: the end of its slice, moved on by each extension). Authorize expires the
overdue reservations of the account and its resellers before it counts their money; the
AMI listener expires everybody's every `expire_interval` s (no cron needed), and so does
`siptar reservations expire`. `expire_due` takes the time as a parameter, so a job
worker can run it too. `release_gone` closes at once the reservations of channels
Asterisk no longer has.

Both keep `accounts.reserved` and `trunks.open_calls` (services/credit/holds.py) in the
one lock order: the accounts of the rows first (all at once, deepest first), then the
rows (those being settled at this moment are skipped, not waited for), then the trunks.
Spyne-free.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, or_, select, update
from sqlalchemy.orm import Session

from db.schema import Reservation
from db.session import UnitOfWork
from services.bundles import holds as bundle_holds
from services.credit.holds import ROW, Closed, add_open_calls, lock_accounts, row_locks
from services.credit.policy import DEFAULT_EXPIRY_MARGIN_SECONDS, MAX_EXPIRY_MARGIN_SECONDS

logger = logging.getLogger(__name__)

# Ring time before the answer plus the delay of the CDR itself.
EXPIRY_MARGIN = timedelta(seconds=DEFAULT_EXPIRY_MARGIN_SECONDS)  # the default
# Reservations made under a larger margin setting expire later: whatever narrows on
# expires_at to find reservations whose seconds ran out must look this far ahead.
LONGEST_MARGIN = timedelta(seconds=MAX_EXPIRY_MARGIN_SECONDS)


def expire_due(
    session: Session,
    now: datetime,
    account_ids: list[int] | None = None,
    *,
    trunks: Counter[int] | None = None,
    held: dict[int, Decimal] | None = None,
) -> int:
    """Mark open reservations past their expiry as expired; returns how many calls'
    (customer-level) reservations that was. Rows being settled at this moment (locked)
    are skipped, not waited for. `account_ids`: only theirs, and the caller holds their
    locks (Authorize's chain); else every account's, locked here. `trunks`: the trunks'
    part is added there for the caller to apply with its own trunk changes, in id order
    (else it is applied here). `held`: accounts' `reserved` as the caller read them
    (Authorize's chain, plain rows that nothing refreshes), less what expired here."""
    due = (Reservation.status == "open", Reservation.expires_at <= now)
    if account_ids is not None or not row_locks(session):  # no accounts to lock first
        mine = () if account_ids is None else (Reservation.account_id.in_(account_ids),)
        rows = _close(session, (*due, *mine), "expired", trunks)
    else:
        # Unlocked first, for the accounts to lock: then the rows, read again under them.
        owners = list(session.scalars(select(Reservation.account_id).where(*due).distinct()))
        if not owners:
            return 0
        lock_accounts(session, owners)
        rows = _close(session, (*due, Reservation.account_id.in_(owners)), "expired", trunks)
    if held is not None:
        for r in rows:
            if r.account_id in held:
                held[r.account_id] -= r.amount
    calls = sum(1 for r in rows if r.parent_id is None)
    if calls:
        logger.info("expired the reservations of %d calls", calls)
    return calls


def _close(
    session: Session,
    where: tuple[ColumnElement[bool], ...],
    status: str,
    trunks: Counter[int] | None,
) -> Sequence[Any]:
    """Set `status` on the open rows matching `where` (skipping locked ones), and take
    what they held off their accounts and trunks. The accounts' locks are held."""
    rows = session.execute(
        select(*ROW).where(Reservation.status == "open", *where).with_for_update(skip_locked=True)
    ).all()
    if not rows:
        return []
    ids = {r.id for r in rows}
    ordered = sorted(ids)
    for start in range(0, len(ordered), 1000):
        session.execute(
            update(Reservation)
            .where(Reservation.id.in_(ordered[start : start + 1000]))
            .values(status=status)
            .execution_options(synchronize_session=False)
        )
    bundle_holds.release(session, ordered)  # their bundle units go back (docs/bundles.md)
    closed = Closed()
    for r in rows:
        closed.row(r.account_id, r.amount, r.parent_id, r.trunk_id)
    closed.apply(session, trunks=trunks is None)
    if trunks is not None:
        trunks.update(closed.calls)
    for obj in list(session.identity_map.values()):
        if isinstance(obj, Reservation) and obj.id in ids:
            session.expire(obj, ["status"])
    return rows


def _of_calls(ids: list[int]) -> ColumnElement[bool]:
    """The rows of these calls: the customer's and its resellers'."""
    return or_(Reservation.id.in_(ids), Reservation.parent_id.in_(ids))


def expire_reservations(uow: UnitOfWork, now: datetime | None = None) -> int:
    """Expire every overdue reservation (`siptar reservations expire`)."""
    count = expire_due(uow.session, now or datetime.now(UTC))
    uow.commit()
    return count


def release_gone(session: Session, uniqueids: Iterable[str]) -> int:
    """Release the open reservations of channels Asterisk no longer has and whose CDR
    has not come (the AMI listener, after a channel check or a minute after a Hangup):
    a crashed listener never keeps an account from calling. A CDR that comes later still
    settles them (services/credit/settlement.py). Returns how many calls' reservations
    were released; rows being settled at this moment (locked) are skipped."""
    wanted = sorted({u for u in uniqueids if u})
    ids: list[int] = []
    for start in range(0, len(wanted), 500):
        ids += session.scalars(
            select(Reservation.id).where(
                Reservation.uniqueid.in_(wanted[start : start + 500]),
                Reservation.status == "open",
                Reservation.parent_id.is_(None),
                Reservation.cdr_id.is_(None),
            )
        ).all()
    released = release_calls(session, ids)
    if released:
        logger.info("released the reservations of %d call(s) whose channel is gone", released)
    return released


def release_calls(session: Session, ids: Sequence[int]) -> int:
    """Release the open reservations of these calls (customer-level reservation ids) and
    of their resellers' levels, taking what they held off the accounts and trunks (in
    the one lock order) unless a CDR settled them first. Returns how many calls'
    reservations were released; rows being settled at this moment are skipped."""
    ids = list(ids)
    owners: set[int] = set()
    for start in range(0, len(ids) if row_locks(session) else 0, 500):
        owners.update(
            session.scalars(
                select(Reservation.account_id)
                .where(_of_calls(ids[start : start + 500]), Reservation.status == "open")
                .distinct()
            )
        )
    lock_accounts(session, owners)  # all at once, before any row or trunk
    freed: Counter[int] = Counter()
    released = 0
    for start in range(0, len(ids), 500):
        # Read again under the accounts' locks: a CDR may have settled some meanwhile.
        where = (_of_calls(ids[start : start + 500]), Reservation.cdr_id.is_(None))
        rows = _close(session, where, "released", freed)
        released += sum(1 for r in rows if r.parent_id is None)
    add_open_calls(session, freed)
    return released
