"""Expiry of reservations that no CDR settled (a lost CDR, a crashed switch).

A reservation expires `EXPIRY_MARGIN` after the seconds it holds have run out
(`expires_at`: the end of its slice, moved on by each extension). Authorize expires the
overdue reservations of the account and its resellers before it counts their money; the
AMI listener expires everybody's every `expire_interval` s (no cron needed), and so does
`siptar reservations expire`. `expire_due` takes the time as a parameter, so a job
worker can run it too. `release_gone` closes at once the reservations of channels
Asterisk no longer has. Spyne-free.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from db.schema import Reservation
from db.session import UnitOfWork
from services.bundles import holds as bundle_holds

logger = logging.getLogger(__name__)

# Ring time before the answer plus the delay of the CDR itself.
EXPIRY_MARGIN = timedelta(minutes=10)


def expire_due(session: Session, now: datetime, account_ids: list[int] | None = None) -> int:
    """Mark open reservations past their expiry as expired; returns how many calls'
    (customer-level) reservations that was. Rows being settled at this moment (locked)
    are skipped, not waited for."""
    query = select(Reservation.id, Reservation.parent_id).where(
        Reservation.status == "open", Reservation.expires_at <= now
    )
    if account_ids is not None:
        query = query.where(Reservation.account_id.in_(account_ids))
    rows = session.execute(query.with_for_update(skip_locked=True)).all()
    if not rows:
        return 0
    ids = [r.id for r in rows]
    session.execute(update(Reservation).where(Reservation.id.in_(ids)).values(status="expired"))
    bundle_holds.release(session, ids)  # an expired call's bundle units go back (docs/bundles.md)
    calls = sum(1 for r in rows if r.parent_id is None)
    logger.info("expired the reservations of %d calls", calls)
    return calls


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
    released = 0
    for start in range(0, len(wanted), 500):
        rows = session.execute(
            select(Reservation.id)
            .where(
                Reservation.uniqueid.in_(wanted[start : start + 500]),
                Reservation.status == "open",
                Reservation.parent_id.is_(None),
                Reservation.cdr_id.is_(None),
            )
            .with_for_update(skip_locked=True)
        ).all()
        ids = [r.id for r in rows]
        if not ids:
            continue
        session.execute(
            update(Reservation)
            .where(
                or_(Reservation.id.in_(ids), Reservation.parent_id.in_(ids)),
                Reservation.status == "open",
            )
            .values(status="released")
        )
        bundle_holds.release(session, ids)  # its bundle units go back (docs/bundles.md)
        released += len(ids)
    if released:
        logger.info("released the reservations of %d call(s) whose channel is gone", released)
    return released
