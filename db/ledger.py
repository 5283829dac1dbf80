"""The only way a balance changes: one SQL update and one ledger row, one transaction.

The balance is moved by `UPDATE ... SET balance = balance + :amount` (never read,
changed in Python and written back), so concurrent writers can't lose an update.
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from db.schema import Account, LedgerEntry

KINDS = ("payment", "call", "recurring", "refund", "adjustment")


def post(
    session: Session,
    account_id: int,
    kind: str,
    amount: Decimal,
    *,
    reference: str = "",
    cdr_id: int | None = None,
    login_id: int | None = None,
) -> LedgerEntry:
    """Add `amount` (signed: negative for a charge) to the account's balance and record it.

    The caller commits; until then neither the balance nor the row is visible.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown ledger kind {kind!r}")
    balance_after = session.execute(
        update(Account)
        .where(Account.id == account_id)
        .values(balance=Account.balance + amount)
        .returning(Account.balance)
    ).scalar_one()
    entry = LedgerEntry(
        account_id=account_id,
        kind=kind,
        amount=amount,
        balance_after=balance_after,
        reference=reference,
        cdr_id=cdr_id,
        login_id=login_id,
    )
    session.add(entry)
    # Keep an already loaded Account object in step with the database.
    loaded = session.identity_map.get(identity_key(Account, account_id))
    if loaded is not None:
        session.expire(loaded, ["balance"])
    return entry


def ledger_sum(session: Session, account_id: int) -> Decimal:
    total = session.execute(
        select(func.coalesce(func.sum(LedgerEntry.amount), 0)).where(
            LedgerEntry.account_id == account_id
        )
    ).scalar_one()
    return Decimal(total)
