"""Low-balance alerts, checked in the transaction that moves the balance (db/ledger).

Two set-based UPDATEs per call, whatever the number of accounts: alerts whose
threshold the balance is now below are disarmed (each one queues ONE mail, keyed by
its crossing count, in this same transaction), and disarmed alerts whose threshold
the balance is back at or above are re-armed. So a balance staying below sends
nothing more, and a payment lifting it re-arms the alert for the next crossing.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import cast

from sqlalchemy import Table, and_, select, update
from sqlalchemy.orm import Session, aliased

from db import outbox
from db.invoice_schema import AccountProfile
from db.mail_schema import BalanceAlert
from db.schema import Account

ALERTS = cast(Table, BalanceAlert.__table__)


def _balance() -> object:
    return select(Account.balance).where(Account.id == ALERTS.c.account_id).scalar_subquery()


# Ids per statement: SQLite allows 32,766 bound values, and a PIN lot moves 100,000.
CHUNK = 1000


def check(session: Session, account_ids: Collection[int]) -> None:
    if not session.execute(select(ALERTS.c.id).limit(1)).first():
        return  # no alert anywhere: one cheap query, not one per chunk
    ids = sorted(set(account_ids))
    for start in range(0, len(ids), CHUNK):
        _check(session, ids[start : start + CHUNK])


def _check(session: Session, ids: list[int]) -> None:
    crossed = session.execute(
        update(ALERTS)
        .where(ALERTS.c.armed, ALERTS.c.account_id.in_(ids), ALERTS.c.threshold > _balance())
        .values(armed=False, crossings=ALERTS.c.crossings + 1)
        .returning(ALERTS.c.id, ALERTS.c.account_id, ALERTS.c.threshold, ALERTS.c.crossings)
    ).all()
    session.execute(
        update(ALERTS)
        .where(~ALERTS.c.armed, ALERTS.c.account_id.in_(ids), ALERTS.c.threshold <= _balance())
        .values(armed=True)
    )
    for alert_id, account_id, threshold, crossings in crossed:
        _mail(session, alert_id, account_id, threshold, crossings)


def _mail(session: Session, alert_id: int, account_id: int, threshold: object, n: int) -> None:
    parent = aliased(Account)
    row = session.execute(
        select(Account.name, Account.balance, Account.currency, AccountProfile.email, parent)
        .join(AccountProfile, AccountProfile.account_id == Account.id)
        .outerjoin(parent, parent.id == Account.parent_id)
        .where(and_(Account.id == account_id, AccountProfile.email != ""))
    ).first()
    if row is None:
        return  # nowhere to send it: the alert still disarms
    name, balance, currency, email, above = row
    # White label: the mail comes from the account's parent, under the parent's name.
    brand = (above.company_name or above.name) if above is not None else ""
    outbox.queue(
        session,
        f"alert:{alert_id}:{n}",
        email,
        f"Low balance: {name} is below {threshold} {currency}",
        f"Dear {name},\n\nyour balance is {balance} {currency}, below the {threshold} "
        f"{currency} you asked to be told about.\n\n{brand}\n",
        from_name=brand,
    )
