"""The one total order in which account rows are locked by credit control.

Deepest first (the longest path), then by id. Authorize locks a chain customer-first up
the tree, which is this order restricted to one chain, so a writer that locks any set of
accounts in this order (the slice extension, expiry, release) never waits on an
Authorize in a cycle. Spyne-free.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.schema import Account


def lock_accounts(session: Session, ids: Iterable[int]) -> dict[int, Account]:
    """The accounts, locked in the order above and reloaded, by id."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    accounts = session.scalars(
        select(Account)
        .where(Account.id.in_(wanted))
        .order_by(func.length(Account.path).desc(), Account.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()
    return {a.id: a for a in accounts}
