"""Expiry of reservations that no CDR settled (a lost CDR, a crashed switch).

A reservation expires `EXPIRY_MARGIN` after its call could have ended at the latest
(created_at + max_seconds). Authorize expires the overdue reservations of the account
and its resellers before it counts their money; `siptar reservations expire` (cron)
expires everybody's. Spyne-free.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from db.schema import Reservation
from db.session import UnitOfWork

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
    calls = sum(1 for r in rows if r.parent_id is None)
    logger.info("expired the reservations of %d calls", calls)
    return calls


def expire_reservations(uow: UnitOfWork, now: datetime | None = None) -> int:
    """Expire every overdue reservation (`siptar reservations expire`)."""
    count = expire_due(uow.session, now or datetime.now(UTC))
    uow.commit()
    return count
